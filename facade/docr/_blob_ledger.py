"""Which blobs each repository references, kept compactly, and at the end who shares what. No I/O.

Storage in a registry is its blobs, once each, whatever how many manifests or repositories name
them (garbage collection is registry-wide). To tell a repository's own bytes from bytes it
shares with others, every repository's set of blobs must be compared with every other's, so
the sets are what a registry-wide usage keeps; the manifests themselves are dropped as soon as
their repository is walked. A set is kept as three flat arrays, sorted by key:

- the key: the first 8 bytes of the sha256 digest as an integer (other digests: an 8-byte
  BLAKE2b of the whole text). Two different blobs share a key with a chance of about
  n^2 / 2^65 for n blobs: one in 300,000 for ten million;
- the compressed size (8 bytes);
- one byte: whether a clean-up under the policy frees it as far as this repository is concerned.

That is 17 bytes per (repository, blob), against ~1 KB per manifest for a ``docr.Manifest``.
``settle`` merges the sorted sets (``heapq.merge``, streaming: no registry-wide table of blobs is
ever built) and sums per repository.

Usage::

    ledger = BlobLedger()
    index = ledger.add({blob_key(d): size for d, size in blobs.items()}, freeable={blob_key(d)})
    bytes_ = ledger.settle()      # per repository: unique, shared, reclaimable; and registry totals
"""

from __future__ import annotations

import hashlib
import heapq
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import repeat

__all__ = ["BlobLedger", "Settlement", "blob_key"]

_SHA256_LENGTH = len("sha256:") + 64


def blob_key(digest: str) -> int:
    """The 8-byte key of a blob digest (see the module docstring)."""
    if len(digest) == _SHA256_LENGTH and digest.startswith("sha256:"):
        try:
            return int(digest[7:23], 16)
        except ValueError:
            pass
    return int.from_bytes(hashlib.blake2b(digest.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class Settlement:
    """Bytes per repository (in the order added) and for the whole registry.

    ``unique[i]``: blobs only repository ``i`` references. ``shared[i]``: blobs it references that
    another repository references too. ``reclaimable[i]``: unique blobs its clean-up frees.
    ``shared_total`` counts each shared blob once (so ``sum(unique) + shared_total`` is every
    referenced blob once); ``reclaimable_total`` adds to ``sum(reclaimable)`` the shared blobs
    that every repository referencing them frees.
    """

    unique: list[int]
    shared: list[int]
    reclaimable: list[int]
    shared_total: int
    reclaimable_total: int


class BlobLedger:
    """The blob sets of the repositories walked so far."""

    def __init__(self) -> None:
        self._keys: list[array[int]] = []
        self._sizes: list[array[int]] = []
        self._freeable: list[bytearray] = []

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, blobs: Mapping[int, int], freeable: Iterable[int] = ()) -> int:
        """Record one repository's blobs (key to size) and the keys its clean-up frees; its index."""
        keys = sorted(blobs)
        free = set(freeable)
        self._keys.append(array("Q", keys))
        self._sizes.append(array("Q", [max(0, blobs[key]) for key in keys]))
        self._freeable.append(bytearray(key in free for key in keys))
        return len(self._keys) - 1

    def nbytes(self) -> int:
        """The bytes the sets hold (the arrays' buffers)."""
        return sum(
            keys.buffer_info()[1] * keys.itemsize + sizes.buffer_info()[1] * sizes.itemsize + len(free)
            for keys, sizes, free in zip(self._keys, self._sizes, self._freeable, strict=True)
        )

    def settle(self) -> Settlement:
        count = len(self._keys)
        unique, shared, reclaimable = [0] * count, [0] * count, [0] * count
        shared_total = reclaimable_total = 0
        streams = [
            zip(keys, repeat(index), sizes, free)
            for index, (keys, sizes, free) in enumerate(zip(self._keys, self._sizes, self._freeable, strict=True))
        ]
        # Equal keys come out together (each set holds a key once); a group of one is a unique blob.
        group: list[tuple[int, int, int, int]] = []
        for entry in heapq.merge(*streams):
            if group and entry[0] != group[0][0]:
                shared_total, reclaimable_total = _close(
                    group, unique, shared, reclaimable, shared_total, reclaimable_total
                )
                group = []
            group.append(entry)
        if group:
            shared_total, reclaimable_total = _close(
                group, unique, shared, reclaimable, shared_total, reclaimable_total
            )
        return Settlement(unique, shared, reclaimable, shared_total, reclaimable_total)


def _close(
    group: list[tuple[int, int, int, int]],
    unique: list[int],
    shared: list[int],
    reclaimable: list[int],
    shared_total: int,
    reclaimable_total: int,
) -> tuple[int, int]:
    if len(group) == 1:
        _, index, size, free = group[0]
        unique[index] += size
        if free:
            reclaimable[index] += size
            reclaimable_total += size
        return shared_total, reclaimable_total
    size = max(entry[2] for entry in group)
    for _, index, held, _ in group:
        shared[index] += held
    shared_total += size
    if all(entry[3] for entry in group):
        reclaimable_total += size  # every repository holding it lets it go
    return shared_total, reclaimable_total
