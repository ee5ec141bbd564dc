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
``settle`` finds the keys held by more than one set, a slice of the key space at a time (no
registry-wide table of blobs is ever built), then sums per repository.

Usage::

    ledger = BlobLedger()
    index = ledger.add({blob_key(d): size for d, size in blobs.items()}, freeable={blob_key(d)})
    bytes_ = ledger.settle()      # per repository: unique, shared, reclaimable; and registry totals
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["BlobLedger", "Settlement", "blob_key"]

_SHA256_LENGTH = len("sha256:") + 64
_SLICE = 1 << 17  # keys sorted at once in ``settle``: ~5 MB of Python integers


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
        shared, free_everywhere = self._shared_keys()
        unique_sums, shared_sums, reclaimable = [], [], []
        for keys, sizes, free in zip(self._keys, self._sizes, self._freeable, strict=True):
            total = sum(sizes)
            held = sum(size for key, size in zip(keys, sizes, strict=True) if key in shared) if shared else 0
            unique_sums.append(total - held)
            shared_sums.append(held)
            reclaimable.append(
                sum(size for key, size, f in zip(keys, sizes, free, strict=True) if f and key not in shared)
            )
        shared_total = sum(shared.values())
        reclaimable_total = sum(reclaimable) + sum(shared[key] for key in free_everywhere)
        return Settlement(unique_sums, shared_sums, reclaimable, shared_total, reclaimable_total)

    def _shared_keys(self) -> tuple[dict[int, int], set[int]]:
        """The keys in two sets or more (with their largest size), and those of them every holder frees.

        Each set holds a key once, so a key seen twice in the sorted union is shared. The union is
        sorted a slice of the key space at a time (the sets are sorted: each slice is a bisection
        away), so at most ~``_SLICE`` keys are ever held as Python integers at once.
        """
        count = sum(len(keys) for keys in self._keys)
        slices = max(1, -(-count // _SLICE))
        bounds = [(1 << 64) * number // slices for number in range(slices + 1)]
        shared: set[int] = set()
        for low, high in itertools.pairwise(bounds):
            chunk = sorted(
                itertools.chain.from_iterable(
                    keys[bisect.bisect_left(keys, low) : bisect.bisect_left(keys, high)] for keys in self._keys
                )
            )
            shared.update(a for a, b in itertools.pairwise(chunk) if a == b)
        if not shared:
            return {}, set()
        sizes: dict[int, int] = {}
        kept: set[int] = set()
        for keys, held, free in zip(self._keys, self._sizes, self._freeable, strict=True):
            for key, size, f in zip(keys, held, free, strict=True):
                if key in shared:
                    sizes[key] = max(sizes.get(key, 0), size)
                    if not f:
                        kept.add(key)
        return sizes, shared - kept
