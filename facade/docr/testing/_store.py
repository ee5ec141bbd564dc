"""One repository's manifests, kept in the order the API lists them, with their tags and content.

DOCR lists a repository's manifests newest first. A `Repository` keeps its list sorted on
insert and delete (ties broken by digest, so the order is total), which lets a page request be
one slice of at most `per_page` entries instead of a sort or copy of the whole list: benchmarks
walk repositories of 100,000 manifests.

Each manifest is stored as its encoded listing JSON (what list-manifests answers). That makes
stored data immutable (callers keep their dicts), a page cheap to serialise (a join), and checks
that added manifests are JSON-serialisable when they are added, not when served. What else a
manifest has is derived from that text when asked, not stored: its tags (the tag index is built
on first use, then kept up to date) and its blobs. Manifests pushed with `push_image` and
`push_index` also have `Content`: their OCI bytes, which the OCI API serves.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["ENCODER", "Content", "Entry", "Repository", "blobs_of", "encode_entry", "sort_key"]

# Compact and fast: one encoder reused (json.dumps with custom separators builds a new one per call).
ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_DECODER = json.JSONDecoder()

# (negated updated_at in epoch seconds, digest): ascending order of this key is newest first.
SortKey = tuple[float, str]
# (sort key, digest, encoded manifest)
Entry = tuple[SortKey, str, str]

# Past this many changes at once, rebuilding the list beats inserting or deleting one by one.
_BULK = 32


@dataclass(frozen=True)
class Content:
    """A manifest's OCI document as pushed, and what it points at."""

    media_type: str
    data: bytes
    kind: str  # "image", "index", "attestation" or "artifact" (a referrer, with a subject)
    children: tuple[str, ...] = ()  # for an index: the manifests it lists
    subject: str | None = None
    platform: str | None = None  # "linux/amd64"; "unknown/unknown" for an attestation
    annotations: Mapping[str, str] = field(default_factory=dict)


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


def blobs_of(text: str) -> list[tuple[str, int]]:
    """(digest, size) of each blob a listed manifest names; a missing size counts as 0.

    Upstream's own example spells one size `compressed_size_byte`; it is read too.
    """
    # Decoding only the blobs array is twice as fast as the whole text: registries of 100,000s
    # of manifests sum their storage this way.
    start = text.find('"blobs":[')
    blobs = _DECODER.raw_decode(text, start + 8)[0] if start >= 0 else json.loads(text).get("blobs")
    found: list[tuple[str, int]] = []
    for blob in blobs if isinstance(blobs, list) else ():
        if isinstance(blob, Mapping) and isinstance(blob.get("digest"), str):
            size = blob.get("compressed_size_bytes", blob.get("compressed_size_byte", 0))
            found.append((blob["digest"], size if isinstance(size, int) and not isinstance(size, bool) else 0))
    return found


def _tags_of(text: str) -> list[str]:
    tags = json.loads(text).get("tags")
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []


class Repository:
    """Sorted keys and encoded texts, a digest index, pushed content, and a lazy tag index."""

    __slots__ = ("_tag_rows", "_tags", "by_digest", "contents", "keys", "texts")

    def __init__(self) -> None:
        self.keys: list[SortKey] = []
        self.texts: list[str] = []
        self.by_digest: dict[str, SortKey] = {}
        self.contents: dict[str, Content] = {}
        self._tags: dict[str, str] | None = {}
        self._tag_rows: list[tuple[SortKey, str, str]] | None = None

    def add(self, entries: Iterable[Entry]) -> list[str]:
        """Insert entries; the same digest again replaces its manifest. Returns the replaced texts."""
        latest: dict[str, Entry] = {}
        for entry in entries:
            latest[entry[1]] = entry
        replaced = [self.text(digest) for digest in latest if digest in self.by_digest]
        self.remove([digest for digest in latest if digest in self.by_digest], keep_content=True)
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
        # Added listings are taken as given (two may claim one tag): the index is rebuilt on next use.
        self._tags = None if latest else self._tags
        self._tag_rows = None
        return replaced

    def remove(self, digests: list[str], *, keep_content: bool = False) -> list[str]:
        """Delete manifests (each must be there) with their tags; returns their texts."""
        if self._tags is not None:
            for digest in digests:
                for tag in _tags_of(self.text(digest)):
                    if self._tags.get(tag) == digest:
                        del self._tags[tag]
        self._tag_rows = None
        if not keep_content:
            for digest in digests:
                self.contents.pop(digest, None)
        if len(digests) > _BULK:
            gone = {self.by_digest.pop(digest) for digest in digests}
            removed = [text for key, text in zip(self.keys, self.texts, strict=True) if key in gone]
            kept = [(key, text) for key, text in zip(self.keys, self.texts, strict=True) if key not in gone]
            self.keys = [key for key, _ in kept]
            self.texts = [text for _, text in kept]
            return removed
        removed = []
        for digest in digests:
            at = bisect.bisect_left(self.keys, self.by_digest.pop(digest))
            removed.append(self.texts[at])
            del self.keys[at]
            del self.texts[at]
        return removed

    def text(self, digest: str) -> str:
        return self.texts[bisect.bisect_left(self.keys, self.by_digest[digest])]

    def set_tags(self, digest: str, tags: list[str]) -> None:
        """Re-list one manifest with `tags` (an empty list when it has none left)."""
        at = bisect.bisect_left(self.keys, self.by_digest[digest])
        listing = json.loads(self.texts[at])
        old = listing.get("tags")
        listing["tags"] = list(tags)
        self.texts[at] = ENCODER.encode(listing)
        if self._tags is not None:
            for tag in old if isinstance(old, list) else ():
                if self._tags.get(tag) == digest:
                    del self._tags[tag]
            for tag in tags:
                self._tags[tag] = digest
        self._tag_rows = None

    def tag_map(self) -> dict[str, str]:
        """tag -> digest. Listings added as given may name a tag twice: the newest manifest has it."""
        if self._tags is None:
            tags: dict[str, str] = {}
            for key, text in zip(reversed(self.keys), reversed(self.texts), strict=True):
                for tag in _tags_of(text):
                    tags[tag] = key[1]
            self._tags = tags
        return self._tags

    def tag_rows(self) -> list[tuple[SortKey, str, str]]:
        """(sort key, tag, digest) newest first, ties by tag: the order list-tags serves."""
        if self._tag_rows is None:
            self._tag_rows = sorted(
                ((self.by_digest[digest][0], tag), tag, digest) for tag, digest in self.tag_map().items()
            )
        return self._tag_rows

    def untagged(self) -> set[str]:
        tagged = set(self.tag_map().values())
        return {digest for digest in self.by_digest if digest not in tagged}
