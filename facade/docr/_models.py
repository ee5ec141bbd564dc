"""What a listing returns: ``Manifest``, ``Blob``, ``ManifestPage`` and ``RateLimit``.

``Manifest`` and ``Blob`` are thin read-only views over the generated attrs models: the
generated code does the parsing, these only turn its ``UNSET`` sentinel into ``None`` (an
absent list into ``[]``), so nothing generated leaks into user code. Unknown keys (such as
upstream's misspelled ``compressed_size_byte``) are kept and come back from ``to_dict()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs
import httpx

from docr_api.models import RepositoryBlob, RepositoryManifest
from docr_api.types import Unset

__all__ = ["Blob", "Manifest", "ManifestPage", "RateLimit"]

_T = TypeVar("_T")


def _opt(value: _T | Unset) -> _T | None:
    return None if isinstance(value, Unset) else value


def _json_time(value: dt.datetime) -> str:
    text = value.isoformat()
    # The API writes UTC as "Z"; give the same text back.
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@attrs.frozen(repr=False, hash=False)
class Blob:
    """One layer or config blob of a manifest."""

    _model: RepositoryBlob

    @property
    def digest(self) -> str | None:
        return _opt(self._model.digest)

    @property
    def compressed_size_bytes(self) -> int | None:
        return _opt(self._model.compressed_size_bytes)

    @property
    def extra(self) -> dict[str, Any]:
        """Keys the spec does not define, as the server sent them."""
        return dict(self._model.additional_properties)

    def to_dict(self) -> dict[str, Any]:
        return self._model.to_dict()

    def __repr__(self) -> str:
        return f"Blob(digest={self.digest!r}, compressed_size_bytes={self.compressed_size_bytes!r})"

    def __hash__(self) -> int:
        # Equal blobs (all fields equal) share a digest; the generated model is unhashable.
        return hash(self.digest)


@attrs.frozen(repr=False, hash=False)
class Manifest:
    """One manifest of a repository, as the list endpoint describes it.

    Every field may be absent in the API's answer: absent values are ``None`` (``tags`` and
    ``blobs`` are then empty lists).
    """

    _model: RepositoryManifest

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """Build a manifest from the API's JSON object (for tests and fixtures)."""
        return cls(RepositoryManifest.from_dict(data))

    @property
    def digest(self) -> str | None:
        return _opt(self._model.digest)

    @property
    def registry_name(self) -> str | None:
        return _opt(self._model.registry_name)

    @property
    def repository(self) -> str | None:
        return _opt(self._model.repository)

    @property
    def compressed_size_bytes(self) -> int | None:
        return _opt(self._model.compressed_size_bytes)

    @property
    def size_bytes(self) -> int | None:
        return _opt(self._model.size_bytes)

    @property
    def updated_at(self) -> dt.datetime | None:
        """When the manifest was last updated, timezone-aware (naive values are taken as UTC)."""
        value = _opt(self._model.updated_at)
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value

    @property
    def tags(self) -> list[str]:
        tags = _opt(self._model.tags)
        return list(tags) if tags else []

    @property
    def blobs(self) -> list[Blob]:
        blobs = _opt(self._model.blobs)
        return [Blob(blob) for blob in blobs] if blobs else []

    @property
    def extra(self) -> dict[str, Any]:
        """Keys the spec does not define, as the server sent them."""
        return dict(self._model.additional_properties)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as the API's JSON object (unknown keys included)."""
        data = self._model.to_dict()
        if "updated_at" in data and not isinstance(self._model.updated_at, Unset):
            data["updated_at"] = _json_time(self._model.updated_at)
        return data

    def __repr__(self) -> str:
        return (
            f"Manifest(digest={self.digest!r}, tags={self.tags!r}, updated_at={self.updated_at!r},"
            f" compressed_size_bytes={self.compressed_size_bytes!r})"
        )

    def __hash__(self) -> int:
        # Equal manifests (all fields equal) share a digest; so sets and dict keys work.
        return hash(self.digest)


@attrs.frozen
class RateLimit:
    """The ``ratelimit-*`` headers of a response.

    ``reset_at`` is when the oldest counted request expires (upstream's definition), so it
    is a hint of when capacity returns, not a moment when the whole quota resets.
    """

    limit: int | None
    remaining: int | None
    reset_at: dt.datetime | None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimit | None:
        limit = _header_int(headers, "ratelimit-limit")
        remaining = _header_int(headers, "ratelimit-remaining")
        reset = _header_int(headers, "ratelimit-reset")
        if limit is None and remaining is None and reset is None:
            return None
        reset_at = dt.datetime.fromtimestamp(reset, dt.UTC) if reset is not None else None
        return cls(limit=limit, remaining=remaining, reset_at=reset_at)


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@attrs.frozen
class ManifestPage:
    """One page of a listing, as the server sent it."""

    manifests: list[Manifest]
    total: int
    page: int
    per_page: int
    rate_limit: RateLimit | None = None
    request_id: str | None = None

    @property
    def last_page(self) -> int:
        """The number of the last page for this page's total (1 when the repository is empty)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def next_page(self) -> int | None:
        """The number of the page after this one, or ``None`` when this is the last."""
        return self.page + 1 if self.page < self.last_page else None
