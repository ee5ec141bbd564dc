"""`FakeRegistry`: the fake's public face: lifecycle, knobs and observation (data is `_data.FakeData`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self, TypeVar

from docr.testing._clock import Clock, now_seconds
from docr.testing._credentials import Credentials
from docr.testing._data import FakeData
from docr.testing._do_api import TIERS, DoApi
from docr.testing._faults import DEFAULT_RANDOM_KINDS, FaultKind, FaultPlan
from docr.testing._gc import TERMINAL_STATUSES
from docr.testing._oci_api import OciApi
from docr.testing._pipeline import Listener, Pipeline
from docr.testing._push import Pusher
from docr.testing._ratelimit import RateLimiter
from docr.testing._records import RecordedRequest, RequestLog
from docr.testing._registries import Registries
from docr.testing._server import FakeHTTPServer

__all__ = ["FakeRegistry"]

Callback = Callable[[RecordedRequest], object]
_C = TypeVar("_C", bound=Callback | None)


class FakeRegistry(FakeData):
    """A local fake of DOCR's API and registry; see the `docr.testing` docstring for usage."""

    def __init__(
        self,
        *,
        port: int = 0,
        latency: float = 0.0,
        token: str | None = None,
        ratelimit_limit: int = 5000,
        host: str = "127.0.0.1",
        oci_port: int = 0,
        clock: Clock | None = None,
    ) -> None:
        if token == "":
            raise ValueError("token must be None (accept any bearer token) or a non-empty string")
        self._addresses = {"do": (host, port), "oci": (host, oci_port)}
        self.clock: Clock = clock or now_seconds
        registries = Registries(lambda: self.clock())
        super().__init__(registries, Credentials(lambda: self.clock()), Pusher(registries, lambda: self.clock()))
        self._limiter = RateLimiter(ratelimit_limit, lambda: self.clock())
        self._do_api = DoApi(registries, self._credentials, self._limiter, token)
        self._log = RequestLog()
        self._faults = FaultPlan()
        self._pipeline = Pipeline(self._log, self._faults, self._do_api, OciApi(registries, self._credentials))
        self.latency = latency
        self._servers: dict[str, FakeHTTPServer] = {}
        self._threads: list[threading.Thread] = []

    # Lifecycle

    def start(self) -> Self:
        """Bind both listeners and serve in background threads (what `with` does)."""
        if self._servers or self._pipeline.stopping.is_set():
            raise RuntimeError("a FakeRegistry starts once")
        try:
            for api, address in self._addresses.items():
                listener = Listener(self._pipeline, api)
                server = FakeHTTPServer(address, listener)
                listener.home = f"http://{server.server_name}:{server.server_port}"
                self._servers[api] = server
        except OSError:
            for server in self._servers.values():
                server.server_close()
            raise
        for api, server in self._servers.items():
            thread = threading.Thread(
                target=server.serve_forever, args=(0.05,), daemon=True, name=f"docr-fake-{api}-server"
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and join every thread; waits in handlers (latency, slow faults) end at once."""
        self._pipeline.stopping.set()
        for server in self._servers.values():
            server.close()
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        # A failing on_request callback answered 500 to the client; fail the test here too, so
        # a broken callback cannot pass unnoticed.
        if error is None and self._pipeline.callback_errors:
            raise self._pipeline.callback_errors[0]

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`, the DigitalOcean API's base URL to give clients."""
        return self._home("do")

    @property
    def oci_url(self) -> str:
        """`http://127.0.0.1:PORT` of the registry (OCI distribution) API, the fake's registry.digitalocean.com."""
        return self._home("oci")

    def _home(self, api: str) -> str:
        server = self._servers.get(api)
        if server is None:
            raise RuntimeError("the fake is not started: use `with FakeRegistry() as fake:` or fake.start()")
        return f"http://{server.server_name}:{server.server_port}"

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

    @property
    def rate_limited(self) -> int:
        """How many 429s the rate limiter has answered (injected 429s are in `faults_injected`)."""
        return self._limiter.refused

    # Behaviour

    @property
    def latency(self) -> float:
        with self._pipeline.lock:
            return self._pipeline.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {seconds}")
        with self._pipeline.lock:
            self._pipeline.latency = seconds

    def fail_next(
        self,
        kind: FaultKind,
        *,
        count: int = 1,
        page: int | None = None,
        operation: str | None = None,
        retry_after: int | None = None,
        ratelimit_reset: int | None = None,
        delay: float | None = None,
    ) -> None:
        """Answer the next `count` requests (for `operation` and `page` only, if given) with fault `kind`."""
        self._faults.fail_next(
            kind,
            count=count,
            page=page,
            operation=operation,
            retry_after=retry_after,
            ratelimit_reset=ratelimit_reset,
            delay=delay,
        )

    def fail_randomly(
        self,
        fraction: float,
        *,
        kinds: Iterable[FaultKind] = DEFAULT_RANDOM_KINDS,
        seed: int | None = None,
        operation: str | None = None,
    ) -> None:
        """Fail about `fraction` of requests (of `operation` only, if given); `fail_randomly(0)` stops."""
        self._faults.fail_randomly(fraction, kinds, seed, operation)

    def rate_limit(
        self,
        requests: int | None = None,
        window: float = 1.0,
        *,
        per_minute: int | None = None,
        per_hour: int | None = None,
        time_scale: float = 1.0,
    ) -> None:
        """Enforce a rate limit per token; `rate_limit(None)` stops enforcing.

        `rate_limit(requests=N, window=W)`: N requests per sliding W seconds.
        `rate_limit(per_minute=250, per_hour=5000, time_scale=60)`: DigitalOcean's two limits
        at once, with a minute lasting 1/time_scale of a minute (see `_ratelimit`).
        """
        if per_minute is None and per_hour is None:
            self._limiter.configure(requests, window)
            return
        if requests is not None:
            raise ValueError("give either requests (and window) or per_minute and per_hour, not both")
        self._limiter.configure_do(
            250 if per_minute is None else per_minute, 5000 if per_hour is None else per_hour, time_scale
        )

    def on_request(self, callback: _C) -> _C:
        """Call `callback(request)` on each request before it is answered (None removes it)."""
        with self._pipeline.lock:
            self._pipeline.callback = callback
        return callback

    @property
    def gc_step_seconds(self) -> float:
        """How long a garbage collection stays in each status (default 1 s; 0: it ends at once)."""
        return self._registries.gc_step

    @gc_step_seconds.setter
    def gc_step_seconds(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError(f"gc_step_seconds must be >= 0, got {seconds}")
        self._registries.gc_step = seconds

    @property
    def gc_statuses(self) -> tuple[str, ...]:
        """The active statuses a new garbage collection walks through (add undocumented ones to test clients)."""
        return self._registries.gc_statuses

    @gc_statuses.setter
    def gc_statuses(self, statuses: Iterable[str]) -> None:
        chosen = tuple(statuses)
        if not chosen or any(not status or status in TERMINAL_STATUSES for status in chosen):
            raise ValueError(f"gc_statuses must be non-empty active statuses (not {sorted(TERMINAL_STATUSES)})")
        self._registries.gc_statuses = chosen

    @property
    def gc_outcome(self) -> str:
        """How new garbage collections end: "succeeded" (default) or "failed" (freeing nothing)."""
        return self._registries.gc_outcome

    @gc_outcome.setter
    def gc_outcome(self, outcome: str) -> None:
        if outcome not in ("succeeded", "failed"):
            raise ValueError(f"gc_outcome must be 'succeeded' or 'failed', got {outcome!r}")
        self._registries.gc_outcome = outcome

    @property
    def subscription_tier(self) -> str:
        """The account's tier slug ("starter", "basic" (default) or "professional"), as GET subscription shows."""
        return self._do_api.tier

    @subscription_tier.setter
    def subscription_tier(self, slug: str) -> None:
        if slug not in TIERS:
            raise ValueError(f"subscription_tier must be one of {', '.join(TIERS)}, got {slug!r}")
        self._do_api.tier = slug
