"""Injected faults: what can go wrong between a client and DOCR, on demand.

Kinds (`FaultKind`):

- an HTTP status (400-599): a JSON error body per the spec (`{"id", "message", "request_id"}`),
  except 502, which answers an HTML page as a proxy does, and 520, which answers an empty body
  as Cloudflare does;
- `"reset"`: the connection is reset (SO_LINGER 0, then close) before any response;
- `"truncated"`: a 200 whose JSON body is cut in half (content-length matches the cut body, so
  the client reads it whole and finds invalid JSON);
- `"slow"`: the normal answer, after `delay` seconds (to trip client timeouts);
- `"lost"`: the server performs the operation (a DELETE deletes), then resets the connection
  instead of answering: the client cannot tell whether it happened, as when a response is lost
  on the way. What idempotent retries of deletes must survive.

Faults come from a queue (`fail_next`, first matching rule first, optionally only for one
operation, by its name in `OPERATIONS`, and one page number) or, when the queue has nothing for
a request, from a seeded random draw (`fail_randomly`, optionally only for one operation).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, cast

__all__ = ["DEFAULT_RANDOM_KINDS", "OPERATIONS", "Fault", "FaultKind", "FaultPlan", "check_kind"]

FaultKind = int | Literal["reset", "truncated", "slow", "lost"]

NAMED_KINDS: Final = frozenset({"reset", "truncated", "slow", "lost"})
# The operations a fault can target, as the request log names them (`RecordedRequest.operation`).
OPERATIONS: Final = (
    "list_manifests",
    "delete_manifest",
    "list_tags",
    "delete_tag",
    "list_repositories",
    "get_registry",
    "get_subscription",
    "get_docker_credentials",
    "start_garbage_collection",
    "get_garbage_collection",
    "list_garbage_collections",
    "cancel_garbage_collection",
    "oci_base",
    "oci_token",
    "oci_manifest",
)
DEFAULT_RANDOM_KINDS: Final[tuple[FaultKind, ...]] = (429, 500, 502, 503, "reset", "truncated")
DEFAULT_SLOW_DELAY: Final = 5.0


@dataclass(frozen=True)
class Fault:
    """One fault to answer: its kind plus what the answer should carry."""

    kind: FaultKind
    retry_after: int | None = None
    ratelimit_reset: int | None = None
    # Seconds to wait before answering (for "slow", the whole point; for others, optional).
    delay: float = 0.0

    @property
    def name(self) -> str:
        """How the request log names it: "503", "reset", ..."""
        return str(self.kind)


def check_kind(kind: object) -> FaultKind:
    if isinstance(kind, int) and not isinstance(kind, bool) and 400 <= kind <= 599:
        return kind
    if isinstance(kind, str) and kind in NAMED_KINDS:
        return cast(FaultKind, kind)
    raise ValueError(f"fault kind must be an HTTP status from 400 to 599 or one of {sorted(NAMED_KINDS)}: {kind!r}")


def check_operation(operation: str | None) -> str | None:
    if operation is not None and operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)} (or None for any): {operation!r}")
    return operation


@dataclass
class _Rule:
    fault: Fault
    remaining: int
    page: int | None
    operation: str | None

    def matches(self, operation: str | None, page: int | None) -> bool:
        return (self.page is None or self.page == page) and (self.operation is None or self.operation == operation)


class FaultPlan:
    """The queue of `fail_next` rules and the `fail_randomly` setting, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._fraction = 0.0
        self._kinds: tuple[FaultKind, ...] = DEFAULT_RANDOM_KINDS
        self._random_operation: str | None = None
        self._rng = random.Random()
        self._injected = 0

    def fail_next(
        self,
        kind: FaultKind,
        *,
        count: int = 1,
        page: int | None = None,
        retry_after: int | None = None,
        ratelimit_reset: int | None = None,
        delay: float | None = None,
        operation: str | None = None,
    ) -> None:
        kind = check_kind(kind)
        check_operation(operation)
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        if page is not None and page < 1:
            raise ValueError(f"page must be >= 1, got {page}")
        if retry_after is not None and retry_after < 0:
            raise ValueError(f"retry_after must be >= 0 seconds, got {retry_after}")
        if delay is not None and delay < 0:
            raise ValueError(f"delay must be >= 0 seconds, got {delay}")
        wait = delay if delay is not None else (DEFAULT_SLOW_DELAY if kind == "slow" else 0.0)
        fault = Fault(kind, retry_after=retry_after, ratelimit_reset=ratelimit_reset, delay=wait)
        with self._lock:
            self._rules.append(_Rule(fault, count, page, operation))

    def fail_randomly(
        self, fraction: float, kinds: Iterable[FaultKind], seed: int | None, operation: str | None = None
    ) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be from 0 to 1, got {fraction}")
        checked = tuple(check_kind(kind) for kind in kinds)
        if fraction and not checked:
            raise ValueError("kinds must name at least one fault kind")
        check_operation(operation)
        with self._lock:
            self._random_operation = operation
            self._fraction = fraction
            self._kinds = checked
            self._rng = random.Random(seed)

    def take(self, operation: str | None, page: int | None) -> Fault | None:
        """The fault for a request (for `page`, None if not a page request), or None; counts it as injected."""
        with self._lock:
            fault = self._take(operation, page)
            if fault is not None:
                self._injected += 1
            return fault

    def _take(self, operation: str | None, page: int | None) -> Fault | None:
        for index, rule in enumerate(self._rules):
            if rule.matches(operation, page):
                rule.remaining -= 1
                if rule.remaining == 0:
                    del self._rules[index]
                return rule.fault
        # One draw per request the queue left alone: the same requests in the same order with
        # the same seed meet the same faults.
        if self._random_operation is not None and self._random_operation != operation:
            return None
        if self._fraction and self._rng.random() < self._fraction:
            kind = self._rng.choice(self._kinds)
            return Fault(kind, delay=DEFAULT_SLOW_DELAY if kind == "slow" else 0.0)
        return None

    @property
    def injected(self) -> int:
        with self._lock:
            return self._injected
