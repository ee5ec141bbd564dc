"""The client's rate budget: when the next request may go, so a long run never meets a 429. No I/O.

DigitalOcean allows each token 250 requests in any minute and 5,000 in any hour (sliding
windows), and reports the hourly count on every answer (``ratelimit-limit``,
``ratelimit-remaining``, ``ratelimit-reset``: when the oldest counted request leaves the
window). A walk over a whole registry, or a prune sending thousands of deletes, is bound by
those numbers, not by the machine. ``RateBudget`` keeps both windows of the requests this client
sent, and believes the server's ``remaining`` when it is lower (another process may share the
token): every request first ``reserve``s a slot and waits the time it is given.

Usage::

    budget = RateBudget(RateLimits())          # 250/min, 5,000/h
    wait = budget.reserve(time.monotonic())    # 0.0 while there is room; else seconds to wait
    budget.observe(rate_limit_headers, time.monotonic(), time.time())

``RateLimits(time_scale=60)`` makes a minute last one second (for tests and benchmarks against
``docr.testing.FakeRegistry`` with the same scale).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from docr._errors import InvalidArgument

__all__ = ["RateBudget", "RateLimits"]


@dataclass(frozen=True)
class RateLimits:
    """The limits a client paces itself to: per minute, per hour, and a time scale for tests."""

    per_minute: int = 250
    per_hour: int = 5000
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        for name in ("per_minute", "per_hour"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgument("rate_limits", f"{name} must be an int of 1 or more, not {value!r}")
        scale = self.time_scale
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale < math.inf:
            raise InvalidArgument("rate_limits", f"time_scale must be a positive number, not {scale!r}")

    @property
    def minute(self) -> float:
        return 60.0 / self.time_scale

    @property
    def hour(self) -> float:
        return 3600.0 / self.time_scale


class RateBudget:
    """Sliding windows of this client's own requests, corrected by what the server reports.

    Thread-safe: the sync client's workers reserve from several threads.
    """

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._minute: deque[float] = deque()
        self._hour: deque[float] = deque()
        # From the latest answer: how many the server still allows, and when (monotonic) the
        # oldest counted request leaves its window.
        self._server_remaining: int | None = None
        self._server_reset: float | None = None
        self._sent = 0  # slots reserved so far
        self._sent_when_observed = 0

    def reserve(self, now: float) -> float:
        """Take a slot: 0.0 if a request may go now, else how long to wait before sending.

        The slot is booked at ``now + wait``, so concurrent callers are spread out in time.
        """
        with self._lock:
            minute, hour = self.limits.minute, self.limits.hour
            self._expire(now)
            at = now
            # A little after the window's edge: the server counts arrivals, which lag our sends by
            # a varying network delay, so a request booked exactly at the edge could land inside.
            margin = 0.05 * minute + 0.02
            if len(self._minute) >= self.limits.per_minute:
                at = max(at, self._minute[len(self._minute) - self.limits.per_minute] + minute + margin)
            if len(self._hour) >= self.limits.per_hour:
                at = max(at, self._hour[len(self._hour) - self.limits.per_hour] + hour + margin)
            if self._server_remaining is not None and self._server_reset is not None:
                # Requests sent since that answer count against what it said remained.
                spent = self._sent - self._sent_when_observed
                if self._server_remaining - spent <= 0 and self._server_reset > now:
                    at = max(at, self._server_reset)
            self._minute.append(at)
            self._hour.append(at)
            self._sent += 1
            return at - now

    def observe(self, headers: Mapping[str, str], now: float, wall_now: float) -> None:
        """Learn from an answer's ``ratelimit-*`` headers (a 429's included)."""
        remaining = _int(headers.get("ratelimit-remaining"))
        reset = _int(headers.get("ratelimit-reset"))
        if remaining is None:
            return
        with self._lock:
            self._server_remaining = remaining
            self._sent_when_observed = self._sent
            if reset is not None and 0 <= reset - wall_now <= self.limits.hour:
                self._server_reset = now + (reset - wall_now)
            else:
                self._server_reset = None  # a reset in the past or beyond the window is no guide

    def _expire(self, now: float) -> None:
        while self._minute and self._minute[0] <= now - self.limits.minute:
            self._minute.popleft()
        while self._hour and self._hour[0] <= now - self.limits.hour:
            self._hour.popleft()


def _int(value: str | None) -> int | None:
    if value is None or not 0 < len(value) <= 20:
        return None
    try:
        return int(value)
    except ValueError:
        return None
