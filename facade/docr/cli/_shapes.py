"""How repositories, tags, garbage collections, a registry and a plan print (``_records.Shape``),
and their JSON objects.

The JSON objects are the API's, field for field (``docr``'s models keep unknown keys in
``extra``, which come back too); times as the API writes them, UTC ISO 8601 with ``Z``. A
field the API left out is ``null``, so a script's ``jq`` path never fails on a missing key.

Standard library only; ``now`` (for ages) comes from the command.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from docr.cli._humanize import UNKNOWN, human_age, human_size, iso_time, short_digest
from docr.cli._records import Column, Shape

if TYPE_CHECKING:
    from docr import GarbageCollection, Registry, Repository, Subscription, Tag

__all__ = [
    "UNTAGGED",
    "gc_dict",
    "gc_shape",
    "gc_type",
    "registry_dict",
    "repository_dict",
    "repository_shape",
    "subscription_dict",
    "tag_dict",
    "tag_shape",
]

UNTAGGED = "<none>"


def _iso(when: dt.datetime | None) -> str | None:
    return iso_time(when) or None


def _number(value: int | None) -> str:
    return UNKNOWN if value is None else f"{value:,}"


# -- repositories -----------------------------------------------------------------------------------


def repository_dict(repository: Repository) -> dict[str, Any]:
    return repository.to_dict()  # the library's, as the API writes it


def repository_shape(now: dt.datetime) -> Shape[Repository]:
    def latest_push(repository: Repository) -> str:
        latest = repository.latest_manifest
        return human_age(latest.updated_at if latest is not None else None, now)

    def latest_tags(repository: Repository) -> str:
        latest = repository.latest_manifest
        if latest is None:
            return UNKNOWN
        return ", ".join(latest.tags) or UNTAGGED

    def csv_row(repository: Repository) -> tuple[object, ...]:
        latest = repository.latest_manifest
        return (
            repository.name,
            repository.manifest_count,
            repository.tag_count,
            latest.digest if latest is not None else None,
            iso_time(latest.updated_at) if latest is not None else None,
            ";".join(latest.tags) if latest is not None else None,
        )

    return Shape(
        singular="repository",
        plural="repositories",
        columns=(
            Column("Name", lambda r: r.name or UNKNOWN, style="cyan"),
            Column("Manifests", lambda r: _number(r.manifest_count), right=True),
            Column("Tags", lambda r: _number(r.tag_count), right=True),
            Column("Latest Push", latest_push),
            Column("Latest Tags", latest_tags, fold=True),
        ),
        to_dict=repository_dict,
        csv_fields=("name", "manifest_count", "tag_count", "latest_digest", "latest_updated_at", "latest_tags"),
        csv_row=csv_row,
        key=lambda repository: repository.name,
    )


# -- tags -------------------------------------------------------------------------------------------


def tag_dict(tag: Tag) -> dict[str, Any]:
    return tag.to_dict()  # the library's, as the API writes it


def tag_shape(now: dt.datetime, *, full_digest: bool = False) -> Shape[Tag]:
    return Shape(
        singular="tag",
        plural="tags",
        columns=(
            Column("Tag", lambda t: t.tag or UNKNOWN),
            Column("Digest", lambda t: short_digest(t.manifest_digest, full=full_digest), style="cyan"),
            Column("Compressed Size", lambda t: human_size(t.compressed_size_bytes), right=True),
            Column("Updated", lambda t: human_age(t.updated_at, now)),
        ),
        to_dict=tag_dict,
        csv_fields=("tag", "manifest_digest", "compressed_size_bytes", "size_bytes", "updated_at"),
        csv_row=lambda t: (t.tag, t.manifest_digest, t.compressed_size_bytes, t.size_bytes, iso_time(t.updated_at)),
        key=lambda tag: tag.tag,
    )


# -- garbage collections ----------------------------------------------------------------------------


def gc_type(collection: GarbageCollection) -> str | None:
    """The collection's ``type``: not in upstream's schema, but DigitalOcean (and godo) send it."""
    kind = collection.extra.get("type")
    return kind if isinstance(kind, str) else None


def gc_dict(collection: GarbageCollection) -> dict[str, Any]:
    return collection.to_dict()  # the library's, as the API writes it


def gc_shape(now: dt.datetime) -> Shape[GarbageCollection]:
    return Shape(
        singular="garbage collection",
        plural="garbage collections",
        columns=(
            Column("UUID", lambda c: c.uuid or UNKNOWN, style="cyan"),
            Column("Status", lambda c: c.status or UNKNOWN),
            Column("Type", lambda c: gc_type(c) or UNKNOWN, fold=True),
            Column("Started", lambda c: human_age(c.created_at, now)),
            Column("Updated", lambda c: human_age(c.updated_at, now)),
            Column("Blobs Deleted", lambda c: _number(c.blobs_deleted), right=True),
            Column("Freed", lambda c: human_size(c.freed_bytes), right=True),
        ),
        to_dict=gc_dict,
        csv_fields=("uuid", "status", "type", "created_at", "updated_at", "blobs_deleted", "freed_bytes"),
        csv_row=lambda c: (
            c.uuid,
            c.status,
            gc_type(c),
            iso_time(c.created_at),
            iso_time(c.updated_at),
            c.blobs_deleted,
            c.freed_bytes,
        ),
        key=lambda collection: collection.uuid,
        dim=lambda collection: collection.finished,
    )


# -- the registry and its plan ----------------------------------------------------------------------


def registry_dict(registry: Registry) -> dict[str, Any]:
    return registry.to_dict()  # the library's, as the API writes it


def subscription_dict(subscription: Subscription) -> dict[str, Any]:
    return subscription.to_dict()  # the library's, as the API writes it
