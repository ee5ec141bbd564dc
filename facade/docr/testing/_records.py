"""The request log: what the fake was asked, what it answered, and how many at once.

Each request is recorded when it arrives (so the log is in arrival order even when handlers
run concurrently) and completed with its status when it has been answered. Secrets never
reach the log: the Authorization header is redacted before the record is made (its scheme
word, `Bearer` or `Basic`, stays), and so is the `account` query parameter a registry client
sends to the token endpoint (DOCR's docker username is as secret as its password).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["RecordedRequest", "RequestLog", "redact_headers"]

REDACTED = "[redacted]"
_SCHEMES = {"bearer": "Bearer", "basic": "Basic"}
_SECRET_PARAMETERS = frozenset({"account"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received.

    `raw_path` is the request target exactly as sent (still percent-encoded, with its query);
    `path` is its path part, percent-decoded; `query` maps each parameter to its first value
    (the one the fake acts on, like Go's `Query().Get`); `headers` has lower-case names and
    the token redacted (`Authorization: Bearer [redacted]`). `status` is None while the request
    is being handled and for a connection reset (nothing was answered); `fault` names the
    injected fault (`"503"`, `"reset"`, `"truncated"`, `"slow"`, `"lost"`...) or is None.
    `operation` is the operation the request asked for (a name in `docr.testing.OPERATIONS`,
    whatever the answer), None when its path and method name none; `api` is `"do"` for the
    DigitalOcean API (`fake.url`) and `"oci"` for the registry API (`fake.oci_url`).
    """

    method: str
    raw_path: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int | None = None
    fault: str | None = None
    request_id: str | None = None
    operation: str | None = None
    api: str = "do"


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case the names and hide the token, keeping `Bearer` so tests can still see the scheme."""
    redacted: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        if key == "authorization" and value:
            # Keep only a known scheme word: anything else might be the secret itself.
            scheme = _SCHEMES.get(value.split(None, 1)[0].lower() if value.strip() else "")
            value = f"{scheme} {REDACTED}" if scheme else REDACTED
        redacted[key] = value
    return redacted


def _redact_target(raw_path: str) -> str:
    path, mark, query = raw_path.partition("?")
    if not mark:
        return raw_path
    parts = []
    for part in query.split("&"):
        name = unquote(part.partition("=")[0])
        parts.append(f"{part.partition('=')[0]}={REDACTED}" if name in _SECRET_PARAMETERS else part)
    return f"{path}?{'&'.join(parts)}"


def make_record(
    method: str, raw_path: str, headers: Mapping[str, str], *, operation: str | None = None, api: str = "do"
) -> RecordedRequest:
    raw_path = _redact_target(raw_path)
    target = urlsplit(raw_path)
    query: dict[str, str] = {}
    for name, value in parse_qsl(target.query, keep_blank_values=True):
        query.setdefault(name, value)
    return RecordedRequest(
        method=method,
        raw_path=raw_path,
        path=unquote(target.path),
        query=query,
        headers=redact_headers(headers),
        operation=operation,
        api=api,
    )


@dataclass
class _Slot:
    # A mutable holder, so a request answered after clear_requests() cannot touch the new log.
    record: RecordedRequest


@dataclass
class RequestLog:
    """Thread-safe log of requests plus the in-flight gauge."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: list[_Slot] = field(default_factory=list)
    _in_flight: int = 0
    _max_in_flight: int = 0

    def begin(self, record: RecordedRequest) -> _Slot:
        slot = _Slot(record)
        with self._lock:
            self._slots.append(slot)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        return slot

    def finish(self, slot: _Slot, *, status: int | None, fault: str | None, request_id: str | None) -> None:
        with self._lock:
            slot.record = dataclasses.replace(slot.record, status=status, fault=fault, request_id=request_id)
            self._in_flight -= 1

    def records(self) -> list[RecordedRequest]:
        with self._lock:
            return [slot.record for slot in self._slots]

    def clear(self) -> None:
        with self._lock:
            self._slots = []
            # Requests still being handled are "at once" with whatever comes next.
            self._max_in_flight = self._in_flight

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        with self._lock:
            return self._max_in_flight
