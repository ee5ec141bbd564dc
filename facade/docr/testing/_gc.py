"""Garbage collections: how one moves through its statuses over time, and what it frees.

A collection's status is a function of time, computed when someone looks (no thread runs it):
it spends `step` seconds in each of its active statuses, by default upstream's

    requested -> waiting for write JWTs to expire -> scanning manifests -> deleting unreferenced blobs

and then ends `succeeded` (or `failed`, when the fake is told to fail them). A cancel moves it
to `cancelling` for one step, then `cancelled`; a cancelled or failed collection frees nothing.
What a successful one frees is decided and applied at the moment it ends (`plan`):

- with an "untagged manifests" type: every untagged manifest that no remaining image index
  lists (an untagged index goes, and then its untagged children with it; a tagged index keeps
  its children, as buildx's multi-arch images need). A referrer (a manifest with a `subject`,
  a signature or an SBOM) is not kept by its subject: untagged, it goes, as distribution's GC;
- with an "unreferenced blobs" type: every blob the registry holds that no remaining manifest
  names. `blobs_deleted` and `freed_bytes` count those blobs (manifest documents themselves are
  not counted: the fake's storage is its config and layer blobs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from docr.testing._clock import iso

__all__ = [
    "ACTIVE_STATUSES",
    "GC_TYPES",
    "TERMINAL_STATUSES",
    "Collection",
    "plan_manifests",
]

ACTIVE_STATUSES: Final = (
    "requested",
    "waiting for write JWTs to expire",
    "scanning manifests",
    "deleting unreferenced blobs",
)
TERMINAL_STATUSES: Final = frozenset({"succeeded", "failed", "cancelled"})
UNTAGGED_ONLY: Final = "untagged manifests only"
BLOBS_ONLY: Final = "unreferenced blobs only"
BOTH: Final = "untagged manifests and unreferenced blobs"
GC_TYPES: Final = (UNTAGGED_ONLY, BLOBS_ONLY, BOTH)
# What POST without a body starts: the behaviour before GC types existed (doctl#922).
DEFAULT_TYPE: Final = BLOBS_ONLY


@dataclass
class Collection:
    """One garbage collection, with the knobs it started with (changing them later does not touch it)."""

    uuid: str
    registry: str
    type: str
    created_at: float
    step: float
    statuses: tuple[str, ...]
    outcome: str  # "succeeded" or "failed"
    cancelled_at: float | None = None
    applied: bool = False
    blobs_deleted: int = 0
    freed_bytes: int = 0

    @property
    def ends_at(self) -> float:
        return self.created_at + self.step * len(self.statuses)

    @property
    def deletes_manifests(self) -> bool:
        return self.type in (UNTAGGED_ONLY, BOTH)

    @property
    def deletes_blobs(self) -> bool:
        return self.type in (BLOBS_ONLY, BOTH)

    def status_at(self, now: float) -> tuple[str, float]:
        """(status, when it began) at `now`."""
        if self.cancelled_at is not None:
            done = self.cancelled_at + self.step
            return ("cancelled", done) if now >= done else ("cancelling", self.cancelled_at)
        if now >= self.ends_at:
            return self.outcome, self.ends_at
        index = int((now - self.created_at) // self.step) if self.step > 0 else 0
        index = max(0, min(index, len(self.statuses) - 1))
        return self.statuses[index], self.created_at + index * self.step

    def active_at(self, now: float) -> bool:
        return self.status_at(now)[0] not in TERMINAL_STATUSES

    def body(self, now: float) -> dict[str, Any]:
        status, since = self.status_at(now)
        return {
            "uuid": self.uuid,
            "registry_name": self.registry,
            "status": status,
            # Not in upstream's schema, which allows more properties: godo's struct carries it.
            "type": self.type,
            "created_at": iso(self.created_at),
            "updated_at": iso(since),
            "blobs_deleted": self.blobs_deleted,
            "freed_bytes": self.freed_bytes,
        }


def plan_manifests(
    untagged: Mapping[str, set[str]], children: Callable[[str, str], Iterable[str]], tagged: Mapping[str, set[str]]
) -> dict[str, set[str]]:
    """Per repository, the untagged manifests no remaining index lists (see the module docstring).

    `children(repository, digest)` is what an index lists (nothing for an image). Kept: the
    tagged manifests and, transitively, everything a kept index lists.
    """
    doomed: dict[str, set[str]] = {}
    for repository, candidates in untagged.items():
        kept: set[str] = set()
        stack = list(tagged.get(repository, ()))
        while stack:
            digest = stack.pop()
            if digest in kept:
                continue
            kept.add(digest)
            stack.extend(children(repository, digest))
        gone = candidates - kept
        if gone:
            doomed[repository] = gone
    return doomed
