"""What a listing returns: ``Manifest``, ``Blob``, ``ManifestPage`` and ``RateLimit``.

A ``Manifest`` is built once per manifest, over the API's JSON object after ``docr._parse`` has
checked every field's type: reading a field is a dictionary lookup, ``updated_at`` is parsed once
during the check, and ``blobs`` become ``Blob`` objects on first access only (a page of 200
manifests holds ~1,100 blobs that most listings never look at). Absent and ``null`` fields read
as ``None`` (``tags`` and ``blobs`` as empty lists); unknown keys (such as upstream's misspelled
``compressed_size_byte``) are kept in ``extra`` and come back from ``to_dict()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docr._parse import BLOB_FIELDS, MANIFEST_FIELDS, check_blob, check_manifest

__all__ = ["Blob", "Manifest", "ManifestPage", "RateLimit"]


def _copy(data: Mapping[str, Any]) -> dict[str, Any]:
    # JSON values: copy the containers so callers cannot change ours (or we theirs).
    return {
        key: [dict(v) if type(v) is dict else v for v in value] if type(value) is list else value
        for key, value in data.items()
    }


class Blob:
    """One layer or config blob of a manifest (immutable)."""

    __slots__ = ("_data",)

    _data: dict[str, Any]

    def __init__(self, data: Mapping[str, Any]) -> None:
        check_blob(data, "blob")
        object.__setattr__(self, "_data", dict(data))

    @classmethod
    def _trusted(cls, data: dict[str, Any]) -> Blob:
        blob = cls.__new__(cls)
        object.__setattr__(blob, "_data", data)
        return blob

    @property
    def digest(self) -> str | None:
        return self._data.get("digest")

    @property
    def compressed_size_bytes(self) -> int | None:
        return self._data.get("compressed_size_bytes")

    @property
    def extra(self) -> dict[str, Any]:
        """Keys the spec does not define, as the server sent them."""
        return {key: value for key, value in self._data.items() if key not in BLOB_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"docr.Blob is immutable; cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        return self._data == other._data if isinstance(other, Blob) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"Blob(digest={self.digest!r}, compressed_size_bytes={self.compressed_size_bytes!r})"


class Manifest:
    """One manifest of a repository, as the list endpoint describes it (immutable).

    Every field may be absent in the API's answer: absent values are ``None`` (``tags`` and
    ``blobs`` are then empty lists). ``updated_at`` is timezone-aware (naive values are UTC).
    """

    __slots__ = ("_blobs", "_data", "_updated_at")

    _data: dict[str, Any]
    _updated_at: dt.datetime | None
    _blobs: tuple[Blob, ...] | None

    def __init__(self, data: Mapping[str, Any]) -> None:
        """Build a manifest from the API's JSON object; raises ``ValueError`` on a wrong type."""
        copied = _copy(data)
        self._init(copied, check_manifest(copied, "manifest"))

    def _init(self, data: dict[str, Any], updated_at: dt.datetime | None) -> None:
        setter = object.__setattr__
        setter(self, "_data", data)
        setter(self, "_updated_at", updated_at)
        setter(self, "_blobs", None)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """Build a manifest from the API's JSON object (for tests and fixtures)."""
        return cls(data)

    @staticmethod
    def _trusted(data: dict[str, Any], updated_at: dt.datetime | None) -> Manifest:
        """Wrap ``data`` that ``check_manifest`` passed, without copying (the page parser's path).

        Slots are set through their descriptors: 200 a page, this is half the cost of ``_init``.
        """
        manifest: Manifest = _new_object(Manifest)
        _set_data(manifest, data)
        _set_updated_at(manifest, updated_at)
        _set_blobs(manifest, None)
        return manifest

    @property
    def digest(self) -> str | None:
        return self._data.get("digest")

    @property
    def registry_name(self) -> str | None:
        return self._data.get("registry_name")

    @property
    def repository(self) -> str | None:
        return self._data.get("repository")

    @property
    def compressed_size_bytes(self) -> int | None:
        return self._data.get("compressed_size_bytes")

    @property
    def size_bytes(self) -> int | None:
        return self._data.get("size_bytes")

    @property
    def updated_at(self) -> dt.datetime | None:
        """When the manifest was last updated, timezone-aware (naive values are taken as UTC)."""
        return self._updated_at

    @property
    def tags(self) -> list[str]:
        return list(self._data.get("tags") or ())

    @property
    def blobs(self) -> list[Blob]:
        blobs = self._blobs
        if blobs is None:
            blobs = tuple(Blob._trusted(blob) for blob in self._data.get("blobs") or ())
            object.__setattr__(self, "_blobs", blobs)
        return list(blobs)

    @property
    def extra(self) -> dict[str, Any]:
        """Keys the spec does not define, as the server sent them."""
        return {key: value for key, value in self._data.items() if key not in MANIFEST_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        """The manifest as the API's JSON object (unknown keys included)."""
        return _copy(self._data)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"docr.Manifest is immutable; cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        return self._data == other._data if isinstance(other, Manifest) else NotImplemented

    def __hash__(self) -> int:
        # Equal manifests (all fields equal) share a digest; so sets and dict keys work.
        return hash(self.digest)

    def __repr__(self) -> str:
        return (
            f"Manifest(digest={self.digest!r}, tags={self.tags!r}, updated_at={self.updated_at!r},"
            f" compressed_size_bytes={self.compressed_size_bytes!r})"
        )


# Manifest._trusted's fast path: the slots' own setters (Manifest refuses plain attribute sets).
_new_object = object.__new__
_set_data = Manifest.__dict__["_data"].__set__
_set_updated_at = Manifest.__dict__["_updated_at"].__set__
_set_blobs = Manifest.__dict__["_blobs"].__set__


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The ``ratelimit-*`` headers of a response.

    ``reset_at`` is when the oldest counted request expires (upstream's definition), so it
    is a hint of when capacity returns, not a moment when the whole quota resets.
    """

    limit: int | None
    remaining: int | None
    reset_at: dt.datetime | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit | None:
        limit = _header_int(headers, "ratelimit-limit")
        remaining = _header_int(headers, "ratelimit-remaining")
        reset = _header_int(headers, "ratelimit-reset")
        if limit is None and remaining is None and reset is None:
            return None
        return cls(limit=limit, remaining=remaining, reset_at=_epoch(reset))


def _epoch(seconds: int | None) -> dt.datetime | None:
    if seconds is None:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None  # a reset in the year 10**10 is a lie, not a date


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None or not 0 < len(value) <= 20:
        return None
    try:
        return int(value)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ManifestPage:
    """One page of a listing, as the server sent it."""

    manifests: list[Manifest]
    total: int
    page: int
    per_page: int
    rate_limit: RateLimit | None = None
    request_id: str | None = None

    @property
    def items(self) -> list[Manifest]:
        """The page's manifests (what every paged listing calls its items)."""
        return self.manifests

    @property
    def last_page(self) -> int:
        """The number of the last page for this page's total (1 when the repository is empty)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def next_page(self) -> int | None:
        """The number of the page after this one, or ``None`` when this is the last."""
        return self.page + 1 if self.page < self.last_page else None
