"""Strict, single-pass checks of the API's JSON, per field. No I/O.

The rules, for every object the API describes:

- **tolerant of absence**: upstream makes every manifest and blob field optional, and a ``null``
  is read exactly as an absent key (``None``; ``[]`` for ``tags`` and ``blobs``);
- **strict on types**: a value of the wrong type (``"1234"`` for a size, ``"latest"`` for
  ``tags``, an integer digest, ``true`` for a count) raises ``FieldError`` naming the field by
  its JSON path (``manifests[3].tags``), never a silently wrong value;
- unknown keys are kept as sent (upstream's own example misspells ``compressed_size_byte``).

The list-manifests page is the hot path of every walk (200 manifests and ~1,100 blobs a page), so it
is checked here in one pass over the decoded JSON and each ``Manifest`` is built once, over the
checked dict. The field table (``MANIFEST_FIELDS``, ``BLOB_FIELDS``) is held to the vendored
fragment's schemas by ``tests/test_parse.py``, so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Final

from docr._secrets import Secret, scrub

__all__ = [
    "BLOB_FIELDS",
    "MANIFEST_FIELDS",
    "FieldError",
    "check_blob",
    "check_manifest",
    "check_manifests",
    "parse_time",
    "total_of",
]

# field -> the JSON type the fragment declares (str, int, "date-time", or a list's item type).
MANIFEST_FIELDS: Final[Mapping[str, object]] = {
    "digest": str,
    "registry_name": str,
    "repository": str,
    "compressed_size_bytes": int,
    "size_bytes": int,
    "updated_at": "date-time",
    "tags": [str],
    "blobs": ["repository_blob"],
}
BLOB_FIELDS: Final[Mapping[str, object]] = {"digest": str, "compressed_size_bytes": int}

_NAMES: Final = {str: "a string", int: "an integer", list: "an array", dict: "an object", bool: "a boolean"}
# The types a field may have: its own, or null (read as absent). Exact types: `true` is no size.
_STRING: Final = frozenset({str, type(None)})
_INTEGER: Final = frozenset({int, type(None)})
_fromisoformat: Final = dt.datetime.fromisoformat


class FieldError(ValueError):
    """A field of well-formed JSON has the wrong type; ``path`` names it (``manifests[3].tags``).

    The message shows the start of the value. What came from a server may hold a secret, so the
    drivers show not this error but ``redacted(secrets)``: its value scrubbed while still whole,
    then cut (cutting first could leave most of a token, which then no longer matches).
    """

    def __init__(self, path: str, expected: str, value: object) -> None:
        self.path = path
        self.expected = expected
        self.kind = _kind(value)
        self._sample = _sample(value)  # a window of the value's repr, wide enough for any secret
        super().__init__(self._describe(()))

    def _describe(self, secrets: Iterable[Secret]) -> str:
        return f"{self.path} must be {self.expected}, not {self.kind} {scrub(self._sample, secrets, _SHOWN)}"

    def redacted(self, secrets: Iterable[Secret]) -> FieldError:
        """This error with ``secrets`` out of its value (and of everything it holds)."""
        error = FieldError.__new__(FieldError)
        ValueError.__init__(error, self._describe(secrets))
        error.path, error.expected, error.kind = self.path, self.expected, self.kind
        error._sample = scrub(self._sample, secrets, _SHOWN)
        return error


_SHOWN: Final = 60  # characters of a wrong value shown in a message
_WINDOW: Final = 4096  # characters of its repr kept until the secrets are out


def _sample(value: object) -> str:
    # A 30 MB string costs no more than a short one; other values are small or already bounded
    # by the body cap.
    return repr(value[:_WINDOW]) if type(value) is str else repr(value)[:_WINDOW]


def _kind(value: object) -> str:
    return "null" if value is None else _NAMES.get(type(value), type(value).__name__).split(" ", 1)[-1]


def _string(data: Mapping[str, Any], key: str, path: str) -> None:
    value = data.get(key)
    if value is not None and type(value) is not str:
        raise FieldError(f"{path}.{key}", "a string", value)


def _integer(data: Mapping[str, Any], key: str, path: str) -> None:
    value = data.get(key)
    # bool is an int subclass; `true` is not a size.
    if value is not None and type(value) is not int:
        raise FieldError(f"{path}.{key}", "an integer", value)


def parse_time(text: str) -> dt.datetime:
    """An aware datetime from ISO 8601 as servers write it: ``Z``, offsets, Go's nanoseconds, naive = UTC."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        when = dt.datetime.fromisoformat(_trim_fraction(text))
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _trim_fraction(text: str) -> str:
    # Python takes at most 6 fraction digits; Go writes up to 9 (RFC 3339 "nano").
    head, dot, rest = text.partition(".")
    if not dot:
        return text
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"


