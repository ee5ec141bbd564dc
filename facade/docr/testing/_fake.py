"""`FakeRegistry`: the fake's public face, and the order in which a request is answered.

A request goes through, in order:

1. the request log (`requests`, `in_flight`), with the token redacted;
2. `latency`, then the `on_request` callback (which may change the manifests);
3. an injected fault, if one is due (`fail_next`, then `fail_randomly`): infrastructure in
   front of the API fails before the API sees the request;
4. auth (401), the rate limit (429), the route (404), the method (405), `page`/`per_page`
   (400), the registry and repository (404), and finally the page (200).
"""

from __future__ import annotations

import hmac
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

from docr.testing import _api
from docr.testing._faults import DEFAULT_RANDOM_KINDS, Fault, FaultKind, FaultPlan
from docr.testing._generate import generate
from docr.testing._ratelimit import Quota, RateLimiter
from docr.testing._records import RecordedRequest, RequestLog, make_record
from docr.testing._server import Answer, FakeHTTPServer
from docr.testing._store import ManifestStore

__all__ = ["FakeRegistry"]

Callback = Callable[[RecordedRequest], object]
_C = TypeVar("_C", bound=Callback | None)


class FakeRegistry:
    """A local fake of DOCR's list-manifests API; see the `docr.testing` docstring for usage."""

    def __init__(
        self,
        *,
        port: int = 0,
        latency: float = 0.0,
        token: str | None = None,
        ratelimit_limit: int = 5000,
        host: str = "127.0.0.1",
    ) -> None:
        if token == "":
            raise ValueError("token must be None (accept any bearer token) or a non-empty string")
        self._address = (host, port)
        self._token = token
        self._lock = threading.Lock()
        self._latency = 0.0
        self.latency = latency
        self._callback: Callback | None = None
        self._callback_errors: list[BaseException] = []
        self._stopping = threading.Event()
        self._server: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._store = ManifestStore()
        self._log = RequestLog()
        self._faults = FaultPlan()
        self._limiter = RateLimiter(ratelimit_limit)

    # Lifecycle

    def start(self) -> Self:
        """Bind and serve in a background thread (what `with` does)."""
        if self._server is not None or self._stopping.is_set():
            raise RuntimeError("a FakeRegistry starts once")
        self._server = FakeHTTPServer(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True, name="docr-fake-server"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and join every thread; waits in handlers (latency, slow faults) end at once."""
        self._stopping.set()
        if self._server is not None:
            self._server.close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        # A failing on_request callback answered 500 to the client; fail the test here too, so
        # a broken callback cannot pass unnoticed.
        if error is None and self._callback_errors:
            raise self._callback_errors[0]

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`, the base URL to give clients."""
        if self._server is None:
            raise RuntimeError("the fake is not started: use `with FakeRegistry() as fake:` or fake.start()")
        return f"http://{self._server.server_name}:{self._server.server_port}"

    # Data

    def add_manifests(self, registry: str, repository: str, manifests: Iterable[Mapping[str, Any]]) -> None:
        """Add API-shaped manifests (each needs a `digest`; the same digest again replaces it)."""
        self._store.add(registry, repository, manifests)

    def generate(self, registry: str, repository: str, count: int = 100, seed: int = 0) -> list[dict[str, Any]]:
        """Add `count` realistic manifests, the same for the same seed; returns them newest first."""
        manifests, entries = generate(registry, repository, count, seed)
        self._store.add_entries(registry, repository, entries)
        return manifests

    def delete_manifests(self, registry: str, repository: str, digests: Iterable[str]) -> None:
        """Delete manifests by digest; KeyError (and nothing deleted) if any is not there."""
        self._store.delete(registry, repository, digests)

    def manifests(self, registry: str, repository: str) -> list[dict[str, Any]]:
        """A copy of the repository's manifests in the order the API serves them (newest first)."""
        return self._store.manifests(registry, repository)

    # Observation

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._log.records()

    def clear_requests(self) -> None:
        """Empty the request log and restart `max_in_flight` from the requests in flight now."""
        self._log.clear()

    @property
    def in_flight(self) -> int:
        return self._log.in_flight

    @property
    def max_in_flight(self) -> int:
        return self._log.max_in_flight

    @property
    def faults_injected(self) -> int:
        return self._faults.injected

    # Behaviour

    @property
    def latency(self) -> float:
        with self._lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {seconds}")
        with self._lock:
            self._latency = seconds

    def fail_next(
        self,
        kind: FaultKind,
        *,
        count: int = 1,
        page: int | None = None,
        retry_after: int | None = None,
        ratelimit_reset: int | None = None,
        delay: float | None = None,
    ) -> None:
        """Answer the next `count` requests (for `page` only, if given) with fault `kind`."""
        self._faults.fail_next(
            kind, count=count, page=page, retry_after=retry_after, ratelimit_reset=ratelimit_reset, delay=delay
        )

    def fail_randomly(
        self, fraction: float, *, kinds: Iterable[FaultKind] = DEFAULT_RANDOM_KINDS, seed: int | None = None
    ) -> None:
        """Fail about `fraction` of requests with a kind drawn from `kinds`; `fail_randomly(0)` stops."""
        self._faults.fail_randomly(fraction, kinds, seed)

    def rate_limit(self, requests: int | None, window: float = 1.0) -> None:
        """Allow each token `requests` per sliding `window` seconds, 429 beyond; None turns it off."""
        self._limiter.configure(requests, window)

    def on_request(self, callback: _C) -> _C:
        """Call `callback(request)` on each request before it is answered (None removes it)."""
        with self._lock:
            self._callback = callback
        return callback

    # Answering (called by the server's handler threads)

    def handle(self, method: str, raw_path: str, headers: dict[str, str]) -> Answer:
        slot = self._log.begin(make_record(method, raw_path, headers))
        request_id = str(uuid.uuid4())
        answer: Answer | None = None
        fault: Fault | None = None
        try:
            answer, fault = self._answer(slot.record, raw_path, headers, request_id)
            answer.headers.append(("x-request-id", request_id))
            return answer
        finally:
            status = None if answer is None or answer.reset else answer.status
            self._log.finish(slot, status=status, fault=fault.name if fault else None, request_id=request_id)

    def protocol_error(self, status: int, message: str) -> Answer:
        request_id = str(uuid.uuid4())
        answer = _api.error_answer(status, request_id, self._limiter.idle(), message)
        answer.headers.append(("x-request-id", request_id))
        return answer

    def _answer(
        self, record: RecordedRequest, raw_path: str, headers: dict[str, str], request_id: str
    ) -> tuple[Answer, Fault | None]:
        self._stopping.wait(self.latency)
        with self._lock:
            callback = self._callback
        if callback is not None:
            try:
                callback(record)
            except Exception as error:
                with self._lock:
                    self._callback_errors.append(error)
                message = f"on_request callback raised {type(error).__name__}: {error}"
                return _api.error_answer(500, request_id, self._limiter.idle(), message), None
        route = _api.route(raw_path)
        fault = self._faults.take(_api.page_number(record.query) if route else None)
        if fault is None:
            return self._api(record, route, headers, request_id), None
        self._stopping.wait(fault.delay)
        if fault.kind == "reset":
            return Answer(status=0, reset=True), fault
        if isinstance(fault.kind, int):
            # Answered in front of the API: nothing is counted against the token's quota.
            quota = self._limiter.idle()
            remaining = 0 if fault.kind == 429 else quota.remaining
            reset = quota.reset if fault.ratelimit_reset is None else fault.ratelimit_reset
            answer = _api.error_answer(
                fault.kind, request_id, Quota(quota.limit, remaining, reset), retry_after=fault.retry_after
            )
            return answer, fault
        answer = self._api(record, route, headers, request_id)
        if fault.kind == "truncated":
            answer.body = answer.body[: len(answer.body) // 2]
        return answer, fault

    def _api(
        self, record: RecordedRequest, route: _api.Route | None, headers: dict[str, str], request_id: str
    ) -> Answer:
        token = _api.bearer_token(headers.get("authorization"))
        if token is None or (self._token is not None and not _same(token, self._token)):
            return _api.error_answer(401, request_id, self._limiter.idle())
        quota = self._limiter.count(token)
        if not quota.allowed:
            return _api.error_answer(429, request_id, quota, retry_after=quota.retry_after)
        if route is None:
            return _api.error_answer(404, request_id, quota)
        if record.method != "GET":
            answer = _api.error_answer(405, request_id, quota)
            answer.headers.append(("allow", "GET"))
            return answer
        paging = _api.paging(record.query)
        if isinstance(paging, str):
            return _api.error_answer(400, request_id, quota, paging)
        page, per_page = paging
        found = self._store.page(route.registry, route.repository, page, per_page)
        if found is None:
            return _api.error_answer(404, request_id, quota)
        texts, total = found
        base = _api.base_url(headers.get("host"), self.url)
        body = _api.page_body(texts, total, page, per_page, base, route.path)
        return Answer(200, body, [("content-type", _api.JSON), *_api.quota_headers(quota)])


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
