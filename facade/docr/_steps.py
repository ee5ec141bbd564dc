"""Multi-step operations as plain generators: they yield what to do, the drivers do it. No I/O.

An operation that takes several exchanges (wait for a garbage collection; read a manifest from
the registry, fetching credentials and a token on the way) is written once, as a generator
that yields a ``Call`` (the driver sends it and sends back the result, or throws the docr
exception it raised) or a ``Sleep`` (the driver sleeps, or awaits), and finally returns its
result. ``Client`` runs it with threads, ``AsyncClient`` with ``await``; the logic is shared, and
tested without a network by driving the generator by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from docr._errors import APITimeoutError, NotFoundError
from docr._exchange import Call
from docr._operations import gc_page, get_active_gc
from docr._resources import GarbageCollection

__all__ = ["Sleep", "Steps", "UnknownGarbageCollection", "WaitTimedOut", "wait_gc"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


Steps = Generator["Call[Any] | Sleep", Any, T]


class WaitTimedOut(APITimeoutError):
    """``wait_garbage_collection``'s own ``timeout`` passed (the collection goes on); not a request's."""


class UnknownGarbageCollection(NotFoundError):
    """The uuid is neither the active garbage collection nor in the registry's history."""


def wait_gc(
    registry: str,
    uuid: str,
    *,
    poll_interval: float,
    timeout: float | None,
    on_status: Callable[[GarbageCollection], object] | None,
    clock: Callable[[], float],
) -> Steps[GarbageCollection]:
    """Poll until garbage collection ``uuid`` has finished; report each new status to ``on_status``."""
    deadline = None if timeout is None else clock() + timeout
    last: str | None = None
    while True:
        try:
            active: GarbageCollection | None = yield get_active_gc(registry)
        except NotFoundError:
            active = None  # the API answers 404 when none is running
        current = active if active is not None and active.uuid == uuid else None
        if current is None:
            # Not the active one (any more): it has ended, or never existed. Find it in the history.
            current = yield from _find_gc(registry, uuid)
        if current.status != last:
            last = current.status
            if on_status is not None:
                on_status(current)
        if current.finished:
            return current
        if deadline is not None and clock() + poll_interval > deadline:
            raise WaitTimedOut(
                f"garbage collection {uuid} of {registry} is still {current.status!r} after {timeout:g}s"
            )
        yield Sleep(poll_interval)


def _find_gc(registry: str, uuid: str, per_page: int = 50, max_pages: int = 20) -> Steps[GarbageCollection]:
    for page in range(1, max_pages + 1):
        found: list[GarbageCollection] = yield gc_page(registry, page, per_page)
        for collection in found:
            if collection.uuid == uuid:
                return collection
        if len(found) < per_page:
            break
    raise UnknownGarbageCollection(
        status_code=404,
        error_id="not_found",
        message=f"garbage collection {uuid} of {registry} is neither running nor in its history",
    )
