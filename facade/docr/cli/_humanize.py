"""Values as the table shows them: binary sizes, ages, short digests; and UTC times for csv.

Standard library only.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["UNKNOWN", "human_age", "human_size", "iso_time", "short_digest"]

UNKNOWN = "-"


def human_size(size: int | None) -> str:
    """Binary units with two decimals, as doctl prints them: ``512 B``, ``2.69 MiB``."""
    if size is None:
        return UNKNOWN
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024 or unit == "PiB":
            break
    return f"{value:.2f} {unit}"


def human_age(when: dt.datetime | None, now: dt.datetime) -> str:
    """``just now``, ``5 minutes ago``, ``3 days ago``, ``2 months ago``... (``-`` when unknown)."""
    if when is None:
        return UNKNOWN
    seconds = (now - when).total_seconds()
    if seconds < -60:
        return when.astimezone(dt.UTC).strftime("%Y-%m-%d")  # clock skew or a future date
    if seconds < 60:
        return "just now"
    for limit, size, unit in (
        (3600, 60, "minute"),
        (86400, 3600, "hour"),
        (14 * 86400, 86400, "day"),
        (60 * 86400, 7 * 86400, "week"),
        (365 * 86400, 30 * 86400, "month"),
        (float("inf"), 365 * 86400, "year"),
    ):
        if seconds < limit:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    raise AssertionError("unreachable")  # pragma: no cover


def short_digest(digest: str | None, *, full: bool = False) -> str:
    """``sha256:`` and the first 12 hex digits, unless ``full``."""
    if not digest:
        return UNKNOWN
    if full:
        return digest
    algorithm, sep, hexdigits = digest.partition(":")
    return f"{algorithm}:{hexdigits[:12]}" if sep else digest[:12]


def iso_time(when: dt.datetime | None) -> str:
    """``2026-04-09T23:54:25Z``, or an empty string when unknown."""
    if when is None:
        return ""
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
