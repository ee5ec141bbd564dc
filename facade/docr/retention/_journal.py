"""``Journal``: what an apply has done, one fsync'd JSON line per event, so a rerun resumes.

Usage::

    journal = Journal("prune.journal", plan.id)   # JournalError if it belongs to another plan
    done = journal.done()                          # deleted or already gone: never send those again
    for candidate in plan.candidates:
        if candidate.digest in done:
            continue
        journal.record(candidate.digest, "attempt")       # before the DELETE goes out
        ...
        journal.record(candidate.digest, "deleted", status=202)

The first line is a header naming the plan's id. Outcomes: ``attempt`` (a DELETE is about to be
sent), ``deleted`` and ``already-gone`` (final), ``skipped`` and ``failed`` (a rerun tries
again). ``pending()`` lists digests whose last event is an ``attempt``: the process stopped
while the DELETE was in flight, so re-list the repository before sending it again (gone means
``already-gone``). A torn last line (a crash mid-write) is dropped and cut off; a damaged line
before it is refused. One apply at a time per journal file.

``Journal(None, plan.id)`` keeps the events in memory only (an apply without a journal file:
the report still comes from it, but nothing survives the process).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

from docr import _names
from docr._errors import InvalidArgument

__all__ = ["FINAL_OUTCOMES", "JOURNAL_FORMAT", "Journal", "JournalEntry", "JournalError", "Outcome"]

JOURNAL_FORMAT = "docr.retention.journal/1"
Outcome = Literal["attempt", "deleted", "already-gone", "skipped", "failed"]
FINAL_OUTCOMES: frozenset[str] = frozenset({"deleted", "already-gone"})


class JournalError(InvalidArgument):
    """A journal that cannot be used: another plan's, or damaged before its last line."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__("journal", f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class JournalEntry:
    digest: str
    outcome: Outcome
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


class Journal:
    """An append-only record of one plan's apply (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str] | None, plan_id: str) -> None:
        self.path = None if path is None else Path(path)
        self.plan_id = _names.digest(plan_id, "plan_id")
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []
        self._open()

    def record(self, digest: str, outcome: Outcome, **details: Any) -> None:
        """Append one event and fsync it before returning."""
        _names.digest(digest, "digest")
        if outcome not in get_args(Outcome):
            raise InvalidArgument("outcome", f"must be one of {', '.join(get_args(Outcome))}, not {outcome!r}")
        try:
            line = json.dumps({"digest": digest, "outcome": outcome, **details}, ensure_ascii=True)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument("details", f"must be JSON values ({exc})") from None
        with self._lock:
            if self.path is not None:
                _append(self.path, line)
            self._entries.append(JournalEntry(digest, outcome, MappingProxyType(details)))

    def entries(self) -> tuple[JournalEntry, ...]:
        return tuple(self._entries)

    def done(self) -> set[str]:
        """Digests with a final outcome (deleted, already gone): never send a delete for these again."""
        return {entry.digest for entry in self._entries if entry.outcome in FINAL_OUTCOMES}

    def pending(self) -> set[str]:
        """Digests whose last event is an ``attempt``: re-check that they still exist before resending."""
        last = {entry.digest: entry.outcome for entry in self._entries}
        return {digest for digest, outcome in last.items() if outcome == "attempt"} - self.done()

    def latest(self) -> dict[str, JournalEntry]:
        """The final event of each digest if it has one, else its last event."""
        result: dict[str, JournalEntry] = {}
        for entry in self._entries:
            current = result.get(entry.digest)
            if current is None or current.outcome not in FINAL_OUTCOMES:
                result[entry.digest] = entry
        return result

    def _open(self) -> None:
        path = self.path
        if path is None:
            return
        raw = path.read_bytes() if path.exists() else b""
        *lines, tail = raw.split(b"\n")
        if not lines:  # new, or a crash tore the header itself
            header = json.dumps({"format": JOURNAL_FORMAT, "plan": self.plan_id})
            _write_new(path, header)
            return
        self._check_header(path, lines[0])
        keep = len(lines[0]) + 1
        for number, line in enumerate(lines[1:], start=2):
            entry = _parse(line)
            if entry is None:
                if number == len(lines) and not tail:  # the last line, torn (zeros after a power loss)
                    break
                raise JournalError(path, f"line {number} is damaged; it is not the last, so this is not a crash")
            self._entries.append(entry)
            keep += len(line) + 1
        if keep < len(raw):
            with path.open("r+b") as file:
                file.truncate(keep)
                file.flush()
                os.fsync(file.fileno())

    def _check_header(self, path: Path, line: bytes) -> None:
        try:
            header = json.loads(line)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != JOURNAL_FORMAT:
            raise JournalError(path, f"is not a docr journal ({JOURNAL_FORMAT})")
        if header.get("plan") != self.plan_id:
            raise JournalError(
                path, f"belongs to plan {header.get('plan')!r:.80}, not {self.plan_id}: use a new journal file"
            )


def _parse(line: bytes) -> JournalEntry | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("digest"), str):
        return None
    if data.get("outcome") not in get_args(Outcome):
        return None
    details = {key: value for key, value in data.items() if key not in ("digest", "outcome")}
    return JournalEntry(data["digest"], cast(Outcome, data["outcome"]), MappingProxyType(details))


def _append(path: Path, line: str) -> None:
    with path.open("ab") as file:
        file.write(line.encode() + b"\n")
        file.flush()
        os.fsync(file.fileno())


def _write_new(path: Path, header: str) -> None:
    with path.open("wb") as file:
        file.write(header.encode() + b"\n")
        file.flush()
        os.fsync(file.fileno())
    # The new name must survive a crash too; directories cannot be opened for fsync everywhere.
    with contextlib.suppress(OSError):
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
