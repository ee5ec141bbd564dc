"""The shapes retention reads: anything that looks like a ``docr.Manifest`` works (tests use plain data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

__all__ = ["BlobLike", "ListedManifest", "ManifestLike"]


class BlobLike(Protocol):
    """The fields of ``docr.Blob`` retention reads."""

    @property
    def digest(self) -> str | None: ...
    @property
    def compressed_size_bytes(self) -> int | None: ...


class ListedManifest(Protocol):
    """What apply re-checks before a delete: a manifest's identity, tags and last update."""

    @property
    def digest(self) -> str | None: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def updated_at(self) -> dt.datetime | None: ...


class ManifestLike(ListedManifest, Protocol):
    """The fields of ``docr.Manifest`` the planner reads."""

    @property
    def compressed_size_bytes(self) -> int | None: ...
    @property
    def blobs(self) -> Sequence[BlobLike]: ...