def check_time(data: Mapping[str, Any], key: str, path: str) -> dt.datetime | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is not str:
        raise FieldError(f"{path}.{key}", "a date-time string", value)
    try:
        return parse_time(value)
    except ValueError:
        raise FieldError(f"{path}.{key}", "an ISO 8601 date-time", value) from None


def check_blob(blob: object, path: str) -> None:
    if type(blob) is not dict:
        raise FieldError(path, "an object", blob)
    _string(blob, "digest", path)
    _integer(blob, "compressed_size_bytes", path)


def check_manifest(data: object, path: str) -> dt.datetime | None:
    """Check one manifest object in place; returns its ``updated_at`` parsed (or None)."""
    # The hot path (200 manifests and ~1,100 blobs a page) only asks whether every field is fine.
    # At the first doubt the careful pass starts over and names the field at fault (or accepts
    # what only looked doubtful, such as Go's nanoseconds in a date-time).
    if type(data) is dict and _fine(data):
        value = data.get("updated_at")
        if value is None:
            return None
        if type(value) is str:
            try:
                when = _fromisoformat(value)
            except ValueError:
                pass
            else:
                return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    return _check_manifest(data, path)


def check_manifests(items: list[Any]) -> list[dt.datetime | None]:
    """``check_manifest`` for each item of a page's ``manifests`` array: their ``updated_at``.

    The same checks and errors (paths ``manifests[3].tags``), but a path is built only for the
    item at fault: a page of 200 does not pay for 200 f-strings that are almost never read.
    """
    times: list[dt.datetime | None] = []
    append = times.append
    for index, item in enumerate(items):
        if type(item) is dict and _fine(item):
            value = item.get("updated_at")
            if value is None:
                append(None)
                continue
            if type(value) is str:
                try:
                    when = _fromisoformat(value)
                except ValueError:
                    pass
                else:
                    append(when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC))
                    continue
        append(_check_manifest(item, f"manifests[{index}]"))
    return times


def _fine(data: dict[str, Any]) -> bool:
    """Whether every field but ``updated_at`` has an allowed type (no error details: fast)."""
    get = data.get
    if not (
        type(get("digest")) in _STRING
        and type(get("registry_name")) in _STRING
        and type(get("repository")) in _STRING
        and type(get("compressed_size_bytes")) in _INTEGER
        and type(get("size_bytes")) in _INTEGER
    ):
        return False
    tags = get("tags")
    if tags is not None:
        if type(tags) is not list:
            return False
        for tag in tags:
            if type(tag) is not str:
                return False
    blobs = get("blobs")
    if blobs is not None:
        if type(blobs) is not list:
            return False
        for blob in blobs:
            if (
                type(blob) is not dict
                or type(blob.get("digest")) not in _STRING
                or type(blob.get("compressed_size_bytes")) not in _INTEGER
            ):
                return False
    return True


def _check_manifest(data: object, path: str) -> dt.datetime | None:
    if type(data) is not dict:
        raise FieldError(path, "an object", data)
    _string(data, "digest", path)
    _string(data, "registry_name", path)
    _string(data, "repository", path)
    _integer(data, "compressed_size_bytes", path)
    _integer(data, "size_bytes", path)
    tags = data.get("tags")
    if tags is not None:
        if type(tags) is not list:
            raise FieldError(f"{path}.tags", "an array of strings", tags)
        for index, tag in enumerate(tags):
            if type(tag) is not str:
                raise FieldError(f"{path}.tags[{index}]", "a string", tag)
    blobs = data.get("blobs")
    if blobs is not None:
        if type(blobs) is not list:
            raise FieldError(f"{path}.blobs", "an array of objects", blobs)
        for index, blob in enumerate(blobs):
            check_blob(blob, f"{path}.blobs[{index}]")
    return check_time(data, "updated_at", path)


def total_of(body: object) -> tuple[dict[str, Any], int]:
    """The page object and its ``meta.total``, checked (required by the fragment)."""
    if type(body) is not dict:
        raise FieldError("(body)", "an object", body)
    meta = body.get("meta")
    if type(meta) is not dict:
        raise FieldError("meta", "an object", meta)
    total = meta.get("total")
    if type(total) is not int or total < 0:
        raise FieldError("meta.total", "a count (an integer >= 0)", total)
    links = body.get("links")
    if links is not None and type(links) is not dict:
        raise FieldError("links", "an object", links)
    return body, total
