"""``Policy``: which manifests of a repository a prune keeps.

Usage::

    Policy()                                          # delete untagged manifests older than a day
    Policy(keep_last=10, tagged_older_than=timedelta(days=30))  # also old tags beyond the 10 newest
    Policy(untagged="keep", keep_tags=("latest", "v*"))

Rules, for each manifest (the planner applies them; see ``docr.retention.decide``):

- kept if a tag matches one of ``keep_tags`` (``fnmatch`` globs, case-sensitive);
- kept if it is one of the ``keep_last`` most recently updated tagged manifests;
- kept if updated within ``grace`` (or when it is unknown when it was updated);
- a tagged manifest is deleted only if ``tagged_older_than`` is set and it is older than that;
- an untagged manifest is deleted when ``untagged == "delete"``.

Index safety overrides all of them: what a kept index or manifest references is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from docr._errors import InvalidArgument
from docr.retention._duration import format_duration, parse_duration

__all__ = ["DEFAULT_GRACE", "Policy", "UntaggedAction"]

UntaggedAction = Literal["delete", "keep"]
DEFAULT_GRACE = dt.timedelta(days=1)
_POLICY_KEYS = ("keep_last", "keep_tags", "grace", "untagged", "tagged_older_than")


@dataclass(frozen=True)
class Policy:
    """A retention policy; every field is validated (``InvalidArgument`` names the field)."""

    keep_last: int = 0
    keep_tags: tuple[str, ...] = ("latest",)
    grace: dt.timedelta = DEFAULT_GRACE
    untagged: UntaggedAction = "delete"
    tagged_older_than: dt.timedelta | None = None

    def __post_init__(self) -> None:
        if isinstance(self.keep_last, bool) or not isinstance(self.keep_last, int):
            raise InvalidArgument("keep_last", f"must be an int, not {type(self.keep_last).__name__}")
        if self.keep_last < 0:
            raise InvalidArgument("keep_last", f"must be 0 or more, not {self.keep_last}")
        object.__setattr__(self, "keep_tags", _globs(self.keep_tags))
        _duration("grace", self.grace)
        if self.untagged not in ("delete", "keep"):
            raise InvalidArgument("untagged", f"must be 'delete' or 'keep', not {self.untagged!r}")
        if self.tagged_older_than is not None:
            _duration("tagged_older_than", self.tagged_older_than)
            if not self.tagged_older_than:
                raise InvalidArgument("tagged_older_than", "must be more than 0 (or None to keep tagged manifests)")

    def to_dict(self) -> dict[str, Any]:
        """The policy as JSON-ready values, durations as text (``"30d"``)."""
        return {
            "keep_last": self.keep_last,
            "keep_tags": list(self.keep_tags),
            "grace": format_duration(self.grace),
            "untagged": self.untagged,
            "tagged_older_than": None if self.tagged_older_than is None else format_duration(self.tagged_older_than),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, defaults: bool = False) -> Policy:
        """The policy ``to_dict`` wrote. Every key is required unless ``defaults``; unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise InvalidArgument("policy", f"must be an object, not {type(data).__name__}")
        unknown = sorted(set(data) - set(_POLICY_KEYS))
        if unknown:
            raise InvalidArgument(unknown[0], f"is not a policy setting; expected one of {', '.join(_POLICY_KEYS)}")
        missing = [key for key in _POLICY_KEYS if key not in data]
        if missing and not defaults:
            raise InvalidArgument(missing[0], "is missing")
        values: dict[str, Any] = {key: data[key] for key in _POLICY_KEYS if key in data}
        if "keep_tags" in values and not isinstance(values["keep_tags"], list):
            raise InvalidArgument("keep_tags", f"must be a list of globs, not {type(values['keep_tags']).__name__}")
        for key in ("grace", "tagged_older_than"):
            if key in values and values[key] is not None:
                values[key] = _parse(key, values[key])
        return cls(**values)


def _globs(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        hint = f" (write ({value!r},) for one glob)" if isinstance(value, str) else ""
        raise InvalidArgument("keep_tags", f"must be a sequence of globs, not {type(value).__name__}{hint}")
    globs = tuple(cast(Sequence[object], value))
    for glob in globs:
        if not isinstance(glob, str):
            raise InvalidArgument("keep_tags", f"each glob must be a str, not {type(glob).__name__}")
        if not glob:
            raise InvalidArgument("keep_tags", "a glob must not be empty")
    return cast(tuple[str, ...], globs)


def _duration(name: str, value: object) -> None:
    if not isinstance(value, dt.timedelta):
        raise InvalidArgument(name, f"must be a timedelta, not {type(value).__name__}")
    if value < dt.timedelta(0):
        raise InvalidArgument(name, f"must not be negative, not {value}")
    if value.microseconds:
        raise InvalidArgument(name, f"must be a whole number of seconds, not {value}")


def _parse(name: str, value: object) -> dt.timedelta:
    if not isinstance(value, str):
        raise InvalidArgument(name, f"must be a duration such as '30d', not {type(value).__name__}")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise InvalidArgument(name, str(exc)) from None
