"""Rate-limit bookkeeping: the `ratelimit-*` headers on every answer, and `rate_limit()`.

DigitalOcean counts requests per token in a sliding window (5000 an hour) and reports it on
every response: `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset` (the epoch
second at which the oldest counted request leaves the window).

By default the fake counts the same way (an hour, `ratelimit_limit` requests) but does not
enforce, and never reports fewer than 1 remaining: a client that rightly waits for the reset
when it sees 0 would otherwise stall for an hour against a fake that is not limiting anyone.

With `rate_limit(requests=N, window=W)` it enforces: per token, at most N requests in any W
seconds; beyond that it answers 429 `too_many_requests` with `ratelimit-remaining: 0` and a
`retry-after` (whole seconds until a slot frees). Refused requests are not counted, so a
client that waits as told gets through.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

__all__ = ["Quota", "RateLimiter"]

_HOUR = 3600.0


@dataclass(frozen=True)
class Quota:
    """What to report for one request, and whether it may proceed."""

    limit: int
    remaining: int
    reset: int
    allowed: bool = True
    retry_after: int | None = None


class RateLimiter:
    def __init__(self, default_limit: int) -> None:
        if default_limit < 1:
            raise ValueError(f"ratelimit_limit must be >= 1, got {default_limit}")
        self._lock = threading.Lock()
        self._default_limit = default_limit
        self._enforced: tuple[int, float] | None = None
        self._seen: dict[str, deque[float]] = {}

    def configure(self, requests: int | None, window: float) -> None:
        if requests is not None and (requests < 1 or window <= 0):
            raise ValueError(f"rate_limit needs requests >= 1 and window > 0, got {requests} and {window}")
        with self._lock:
            self._enforced = None if requests is None else (requests, window)
            # A new policy starts from a clean slate, as if the window had just passed.
            self._seen.clear()

    def idle(self) -> Quota:
        """The headers for an answer that was not counted (no valid token, injected faults)."""
        with self._lock:
            limit = self._enforced[0] if self._enforced else self._default_limit
        return Quota(limit=limit, remaining=limit, reset=int(time.time()))

    def count(self, token: str) -> Quota:
        """Count one request by `token` (if allowed) and say what to report."""
        now = time.time()
        with self._lock:
            limit, window = self._enforced or (self._default_limit, _HOUR)
            # Only the newest `limit` requests matter (beyond them nothing changes but `reset`), which
            # bounds memory in benchmarks that send far more than 5000 requests to a default fake.
            seen = self._seen.setdefault(token, deque(maxlen=limit))
            while seen and seen[0] <= now - window:
                seen.popleft()
            if self._enforced and len(seen) >= limit:
                free_at = seen[0] + window
                return Quota(limit, 0, math.ceil(free_at), allowed=False, retry_after=max(1, math.ceil(free_at - now)))
            seen.append(now)
            remaining = limit - len(seen)
            if not self._enforced:
                remaining = max(1, remaining)
            return Quota(limit, remaining, math.ceil(seen[0] + window))
