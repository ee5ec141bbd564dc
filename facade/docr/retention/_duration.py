"""Durations as people write them: ``"30d"``, ``"12h"``, ``"2w"``, ``"1d12h"``.

The grammar is the command line's (``--older-than``): a number and a unit, ``s m h d w``,
repeated; case and surrounding spaces do not matter. Digits are ASCII only.

>>> parse_duration("1d12h")
datetime.timedelta(days=1, seconds=43200)
>>> format_duration(parse_duration("2w"))
'14d'
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["format_duration", "parse_duration"]

_PART = re.compile(r"([0-9]+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_FORMAT_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def parse_duration(text: str) -> dt.timedelta:
    """``"30d"`` as 30 days; raise ``ValueError`` with a message for the user otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"a duration must be a str such as '30d', not {type(text).__name__}")
    value = text.strip().lower()
    if not value or _PART.sub("", value):
        raise ValueError(f"invalid duration {text!r}: use a number and a unit s, m, h, d or w, e.g. 30d, 12h or 1w2d")
    seconds = sum(int(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(value))
    try:
        return dt.timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"invalid duration {text!r}: too long") from None


def format_duration(value: dt.timedelta) -> str:
    """The shortest text ``parse_duration`` reads back as ``value`` (whole seconds, not negative).

    Weeks are written as days (``"30d"``, not ``"4w2d"``).
    """
    if value < dt.timedelta(0) or value.microseconds:
        raise ValueError(f"only whole, non-negative seconds can be written as a duration, not {value!r}")
    seconds = value.days * 86400 + value.seconds
    parts = []
    for unit, size in _FORMAT_UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def format_age(value: dt.timedelta) -> str:
    """An age, roughly, in its largest whole unit: ``"3d"``, ``"2h"``, ``"45s"`` (for reasons)."""
    value = abs(value)
    seconds = value.days * 86400 + value.seconds
    for unit, size in _FORMAT_UNITS:
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "0s"
