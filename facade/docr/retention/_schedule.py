"""An apply's decisions, sans I/O: what to journal first, which delete may start, what a failure holds back.

Usage (by the drivers in ``_applying``)::

    schedule = Schedule(plan, done=journal.done(), current=listing_now, oci=bodies, unreadable=failures)
    for event in schedule.initial:                 # gone or changed since the plan: no delete
        journal.record(event.digest, event.outcome, **event.details)
    while not schedule.finished:
        for digest in schedule.ready(room):        # an index before its children, at most `room`
            ...                                    # journal "attempt", send the DELETE
        for event in schedule.finish(digest, outcome, details):   # the outcome, then what it holds back
            journal.record(...)

``oci`` holds the bodies of the candidates still there and of manifests that appeared since the
plan (bodies are content-addressed, so they are the plan's too, but a saved plan does not carry
them). From them the schedule knows, exactly, which candidate references which:

- a candidate starts only after every candidate that must go before it has gone (an index
  before the children it lists, a referrer before its subject, an attestation before the image
  it describes), so a run stopped at any point leaves no index naming a deleted child;
- a candidate that stays (changed since the plan, or its delete failed) keeps everything it
  references with it (``skipped``): the children of a re-tagged index are not deleted;
- if the body of a candidate still there cannot be read, nothing is deleted: it may be an index
  over the others (fail closed, as planning does).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from docr._oci import OCIManifest
from docr.retention._apply import ALREADY_GONE, stale_candidates
from docr.retention._graph import build_graph, reachable
from docr.retention._journal import Outcome
from docr.retention._plan import Plan
from docr.retention._types import ListedManifest

__all__ = ["Event", "Schedule"]

_SHOWN_UNREAD = 3


@dataclass(frozen=True)
class Event:
    """One line for the journal: ``details`` holds ``why`` for a skip and ``error`` for a failure."""

    digest: str
    outcome: Outcome
    details: Mapping[str, Any] = field(default_factory=dict)


class Schedule:
    """The state of one apply (see the module docstring). Not thread-safe: one driver drives it."""

    def __init__(
        self,
        plan: Plan,
        *,
        done: Collection[str],
        current: Iterable[ListedManifest],
        oci: Mapping[str, OCIManifest],
        unreadable: Mapping[str, str],
    ) -> None:
        todo = [candidate.digest for candidate in plan.candidates if candidate.digest not in done]
        stale = stale_candidates(plan, current, oci=oci)
        self.initial: list[Event] = []
        staying: list[str] = []
        deletable: list[str] = []
        for digest in todo:
            why = stale.get(digest)
            if why == ALREADY_GONE:
                self.initial.append(Event(digest, "already-gone"))
            elif why is not None:
                self.initial.append(Event(digest, "skipped", {"why": why}))
                staying.append(digest)
            else:
                deletable.append(digest)
        unread = [digest for digest in [*staying, *deletable] if digest not in oci]
        if unread and deletable:
            why = _fail_closed(unread, unreadable)
            self.initial.extend(Event(digest, "skipped", {"why": why}) for digest in deletable)
            deletable = []
        self._order = {digest: number for number, digest in enumerate(deletable)}
        self._graph = build_graph({*staying, *deletable}, oci)
        self._waiting = dict.fromkeys(deletable, 0)
        for digest in deletable:
            for later in self._graph.before.get(digest, ()):
                if later in self._waiting:
                    self._waiting[later] += 1
        self._started: set[str] = set()
        self._ended: set[str] = set()
        self.initial.extend(self._hold_back(staying, "is skipped"))

    @property
    def finished(self) -> bool:
        """Every candidate to delete has an outcome (nothing waits, nothing is in flight)."""
        return not self._waiting

    @property
    def in_flight(self) -> int:
        return len(self._started)

    def ready(self, room: int) -> list[str]:
        """Up to ``room`` candidates that may be deleted now, in the plan's order; they count as started."""
        found = [digest for digest, count in self._waiting.items() if count == 0 and digest not in self._started]
        found.sort(key=self._order.__getitem__)
        chosen = found[: max(room, 0)]
        self._started.update(chosen)
        return chosen

    def finish(self, digest: str, outcome: Outcome, details: Mapping[str, Any] | None = None) -> list[Event]:
        """Record a started delete's outcome; return it as an event, then the skips it causes."""
        if digest not in self._started:
            raise ValueError(f"{digest} was not started")
        self._started.discard(digest)
        events = [Event(digest, outcome, dict(details or {}))]
        self._end(digest)
        if outcome not in ("deleted", "already-gone"):
            events.extend(self._hold_back([digest], "could not be deleted"))
        return events

    def _end(self, digest: str) -> None:
        self._waiting.pop(digest, None)
        self._ended.add(digest)
        for later in self._graph.before.get(digest, ()):
            if later in self._waiting:
                self._waiting[later] -= 1

    def _hold_back(self, staying: list[str], because: str) -> list[Event]:
        """Skip every candidate not yet started that a staying one references, transitively."""
        kept = reachable(staying, self._graph.children) - set(staying)
        events = []
        for digest in sorted(
            (d for d in kept if d in self._waiting and d not in self._started), key=self._order.__getitem__
        ):
            parent = next(p for _, p in self._graph.parents[digest] if p in kept or p in staying)
            events.append(Event(digest, "skipped", {"why": f"kept with {parent}, which {because}"}))
            self._end(digest)
        return events


def _fail_closed(unread: list[str], unreadable: Mapping[str, str]) -> str:
    shown = ", ".join(f"{digest} ({unreadable.get(digest, 'not read')})" for digest in unread[:_SHOWN_UNREAD])
    more = f" and {len(unread) - _SHOWN_UNREAD} more" if len(unread) > _SHOWN_UNREAD else ""
    return (
        f"fail closed: {len(unread)} candidate(s) could not be read, so any may be an index over the others:"
        f" nothing is deleted. Not read: {shown}{more}"
    )
