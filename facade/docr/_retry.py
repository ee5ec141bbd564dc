"""When to retry a failed request, and how long to wait first. No I/O here.

GETs and DELETEs are safe to repeat. Retried: 429, 500, 502, 503, 504, Cloudflare's 520-524 (the
origin did not answer properly), a 2xx whose body is not JSON (a body cut short by a proxy),
connection failures and timeouts. Not retried: every other 4xx, which would only fail again, and
a 2xx whose well-formed JSON has a wrong type or that is over the size cap (deterministic).

Waits grow exponentially from ``initial_backoff`` (doubling, capped at ``max_backoff``) with
up to 25% jitter taken off, so many clients do not retry in step. A 429 names its own wait
(``retry-after`` in seconds or as an HTTP date, else ``ratelimit-reset``, which upstream
defines as when the oldest counted request expires, so only a hint); above
``max_server_wait`` it is not slept through: the ``RateLimitError`` is raised at once.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import time
from collections.abc import Callable

from docr._errors import APIError, DocrError, InvalidResponse, RateLimitError, ServerError, TransportError

logger = logging.getLogger("docr")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
_random, _clock = random.random, time.time  # the defaults (the class's own names hide the modules)


class RetryPolicy:
    """How many times to retry (after the first attempt) and how long to wait between tries.

    Read-only once built. A plain class: a frozen dataclass's generated methods cost ~1.5 ms
    of ``import docr`` (the start-up target), and nothing here uses them.
    """

    __slots__ = ("clock", "initial_backoff", "max_backoff", "max_retries", "max_server_wait", "random")

    max_retries: int
    initial_backoff: float
    max_backoff: float
    max_server_wait: float
    random: Callable[[], float]
    clock: Callable[[], float]

    def __init__(
        self,
        max_retries: int = 3,
        initial_backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_server_wait: float = 60.0,
        random: Callable[[], float] = _random,
        clock: Callable[[], float] = _clock,
    ) -> None:
        setter = object.__setattr__
        setter(self, "max_retries", max_retries)
        setter(self, "initial_backoff", initial_backoff)
        setter(self, "max_backoff", max_backoff)
        setter(self, "max_server_wait", max_server_wait)
        setter(self, "random", random)
        setter(self, "clock", clock)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"RetryPolicy is read-only; cannot set {name!r}")

    def __repr__(self) -> str:
        return f"RetryPolicy(max_retries={self.max_retries}, initial_backoff={self.initial_backoff})"

    def is_retryable(self, error: DocrError) -> bool:
        if isinstance(error, TransportError):
            return True
        if isinstance(error, InvalidResponse):
            # A body cut short may come whole next time; a wrong type in well-formed JSON will not.
            return error.transient
        return isinstance(error, RateLimitError | ServerError) and error.status_code in RETRYABLE_STATUSES

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based), jitter included."""
        base: float = min(self.max_backoff, self.initial_backoff * 2.0 ** (attempt - 1))
        jitter: float = self.random()
        return base * (1 - 0.25 * jitter)

    def delay(self, error: DocrError, attempt: int, *, idempotent: bool = True) -> float | None:
        """Seconds to wait before trying again after ``attempt`` failed, or ``None`` to give up.

        A call that is not ``idempotent`` (a POST that may have acted) is retried only when it
        surely never reached the API: a 429, or a connection that was never made.
        """
        if attempt > self.max_retries or not self.is_retryable(error):
            return None
        if not idempotent and not (
            isinstance(error, RateLimitError) or (isinstance(error, TransportError) and not error.request_sent)
        ):
            return None
        if isinstance(error, RateLimitError) and error.retry_after:
            # A wait of 0 (a reset already past) would retry at once: back off instead.
            if error.retry_after > self.max_server_wait:
                return None
            return error.retry_after
        return self.backoff(attempt)

    def wait_or_raise(self, error: DocrError, attempt: int, what: str, *, idempotent: bool = True) -> float:
        """The wait before the next attempt; raises ``error`` (with ``attempts`` set) when final."""
        wait = self.delay(error, attempt, idempotent=idempotent)
        if wait is None:
            if isinstance(error, APIError | TransportError):
                error.attempts = attempt
            raise error
        logger.debug(
            "retrying %s in %.2fs after %s (attempt %d of %d)",
            what,
            wait,
            type(error).__name__,
            attempt + 1,
            self.max_retries + 1,
        )
        return wait


def server_wait(retry_after: str | None, ratelimit_reset: str | None, now: float) -> float | None:
    """The wait a 429 asks for, in seconds: ``retry-after`` first, else ``ratelimit-reset``."""
    if retry_after is not None:
        text = retry_after.strip()
        try:
            return max(0.0, float(text))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            return max(0.0, when.timestamp() - now)
    if ratelimit_reset is not None:
        try:
            return max(0.0, float(ratelimit_reset) - now)
        except ValueError:
            return None
    return None
