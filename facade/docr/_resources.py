"""What the registry operations return: ``Repository``, ``Tag``, ``Registry``, ``Subscription``,
``GarbageCollection`` and ``DockerCredentials``.

Each is a frozen value built once from the generated model the API's answer was parsed into
(strictly, by ``docr_api``): absent and ``null`` fields are ``None``, never the generator's
``UNSET``, and unknown keys are kept in ``extra``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from docr._models import Manifest
from docr._secrets import Secret

__all__ = [
    "FINISHED_STATUSES",
    "DockerCredentials",
    "GarbageCollection",
    "Registry",
    "Repository",
    "Subscription",
    "Tag",
]

T = TypeVar("T")

# Statuses after which a garbage collection changes no more (the API has sent undocumented
# ones too: those are kept as strings and treated as still running).
FINISHED_STATUSES: Final = frozenset({"succeeded", "failed", "cancelled"})


def _opt(value: T | Any) -> T | None:
    from docr_api.types import Unset

    return None if isinstance(value, Unset) else value


def _aware(value: Any) -> dt.datetime | None:
    when: dt.datetime | None = _opt(value)
    if when is None:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _extra(model: Any) -> dict[str, Any]:
    return dict(getattr(model, "additional_properties", {}) or {})


def _iso(when: dt.datetime | None) -> str | None:
    """``2026-04-09T23:54:25Z`` as the API writes it, or None."""
    return None if when is None else when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Repository:
    """A repository of a registry, with live counts (``iter_repositories``)."""

    name: str | None
    registry_name: str | None = None
    tag_count: int | None = None
    manifest_count: int | None = None
    latest_manifest: Manifest | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_model(cls, model: Any) -> Repository:
        latest = _opt(model.latest_manifest)
        return cls(
            name=_opt(model.name),
            registry_name=_opt(model.registry_name),
            tag_count=_opt(model.tag_count),
            manifest_count=_opt(model.manifest_count),
            latest_manifest=None if latest is None else Manifest(latest.to_dict()),
            extra=_extra(model),
        )

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON object (dates in ISO 8601; keys docr does not know included)."""
        latest = self.latest_manifest
        return {
            "registry_name": self.registry_name,
            "name": self.name,
            "latest_manifest": None if latest is None else latest.to_dict(),
            "tag_count": self.tag_count,
            "manifest_count": self.manifest_count,
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag of a repository and the manifest it names (``iter_tags``)."""

    tag: str | None
    manifest_digest: str | None = None
    compressed_size_bytes: int | None = None
    size_bytes: int | None = None
    updated_at: dt.datetime | None = None
    registry_name: str | None = None
    repository: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_model(cls, model: Any) -> Tag:
        return cls(
            tag=_opt(model.tag),
            manifest_digest=_opt(model.manifest_digest),
            compressed_size_bytes=_opt(model.compressed_size_bytes),
            size_bytes=_opt(model.size_bytes),
            updated_at=_aware(model.updated_at),
            registry_name=_opt(model.registry_name),
            repository=_opt(model.repository),
            extra=_extra(model),
        )

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON object (dates in ISO 8601; keys docr does not know included)."""
        return {
            "registry_name": self.registry_name,
            "repository": self.repository,
            "tag": self.tag,
            "manifest_digest": self.manifest_digest,
            "compressed_size_bytes": self.compressed_size_bytes,
            "size_bytes": self.size_bytes,
            "updated_at": _iso(self.updated_at),
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class Registry:
    """A registry and the storage it uses (``get_registry``)."""

    name: str | None
    region: str | None = None
    created_at: dt.datetime | None = None
    storage_usage_bytes: int | None = None
    storage_usage_updated_at: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_model(cls, model: Any) -> Registry:
        return cls(
            name=_opt(model.name),
            region=_opt(model.region),
            created_at=_aware(model.created_at),
            storage_usage_bytes=_opt(model.storage_usage_bytes),
            storage_usage_updated_at=_aware(model.storage_usage_bytes_updated_at),
            extra=_extra(model),
        )

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON object (dates in ISO 8601; keys docr does not know included)."""
        return {
            "name": self.name,
            "region": self.region,
            "created_at": _iso(self.created_at),
            "storage_usage_bytes": self.storage_usage_bytes,
            "storage_usage_bytes_updated_at": _iso(self.storage_usage_updated_at),
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class Subscription:
    """The account's registry plan (``get_subscription``): what storage it includes and costs."""

    tier: str | None
    tier_name: str | None = None
    included_storage_bytes: int | None = None
    allow_storage_overage: bool | None = None
    included_repositories: int | None = None
    included_bandwidth_bytes: int | None = None
    monthly_price_in_cents: int | None = None
    storage_overage_price_in_cents: int | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @classmethod
    def from_model(cls, model: Any) -> Subscription:
        tier = _opt(model.tier)

        def of_tier(name: str) -> Any:
            return None if tier is None else _opt(getattr(tier, name))

        return cls(
            tier=of_tier("slug"),
            tier_name=of_tier("name"),
            included_storage_bytes=of_tier("included_storage_bytes"),
            allow_storage_overage=of_tier("allow_storage_overage"),
            included_repositories=of_tier("included_repositories"),
            included_bandwidth_bytes=of_tier("included_bandwidth_bytes"),
            monthly_price_in_cents=of_tier("monthly_price_in_cents"),
            storage_overage_price_in_cents=of_tier("storage_overage_price_in_cents"),
            created_at=_aware(model.created_at),
            updated_at=_aware(model.updated_at),
        )

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON object, its ``tier`` nested as the API sends it (dates in ISO 8601)."""
        return {
            "tier": {
                "name": self.tier_name,
                "slug": self.tier,
                "included_repositories": self.included_repositories,
                "included_storage_bytes": self.included_storage_bytes,
                "allow_storage_overage": self.allow_storage_overage,
                "included_bandwidth_bytes": self.included_bandwidth_bytes,
                "monthly_price_in_cents": self.monthly_price_in_cents,
                "storage_overage_price_in_cents": self.storage_overage_price_in_cents,
            },
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class GarbageCollection:
    """One garbage collection of a registry.

    ``status`` is kept as the API sent it: the documented ones are ``requested``, ``waiting for
    write JWTs to expire``, ``scanning manifests``, ``deleting unreferenced blobs``,
    ``cancelling``, ``failed``, ``succeeded`` and ``cancelled``; others are not an error.
    """

    uuid: str | None
    status: str | None = None
    registry_name: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    blobs_deleted: int | None = None
    freed_bytes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def finished(self) -> bool:
        """Whether it has ended (succeeded, failed or cancelled)."""
        return self.status in FINISHED_STATUSES

    @classmethod
    def from_model(cls, model: Any) -> GarbageCollection:
        return cls(
            uuid=_opt(model.uuid),
            status=_opt(model.status),
            registry_name=_opt(model.registry_name),
            created_at=_aware(model.created_at),
            updated_at=_aware(model.updated_at),
            blobs_deleted=_opt(model.blobs_deleted),
            freed_bytes=_opt(model.freed_bytes),
            extra=_extra(model),
        )

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON object (dates in ISO 8601; keys docr does not know, such as ``type``, included)."""
        return {
            "uuid": self.uuid,
            "registry_name": self.registry_name,
            "status": self.status,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "blobs_deleted": self.blobs_deleted,
            "freed_bytes": self.freed_bytes,
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class DockerCredentials:
    """Short-lived credentials for the registry itself (``registry.digitalocean.com``).

    ``username`` and ``password`` are ``Secret``s (DigitalOcean issues a token as both): they never
    show in ``repr``, logs or errors, and no frame of docr holds them bare.
    """

    host: str
    username: Secret = field(repr=False)
    password: Secret = field(repr=False)

    @classmethod
    def from_auth(cls, host: str, auth: Secret) -> DockerCredentials:
        """Decode a Docker config ``auth`` value (base64 of ``user:password``)."""
        try:
            pair = Secret(base64.b64decode(auth.reveal(), validate=True).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValueError("auths: the credentials are not base64 of user:password") from None
        if ":" not in pair.reveal():
            raise ValueError("auths: the credentials are not base64 of user:password")
        return cls(
            host=host,
            username=Secret(pair.reveal().partition(":")[0]),
            password=Secret(pair.reveal().partition(":")[2]),
        )

    def basic(self) -> Secret:
        """The ``Authorization`` header value for HTTP basic auth, as a ``Secret``."""
        return Secret(
            "Basic " + base64.b64encode(f"{self.username.reveal()}:{self.password.reveal()}".encode()).decode("ascii")
        )
