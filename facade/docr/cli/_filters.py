"""Which manifests the command shows, and in which order: ``--untagged``, ``--tag``, the age
filters, ``--sort`` and ``--limit``.

Works on anything shaped like a ``docr.Manifest`` (see ``ManifestLike``), so it is tested over
plain data. Standard library only.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

__all__ = ["SORT_KEYS", "ManifestLike", "Selection", "now"]

SORT_KEYS = ("updated", "size", "digest")


def now() -> dt.datetime:
    """The moment ages are measured from (tests replace it: ``docr.cli._filters.now``)."""
    return dt.datetime.now(dt.UTC)


class ManifestLike(Protocol):
    """The fields of ``docr.Manifest`` the command line reads."""

    @property
    def digest(self) -> str | None: ...
    @property
    def compressed_size_bytes(self) -> int | None: ...
    @property
    def size_bytes(self) -> int | None: ...
    @property
    def updated_at(self) -> dt.datetime | None: ...
    @property
    def tags(self) -> list[str]: ...


M = TypeVar("M", bound=ManifestLike)


@dataclass(frozen=True)
class Selection:
    """The filters, order and limit asked for on the command line.

    Filters combine with AND; repeated ``--tag`` globs combine with OR. A manifest whose
    ``updated_at`` is unknown matches neither age filter: its age cannot be compared.
    """

    now: dt.datetime
    untagged: bool = False
    tag_globs: Sequence[str] = ()
    older_than: dt.timedelta | None = None
    newer_than: dt.timedelta | None = None
    sort: str | None = None
    limit: int | None = None
    _checks: list[Callable[[ManifestLike], bool]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.sort is not None and self.sort not in SORT_KEYS:
            raise ValueError(f"unknown sort key {self.sort!r}; expected one of {', '.join(SORT_KEYS)}")
        checks: list[Callable[[ManifestLike], bool]] = []
        if self.untagged:
            checks.append(lambda m: not m.tags)
        if self.tag_globs:
            globs = tuple(self.tag_globs)
            checks.append(lambda m: any(fnmatch.fnmatchcase(tag, g) for tag in m.tags for g in globs))
        if self.older_than is not None:
            cutoff = self.now - self.older_than
            checks.append(lambda m: m.updated_at is not None and m.updated_at < cutoff)
        if self.newer_than is not None:
            since = self.now - self.newer_than
            checks.append(lambda m: m.updated_at is not None and m.updated_at > since)
        object.__setattr__(self, "_checks", checks)

    @property
    def filters(self) -> bool:
        """Whether any filter is set (so not every listed manifest is shown)."""
        return bool(self._checks)

    @property
    def streams(self) -> bool:
        """Whether results can be shown as they arrive (no sort needs the whole listing first)."""
        return self.sort is None

    @property
    def fetch_limit(self) -> int | None:
        """How many manifests to ask the API for: ``--limit`` when every listed one is shown in
        listing order, else ``None`` (all of them)."""
        return self.limit if self.sort is None and not self.filters else None

    def matches(self, manifest: ManifestLike) -> bool:
        return all(check(manifest) for check in self._checks)

    def apply(self, manifests: Iterable[M]) -> Iterator[M]:
        """Filter, sort and limit ``manifests``; lazy (stops pulling at the limit) when unsorted."""
        selected: Iterable[M] = (m for m in manifests if self.matches(m))
        if self.sort is not None:
            selected = sort_manifests(selected, self.sort)
        if self.limit is not None:
            selected = itertools.islice(selected, self.limit)
        return iter(selected)


def sort_manifests(manifests: Iterable[M], key: str) -> list[M]:
    """``updated``: newest first; ``size``: largest compressed size first; ``digest``: A to Z.

    Manifests missing the sort field go last; ties keep listing order (the sort is stable).
    """
    items = list(manifests)
    if key == "updated":
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        items.sort(key=lambda m: (m.updated_at is not None, m.updated_at or epoch), reverse=True)
    elif key == "size":
        items.sort(key=lambda m: (m.compressed_size_bytes is not None, m.compressed_size_bytes or 0), reverse=True)
    elif key == "digest":
        items.sort(key=lambda m: (m.digest is None, m.digest or ""))
    else:
        raise ValueError(f"unknown sort key {key!r}; expected one of {', '.join(SORT_KEYS)}")
    return items
