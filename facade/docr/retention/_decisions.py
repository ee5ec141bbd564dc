"""``Decision`` (one manifest: kept or deleted, and why) and ``Decisions`` (a repository's, with the bytes).

Bytes: ``Decisions.freed_bytes`` counts the compressed size of each blob that only deletion
candidates reference, once: what garbage collection frees after the whole plan is applied. A
blob that any kept manifest (or another repository, when the caller says so) references frees
nothing. Beside it, ``naive_bytes`` is the sum of the candidates' ``compressed_size_bytes``, the
figure tools that ignore sharing report. Per candidate, ``freed_bytes_of`` counts its blobs that
only candidates reference and ``unique_bytes_of`` those that it alone references. These always hold::

    sum(unique_bytes_of(c)) <= freed_bytes <= sum(freed_bytes_of(c)) <= sum of the candidates' blob sizes

and ``freed_bytes <= naive_bytes`` whenever each manifest's ``compressed_size_bytes`` is at least
the sum of its blobs' sizes (as DigitalOcean reports them). Manifest bodies themselves (a few KB)
are not counted, and blobs of unknown size count as 0.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Literal

__all__ = ["DELETE_RULES", "FAIL_CLOSED_NOTE", "GRAPH_RULES", "KEEP_RULES", "Decision", "Decisions", "Rule"]

Rule = Literal[
    # kept by the policy itself
    "keep-tag",
    "keep-last",
    "grace",
    "age-unknown",
    "tagged-default",
    "untagged-keep",
    "fail-closed",
    # kept or deleted through the index graph (the action says which)
    "index-child",
    "attestation",
    "referrer",
    # deleted by the policy itself
    "untagged",
    "tagged-older",
]
KEEP_RULES = frozenset(
    {"keep-tag", "keep-last", "grace", "age-unknown", "tagged-default", "untagged-keep", "fail-closed"}
)
GRAPH_RULES = frozenset({"index-child", "attestation", "referrer"})
DELETE_RULES = frozenset({"untagged", "tagged-older"})
FAIL_CLOSED_NOTE = "fail closed:"


@dataclass(frozen=True)
class Decision:
    """What happens to one manifest, and why.

    ``rule`` is a stable code (see ``Rule``), ``reason`` the sentence for people (``keep-tag
    latest``, ``child of kept index sha256:...``), ``via`` for a graph rule the digest of the
    manifest whose reference decided it (the index, the subject). ``tags`` and ``updated_at`` are
    as listed when planning (apply re-checks them). For a candidate, ``blobs`` are the digests of
    its blobs that only candidates reference.
    """

    digest: str
    delete: bool
    rule: Rule
    reason: str
    via: str | None = None
    tags: tuple[str, ...] = ()
    updated_at: dt.datetime | None = None
    compressed_size_bytes: int | None = None
    blobs: tuple[str, ...] = ()

    @property
    def protected(self) -> bool:
        """Kept only because a kept index lists it or a kept subject is named by it."""
        return not self.delete and self.rule in GRAPH_RULES


@dataclass(frozen=True)
class Decisions:
    """Every manifest of a repository, kept or deleted; ``candidates`` in the order to delete them.

    The order deletes a manifest before any manifest it references (an index before its
    children, a referrer before its subject), so a run stopped halfway never leaves an index
    pointing at a deleted child.
    """

    kept: tuple[Decision, ...]
    candidates: tuple[Decision, ...]
    blob_sizes: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "blob_sizes", MappingProxyType(dict(self.blob_sizes)))

    @property
    def fail_closed(self) -> bool:
        """Whether untagged manifests were kept because some manifest could not be read."""
        return any(note.startswith(FAIL_CLOSED_NOTE) for note in self.notes)

    @property
    def protected(self) -> int:
        """How many manifests are kept only because of the index graph (what naive tools would delete)."""
        return sum(decision.protected for decision in self.kept)

    @property
    def freed_bytes(self) -> int:
        return sum(self.blob_sizes.values())

    @property
    def naive_bytes(self) -> int:
        return sum(candidate.compressed_size_bytes or 0 for candidate in self.candidates)

    def candidate(self, digest: str) -> Decision | None:
        return self._by_digest.get(digest)

    def freed_bytes_of(self, digest: str) -> int:
        """Bytes of ``digest``'s blobs that only candidates reference (freed when the whole plan is applied)."""
        found = self.candidate(digest)
        return sum(self.blob_sizes.get(blob, 0) for blob in found.blobs) if found else 0

    def unique_bytes_of(self, digest: str) -> int:
        """Bytes of ``digest``'s blobs that no other manifest references (freed by deleting it alone)."""
        found = self.candidate(digest)
        if found is None:
            return 0
        return sum(self.blob_sizes.get(blob, 0) for blob in found.blobs if self._blob_counts[blob] == 1)

    def expected_freed_bytes(self, deleted: Collection[str], also_gone: Collection[str] = ()) -> int:
        """Bytes freed once ``deleted`` are deleted (``also_gone`` were already gone): blobs of
        the deleted that every candidate referencing them is gone."""
        deleted = set(deleted)
        gone = deleted | set(also_gone)
        mentioned = {blob for c in self.candidates if c.digest in deleted for blob in c.blobs}
        holders: dict[str, set[str]] = {}
        for c in self.candidates:
            for blob in c.blobs:
                holders.setdefault(blob, set()).add(c.digest)
        return sum(self.blob_sizes.get(blob, 0) for blob in mentioned if holders[blob] <= gone)

    # Computed once: plans of thousands of candidates ask these for every candidate.
    @cached_property
    def _by_digest(self) -> dict[str, Decision]:
        return {c.digest: c for c in self.candidates}

    @cached_property
    def _blob_counts(self) -> Counter[str]:
        return Counter(blob for c in self.candidates for blob in c.blobs)
