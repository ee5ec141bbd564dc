"""Policy files: retention policies per repository, in TOML.

The format::

    # Sections are tried in order: the first whose `repositories` matches a repository applies.
    [[policy]]
    repositories = ["web/*", "api"]   # required: a glob or a list of globs (fnmatch, case-sensitive)
    keep_last = 10                    # the 10 most recently updated tagged manifests
    keep_tags = ["latest", "v*"]      # globs; a manifest with a matching tag is kept
    grace = "1d"                      # nothing updated more recently than this is deleted
    untagged = "delete"               # or "keep"
    tagged_older_than = "30d"         # tagged manifests older than this may go (absent: never)

    [[policy]]
    repositories = "*"                # everything else: the defaults
                                      # (keep_last 0, keep_tags ["latest"], grace "1d", untagged "delete")

Durations are a number and a unit (``s m h d w``), combinable: ``"30d"``, ``"12h"``, ``"1d12h"``.
Unknown keys are refused (a misspelt ``keep_lats`` must not silently keep nothing). Errors name the
file, the section and the key: ``policy.toml: [[policy]] #2 (web/*): keep_last: must be 0 or more``.

Usage::

    policies = load_policy_file("retention.toml")
    policy = policies.for_repository("web/frontend")  # None: no section applies, prune nothing
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docr._errors import InvalidArgument
from docr.retention._policy import Policy

__all__ = ["PolicyFile", "PolicyFileError", "PolicySection", "load_policy_file", "parse_policy_file"]


class PolicyFileError(InvalidArgument):
    """A policy file that cannot be used; ``source``, ``section`` (1-based) and ``key`` say where."""

    def __init__(
        self, source: str, message: str, *, section: int | None = None, globs: str | None = None, key: str | None = None
    ) -> None:
        where = source
        if section is not None:
            where += f": [[policy]] #{section}" + (f" ({globs})" if globs else "")
        if key is not None:
            where += f": {key}"
        super().__init__("policy file", f"{where}: {message}")
        self.source = source
        self.section = section
        self.key = key


@dataclass(frozen=True)
class PolicySection:
    """One ``[[policy]]`` section: the repositories it covers and its policy."""

    number: int
    repositories: tuple[str, ...]
    policy: Policy

    def matches(self, repository: str) -> bool:
        return any(fnmatch.fnmatchcase(repository, glob) for glob in self.repositories)


@dataclass(frozen=True)
class PolicyFile:
    """The sections of a policy file, in order."""

    source: str
    sections: tuple[PolicySection, ...]

    def section_for(self, repository: str) -> PolicySection | None:
        """The first section whose globs match ``repository``, or ``None``."""
        return next((section for section in self.sections if section.matches(repository)), None)

    def for_repository(self, repository: str) -> Policy | None:
        """The policy for ``repository``, or ``None`` when no section covers it (nothing is pruned)."""
        section = self.section_for(repository)
        return section.policy if section else None


def load_policy_file(path: str | Path) -> PolicyFile:
    """Read and check a policy file; raise ``PolicyFileError`` naming the file, section and key."""
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise PolicyFileError(source, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise PolicyFileError(source, "is not UTF-8 text") from None
    return parse_policy_file(text, source=source)


def parse_policy_file(text: str, *, source: str = "<policy>") -> PolicyFile:
    """Parse the text of a policy file (``source`` names it in errors)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(source, f"is not valid TOML: {exc}") from None
    unknown = sorted(set(document) - {"policy"})
    if unknown:
        raise PolicyFileError(source, f"unknown top-level key {unknown[0]!r}; write sections as [[policy]]")
    tables = document.get("policy")
    if not isinstance(tables, list) or not tables:
        raise PolicyFileError(source, "has no [[policy]] section")
    sections = tuple(_section(source, number, table) for number, table in enumerate(tables, start=1))
    return PolicyFile(source, sections)


def _section(source: str, number: int, table: Any) -> PolicySection:
    if not isinstance(table, dict):
        raise PolicyFileError(source, "must be a table", section=number)
    globs = _repositories(source, number, table.get("repositories"))
    label = ", ".join(globs)
    settings = {key: value for key, value in table.items() if key != "repositories"}
    try:
        policy = Policy.from_dict(settings, defaults=True)
    except InvalidArgument as exc:
        message = str(exc).removeprefix(f"{exc.argument}: ")
        raise PolicyFileError(source, message, section=number, globs=label, key=exc.argument) from None
    return PolicySection(number, globs, policy)


def _repositories(source: str, number: int, value: object) -> tuple[str, ...]:
    if value is None:
        raise PolicyFileError(source, "is required: a glob or a list of globs", section=number, key="repositories")
    globs = [value] if isinstance(value, str) else value
    if not isinstance(globs, list) or not globs or not all(isinstance(glob, str) and glob for glob in globs):
        raise PolicyFileError(
            source, 'must be a non-empty glob or a list of them, e.g. "web/*"', section=number, key="repositories"
        )
    return tuple(globs)
