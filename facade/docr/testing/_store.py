"""The manifests the fake serves, kept in the order the API lists them.

DOCR lists a repository's manifests newest first. The store keeps each repository's list
sorted on insert and delete (ties broken by digest, so the order is total), which lets a page
request be one slice of at most `per_page` entries instead of a sort or copy of the whole list:
benchmarks walk repositories of 100,000 manifests.

Each manifest is stored as its encoded JSON text. That makes stored data immutable (callers
keep their dicts, the store keeps its own text), makes a page cheap to serialise (a join), and
checks that added manifests are JSON-serialisable when they are added, not when served.
"""

from __future__ import annotations

import bisect
import json
import math
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["ENCODER", "Entry", "ManifestStore", "sort_key"]

# Compact and fast: one encoder reused (json.dumps with custom separators builds a new one per call).
ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

# (negated updated_at in epoch seconds, digest): ascending order of this key is newest first.
SortKey = tuple[float, str]
# (sort key, digest, encoded manifest)
Entry = tuple[SortKey, str, str]

# Past this many changes at once, rebuilding the list beats inserting or deleting one by one.
_BULK = 32


def sort_key(manifest: Mapping[str, Any]) -> SortKey:
    digest = manifest.get("digest")
    if not isinstance(digest, str) or not digest:
        raise ValueError(f"a manifest needs a non-empty string 'digest' (the fake keys on it): {dict(manifest)!r}")
    updated_at = manifest.get("updated_at")
    if updated_at is None:
        # Upstream makes every field optional; a manifest with no date sorts as the oldest.
        return (math.inf, digest)
    if not isinstance(updated_at, str):
        raise ValueError(f"'updated_at' must be an ISO 8601 string, got {updated_at!r}")
    moment = datetime.fromisoformat(updated_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (-moment.timestamp(), digest)


def encode_entry(manifest: Mapping[str, Any]) -> Entry:
    key = sort_key(manifest)
    return (key, key[1], ENCODER.encode(manifest))


class _Repository:
    """One repository's manifests: sorted keys, their encoded texts, and a digest index."""

    __slots__ = ("by_digest", "keys", "texts")

    def __init__(self) -> None:
        self.keys: list[SortKey] = []
        self.texts: list[str] = []
        self.by_digest: dict[str, SortKey] = {}

    def add(self, entries: list[Entry]) -> None:
        # The same digest pushed again is the same manifest updated: it replaces the old one.
        latest: dict[str, Entry] = {}
        for entry in entries:
            latest[entry[1]] = entry
        self.remove([digest for digest in latest if digest in self.by_digest])
        if len(latest) > _BULK:
            merged = sorted(
                [*zip(self.keys, self.texts, strict=True), *((key, text) for key, _, text in latest.values())]
            )
            self.keys = [key for key, _ in merged]
            self.texts = [text for _, text in merged]
        else:
            for key, _, text in latest.values():
                at = bisect.bisect_left(self.keys, key)
                self.keys.insert(at, key)
                self.texts.insert(at, text)
        for key, digest, _ in latest.values():
            self.by_digest[digest] = key

    def remove(self, digests: list[str]) -> None:
        if len(digests) > _BULK:
            gone = {self.by_digest.pop(digest) for digest in digests}
            kept = [(key, text) for key, text in zip(self.keys, self.texts, strict=True) if key not in gone]
            self.keys = [key for key, _ in kept]
            self.texts = [text for _, text in kept]
            return
        for digest in digests:
            at = bisect.bisect_left(self.keys, self.by_digest.pop(digest))
            del self.keys[at]
            del self.texts[at]


class ManifestStore:
    """Registries -> repositories -> manifests, all behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registries: dict[str, dict[str, _Repository]] = {}

    def add(self, registry: str, repository: str, manifests: Iterable[Mapping[str, Any]]) -> None:
        """Add (or replace, by digest) manifests, creating the registry and repository as needed."""
        # Encode outside the lock: it is the slow part and touches no shared state.
        entries = [encode_entry(manifest) for manifest in manifests]
        self.add_entries(registry, repository, entries)

    def add_entries(self, registry: str, repository: str, entries: list[Entry]) -> None:
        _check_names(registry, repository)
        with self._lock:
            repo = self._registries.setdefault(registry, {}).setdefault(repository, _Repository())
            repo.add(entries)

    def delete(self, registry: str, repository: str, digests: Iterable[str]) -> None:
        """Delete manifests by digest; raises KeyError, deleting nothing, if any is unknown."""
        wanted = list(dict.fromkeys(digests))
        with self._lock:
            repo = self._repository(registry, repository)
            missing = [digest for digest in wanted if digest not in repo.by_digest]
            if missing:
                raise KeyError(f"no such manifest in {registry}/{repository}: {', '.join(missing)}")
            repo.remove(wanted)

    def manifests(self, registry: str, repository: str) -> list[dict[str, Any]]:
        with self._lock:
            texts = list(self._repository(registry, repository).texts)
        return [json.loads(text) for text in texts]

    def page(self, registry: str, repository: str, page: int, per_page: int) -> tuple[list[str], int] | None:
        """The encoded manifests of one page and the total, or None for an unknown registry or repository."""
        with self._lock:
            repo = self._registries.get(registry, {}).get(repository)
            if repo is None:
                return None
            start = (page - 1) * per_page
            return repo.texts[start : start + per_page], len(repo.texts)

    def _repository(self, registry: str, repository: str) -> _Repository:
        try:
            return self._registries[registry][repository]
        except KeyError:
            raise KeyError(f"no such repository: {registry}/{repository}") from None


def _check_names(registry: str, repository: str) -> None:
    if not registry or "/" in registry:
        raise ValueError(f"registry name must be non-empty and contain no '/': {registry!r}")
    if not repository or repository.startswith("/") or repository.endswith("/") or "//" in repository:
        raise ValueError(f"repository name must be non-empty path segments joined by '/': {repository!r}")
