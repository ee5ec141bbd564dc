"""What ``docr.usage`` computes of one repository: counts, blob keys, and what a prune frees. No I/O.

``tally`` reads the listing once (counts, each blob's key and size, how many times each is
named); the planner (``docr.retention.decide``) is given the manifests as ``Listed``, without
their blobs, with ``plain_image`` stand-ins for the bodies not read; ``freeable`` turns its
deletion candidates into the blob keys only they name. See ``docr._usage`` for which bodies are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from docr._blob_ledger import blob_key
from docr._errors import DocrError, InvalidArgument
from docr._oci import OCI_MANIFEST, OCIManifest

if TYPE_CHECKING:
    from docr._models import Manifest
    from docr.retention import Decisions, Policy

__all__ = ["Listed", "NotAsked", "decide", "freeable", "plain_image", "policy_source", "tally", "why"]


class NotAsked(DocrError):
    """A body not requested: the registry already refused this job's credentials."""


def tally(manifests: Sequence[Manifest]) -> tuple[tuple[int, int, int, int], dict[int, int], dict[int, int]]:
    """(manifests, tagged, untagged, compressed sum); the blobs, key to size, each once; and how
    many times the listing names each (to tell, later, the blobs only deleted manifests name)."""
    tagged = compressed = 0
    blobs: dict[int, int] = {}
    holders: dict[int, int] = {}
    for manifest in manifests:
        # The checked JSON behind the properties: a walk of 100,000 manifests names ~550,000
        # blobs, and building a Blob for each would double the time this takes.
        data = manifest._data
        if data.get("tags"):
            tagged += 1
        compressed += data.get("compressed_size_bytes") or 0
        for blob in data.get("blobs") or ():
            digest = blob.get("digest")
            if isinstance(digest, str):
                key = blob_key(digest)
                size = blob.get("compressed_size_bytes") or 0
                if size > blobs.get(key, -1):
                    blobs[key] = size
                holders[key] = holders.get(key, 0) + 1
    return (len(manifests), tagged, len(manifests) - tagged, compressed), blobs, holders


class Listed:
    """What the planner reads of a listed manifest, without its blobs (see ``on_repository``)."""

    __slots__ = ("compressed_size_bytes", "digest", "tags", "updated_at")
    blobs: tuple[()] = ()

    def __init__(self, manifest: Manifest) -> None:
        data = manifest._data
        self.digest: str | None = data.get("digest")
        self.tags: list[str] = data.get("tags") or []
        self.updated_at = manifest.updated_at
        self.compressed_size_bytes: int | None = data.get("compressed_size_bytes")


def freeable(manifests: Sequence[Manifest], decisions: Decisions, holders: dict[int, int]) -> set[int]:
    """The keys of the blobs that only the planner's deletion candidates name (``holders``: how
    many times the whole listing names each)."""
    doomed = {candidate.digest for candidate in decisions.candidates}
    if not doomed:
        return set()
    named: dict[int, int] = {}
    for manifest in manifests:
        data = manifest._data
        if data.get("digest") in doomed:
            for blob in data.get("blobs") or ():
                digest = blob.get("digest")
                if isinstance(digest, str):
                    key = blob_key(digest)
                    named[key] = named.get(key, 0) + 1
    return {key for key, count in named.items() if count == holders[key]}


def plain_image(digest: str) -> OCIManifest:
    """A stand-in body: an image manifest naming no other manifest."""
    return OCIManifest(digest=digest, media_type=OCI_MANIFEST)


def decide(
    manifests: Sequence[Listed],
    policy: Policy,
    now: dt.datetime,
    oci: dict[str, OCIManifest],
    unreadable: dict[str, str],
) -> Decisions:
    from docr.retention import decide

    return decide(manifests, policy=policy, now=now, oci=oci, unreadable=unreadable)


def why(error: DocrError) -> str:
    if isinstance(error, NotAsked):
        return str(error)
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}" + (f" ({status})" if status else "")


def policy_source(policy: object) -> Callable[[str], Policy | None]:
    from docr.retention import Policy, PolicyFile

    if policy is None:
        default = Policy()
        return lambda name: default
    if isinstance(policy, Policy):
        return lambda name: policy
    if isinstance(policy, PolicyFile):
        return policy.for_repository
    raise InvalidArgument(
        "policy", f"must be a docr.retention.Policy, a PolicyFile or None, not {type(policy).__name__}"
    )
