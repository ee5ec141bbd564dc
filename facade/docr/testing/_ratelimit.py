"""Rate-limit bookkeeping: the `ratelimit-*` headers on every answer, and `rate_limit()`.

DigitalOcean counts requests per token and reports the hourly quota on every response:
`ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset` (the epoch second at which the
oldest counted request leaves the hour). It enforces two limits at once: 5,000 requests an hour
and 250 a minute.

By default the fake counts the same way (an hour, `ratelimit_limit` requests) but does not
enforce, and never reports fewer than 1 remaining: a client that rightly waits for the reset
when it sees 0 would otherwise stall for an hour against a fake that is not limiting anyone.

Enforcing, per token, over sliding windows; refused requests are not counted, so a client
that waits as told gets through:

- `rate_limit(requests=N, window=W)`: at most N requests in any W seconds; beyond, 429
  `too_many_requests` with `ratelimit-remaining: 0` and a `retry-after` (whole seconds until a
  slot frees);
- `rate_limit(per_minute=250, per_hour=5000, time_scale=1)`: both of DigitalOcean's limits.
  The headers report the hourly quota. Past the minute limit (a burst) the answer is a 429 with
  a `retry-after` (seconds until the minute has room; the hourly `ratelimit-remaining` may well
  be above 0); past the hourly limit, a 429 with `ratelimit-remaining: 0` and no `retry-after`
  (clients wait for `ratelimit-reset`), as DigitalOcean's own clients expect (droplet_kit's
  README: burst limits carry Retry-After, the hourly limit is an error). `time_scale=60` makes a
  minute last one second and an hour one minute; `retry-after` is then in real seconds and may
  be fractional.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from docr.testing._clock import Clock

__all__ = ["Quota", "RateLimiter"]

_HOUR = 3600.0
_MINUTE = 60.0


@dataclass(frozen=True)
class Quota:
    """What to report for one request, and whether it may proceed."""

    limit: int
    remaining: int
    reset: int
    allowed: bool = True
    retry_after: float | None = None


@dataclass(frozen=True)
class _Policy:
    limit: int  # the hourly (or only) limit, reported in the headers
    window: float  # its window in real seconds
    burst: int | None = None  # the per-minute limit, if any
    burst_window: float = _MINUTE
    whole_seconds: bool = True


class _Seen:
    __slots__ = ("burst", "window")

    def __init__(self, limit: int, burst: int | None) -> None:
        # Only the newest `limit` requests matter (beyond them nothing changes but `reset`), which
        # bounds memory in benchmarks that send far more than 5000 requests to a default fake.
        self.window: deque[float] = deque(maxlen=limit)
        self.burst: deque[float] = deque(maxlen=burst or 1)


class RateLimiter:
    def __init__(self, default_limit: int, clock: Clock) -> None:
        if default_limit < 1:
            raise ValueError(f"ratelimit_limit must be >= 1, got {default_limit}")
        self._lock = threading.Lock()
        self._clock = clock
        self._default = _Policy(default_limit, _HOUR)
        self._enforced: _Policy | None = None
        self._seen: dict[str, _Seen] = {}
        self.refused = 0

    def configure(self, requests: int | None, window: float) -> None:
        if requests is not None and (requests < 1 or window <= 0):
            raise ValueError(f"rate_limit needs requests >= 1 and window > 0, got {requests} and {window}")
        self._set(None if requests is None else _Policy(requests, window))

    def configure_do(self, per_minute: int, per_hour: int, time_scale: float) -> None:
        if per_minute < 1 or per_hour < 1 or not time_scale > 0:
            raise ValueError(
                f"rate_limit needs per_minute and per_hour >= 1 and time_scale > 0, got {per_minute},"
                f" {per_hour} and {time_scale}"
            )
        policy = _Policy(per_hour, _HOUR / time_scale, per_minute, _MINUTE / time_scale, whole_seconds=time_scale == 1)
        self._set(policy)

    def _set(self, policy: _Policy | None) -> None:
        with self._lock:
            self._enforced = policy
            # A new policy starts from a clean slate, as if the window had just passed.
            self._seen.clear()

    def idle(self) -> Quota:
        """The headers for an answer that was not counted (no valid token, injected faults)."""
        with self._lock:
            limit = (self._enforced or self._default).limit
        return Quota(limit=limit, remaining=limit, reset=int(self._clock()))

    def count(self, token: str) -> Quota:
        """Count one request by `token` (if allowed) and say what to report."""
        now = self._clock()
        with self._lock:
            policy = self._enforced or self._default
            seen = self._seen.get(token)
            if seen is None:
                seen = self._seen[token] = _Seen(policy.limit, policy.burst)
            _expire(seen.window, now - policy.window)
            _expire(seen.burst, now - policy.burst_window)
            if self._enforced is not None:
                refusal = self._refusal(policy, seen, now)
                if refusal is not None:
                    self.refused += 1
                    return refusal
            seen.window.append(now)
            if policy.burst is not None:
                seen.burst.append(now)
            remaining = policy.limit - len(seen.window)
            if self._enforced is None:
                remaining = max(1, remaining)
            return Quota(policy.limit, remaining, math.ceil(seen.window[0] + policy.window))

    @staticmethod
    def _refusal(policy: _Policy, seen: _Seen, now: float) -> Quota | None:
        if len(seen.window) >= policy.limit:
            free_at = seen.window[0] + policy.window
            retry = None if policy.burst is not None else max(1, math.ceil(free_at - now))
            return Quota(policy.limit, 0, math.ceil(free_at), allowed=False, retry_after=retry)
        if policy.burst is not None and len(seen.burst) >= policy.burst:
            wait = seen.burst[0] + policy.burst_window - now
            retry_after = max(1, math.ceil(wait)) if policy.whole_seconds else max(0.001, round(wait, 3))
            remaining = policy.limit - len(seen.window)
            return Quota(policy.limit, remaining, math.ceil(seen.window[0] + policy.window), False, retry_after)
        return None


def _expire(times: deque[float], before: float) -> None:
    while times and times[0] <= before:
        times.popleft()
