"""The order in which the fake answers a request, on either listener.

A request goes through, in order:

1. routing, to name its operation (`OPERATIONS`), and the request log (`requests`,
   `in_flight`), with secrets redacted;
2. `latency`, then the `on_request` callback (which may change the registry);
3. an injected fault, if one is due (`fail_next`, then `fail_randomly`): infrastructure in
   front of the API fails before the API sees the request, except `truncated` and `lost`,
   which let the API act and then spoil or drop its answer;
4. the API itself: `_do_api.DoApi` (auth, rate limit, 404, 405, 400, the operation) or
   `_oci_api.OciApi` (token auth, manifests).

Every answer carries an `x-request-id` (a uuid4, also in the request log).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from docr.testing import _api, _do_routes, _oci_api
from docr.testing._do_api import PAGED, DoApi
from docr.testing._faults import Fault, FaultPlan
from docr.testing._ratelimit import Quota
from docr.testing._records import RecordedRequest, RequestLog, make_record
from docr.testing._server import Answer

__all__ = ["Listener", "Pipeline"]

Callback = Callable[[RecordedRequest], object]


class Pipeline:
    def __init__(self, log: RequestLog, faults: FaultPlan, do_api: DoApi, oci_api: _oci_api.OciApi) -> None:
        self.log = log
        self.faults = faults
        self.do_api = do_api
        self.oci_api = oci_api
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.latency = 0.0
        self.callback: Callback | None = None
        self.callback_errors: list[BaseException] = []

    def handle(self, api: str, method: str, raw_path: str, headers: dict[str, str], body: bytes, home: str) -> Answer:
        do_route = _do_routes.route(method, raw_path) if api == "do" else None
        oci_route = _oci_api.route(method, raw_path) if api == "oci" else None
        operation = do_route.operation if do_route else oci_route.operation if oci_route else None
        slot = self.log.begin(make_record(method, raw_path, headers, operation=operation, api=api))
        request_id = str(uuid.uuid4())
        answer: Answer | None = None
        fault: Fault | None = None
        try:
            page = _api.page_number(slot.record.query) if operation in PAGED else None
            answer, fault = self._answer(api, slot.record, do_route, oci_route, headers, body, home, request_id, page)
            answer.headers.append(("x-request-id", request_id))
            return answer
        finally:
            status = None if answer is None or answer.reset else answer.status
            self.log.finish(slot, status=status, fault=fault.name if fault else None, request_id=request_id)

    def _answer(
        self,
        api: str,
        record: RecordedRequest,
        do_route: _do_routes.Route | None,
        oci_route: _oci_api.OciRoute | None,
        headers: dict[str, str],
        body: bytes,
        home: str,
        request_id: str,
        page: int | None,
    ) -> tuple[Answer, Fault | None]:
        with self.lock:
            latency, callback = self.latency, self.callback
        self.stopping.wait(latency)
        if callback is not None:
            try:
                callback(record)
            except Exception as error:
                with self.lock:
                    self.callback_errors.append(error)
                message = f"on_request callback raised {type(error).__name__}: {error}"
                if api == "oci":
                    return _oci_api.error(500, "UNKNOWN", message), None
                return _api.error_answer(500, request_id, self.do_api.limiter.idle(), message), None
        fault = self.faults.take(record.operation, page)
        if fault is not None:
            self.stopping.wait(fault.delay)
            if fault.kind == "reset":
                return Answer(status=0, reset=True), fault
            if isinstance(fault.kind, int):
                return self._fault_answer(api, fault, fault.kind, request_id), fault
        base = _api.base_url(headers.get("host"), home)
        if api == "oci":
            answer = self.oci_api.answer(record.raw_path, oci_route, headers, base)
        else:
            answer = self.do_api.answer(record, do_route, headers, body, base, request_id)
        if fault is not None and fault.kind == "truncated":
            answer.body = answer.body[: len(answer.body) // 2]
        if fault is not None and fault.kind == "lost":
            # The operation happened; its answer never arrives.
            return Answer(status=0, reset=True), fault
        return answer, fault

    def _fault_answer(self, api: str, fault: Fault, status: int, request_id: str) -> Answer:
        if api == "oci":
            return _oci_api.fault_answer(status, fault.retry_after)
        # Answered in front of the API: nothing is counted against the token's quota.
        quota = self.do_api.limiter.idle()
        remaining = 0 if status == 429 else quota.remaining
        reset = quota.reset if fault.ratelimit_reset is None else fault.ratelimit_reset
        return _api.error_answer(
            status, request_id, Quota(quota.limit, remaining, reset), retry_after=fault.retry_after
        )

    def protocol_error(self, api: str, status: int, message: str) -> Answer:
        request_id = str(uuid.uuid4())
        if api == "oci":
            answer = _oci_api.error(status, "UNSUPPORTED", message)
        else:
            answer = _api.error_answer(status, request_id, self.do_api.limiter.idle(), message)
        answer.headers.append(("x-request-id", request_id))
        return answer


class Listener:
    """What one HTTP server serves: the pipeline, for one API, with its own URL for links."""

    def __init__(self, pipeline: Pipeline, api: str) -> None:
        self.pipeline = pipeline
        self.api = api
        self.home = ""

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Answer:
        return self.pipeline.handle(self.api, method, raw_path, headers, body, self.home)

    def protocol_error(self, status: int, message: str) -> Answer:
        return self.pipeline.protocol_error(self.api, status, message)
