"""Time for the fake: the wall clock by default, or a `ManualClock` a test moves by hand.

Everything in the fake that depends on time reads one clock: the rate limiter's windows, the
garbage collections' progress, the expiry of docker credentials and registry tokens, and the
timestamps the API reports. A test that injects a `ManualClock` never sleeps:

    clock = ManualClock()                       # starts at 2026-05-01T12:00:00Z
    with FakeRegistry(clock=clock) as fake:
        ...start a garbage collection...
        clock.advance(60)                       # a minute later, at once
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "ManualClock", "iso", "now_seconds"]

# Seconds since the epoch, like time.time.
Clock = Callable[[], float]

_START = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC).timestamp()


class ManualClock:
    """A clock that stands still until told: `clock()` is now, `clock.advance(seconds)` moves it."""

    def __init__(self, start: float | datetime = _START) -> None:
        self._lock = threading.Lock()
        self._now = _seconds(start)

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move forward `seconds` (>= 0): time never runs backwards."""
        if seconds < 0:
            raise ValueError(f"a clock only moves forward: advance({seconds})")
        with self._lock:
            self._now += seconds

    def __repr__(self) -> str:
        return f"ManualClock({iso(self())!r})"


def now_seconds() -> float:
    """The wall clock (the default)."""
    return time.time()


def _seconds(when: float | datetime) -> float:
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("a datetime for the clock needs a timezone (e.g. datetime.UTC)")
        return when.timestamp()
    return float(when)


def iso(seconds: float) -> str:
    """An API timestamp: ISO 8601 in UTC with `Z`, whole seconds (as DigitalOcean writes most)."""
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
