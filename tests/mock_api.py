"""An in-process stand-in for the API over httpx.MockTransport, for fast unit tests.

(End-to-end tests use docr.testing.FakeRegistry, a real HTTP server.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

import docr

TOKEN = "dop_v1_" + "5ecre7" * 10  # recognisable in any output it must never reach


def manifest(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "digest": f"sha256:{i:064x}",
        "registry_name": "example",
        "repository": "my/repo",
        "compressed_size_bytes": 1000 + i,
        "size_bytes": 2000 + i,
        "updated_at": "2026-01-01T00:00:00Z",
        "tags": [f"v{i}"],
        "blobs": [{"digest": f"sha256:{i + 1:064x}", "compressed_size_bytes": 10}],
        **extra,
    }


class PagedAPI:
    """Pages ``self.items``; ``script`` maps a call number or page to a canned response."""

    def __init__(self, count: int = 0) -> None:
        self.items = [manifest(i) for i in range(count)]
        self.calls: list[httpx.Request] = []
        self.faults: list[Callable[[httpx.Request], httpx.Response | None]] = []
        self.before_page: Callable[[int], None] | None = None
        self.lock = threading.Lock()

    def fail(self, *responses: httpx.Response | Exception, page: int | None = None) -> None:
        """Answer the next requests (for ``page`` only, if given) with these, in order."""
        queue = list(responses)

        def fault(request: httpx.Request) -> httpx.Response | None:
            if not queue or (page is not None and int(request.url.params.get("page", 1)) != page):
                return None
            item = queue.pop(0)
            if isinstance(item, Exception):
                raise item
            return item

        self.faults.append(fault)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.calls.append(request)
            for fault in self.faults:
                response = fault(request)
                if response is not None:
                    return response
            page = int(request.url.params.get("page", 1))
            per_page = int(request.url.params.get("per_page", 20))
            if self.before_page is not None:
                self.before_page(page)
            body = {
                "manifests": self.items[(page - 1) * per_page : page * per_page],
                "links": {"pages": {}},
                "meta": {"total": len(self.items)},
            }
            return httpx.Response(
                200,
                json=body,
                headers={
                    "x-request-id": f"req-{len(self.calls)}",
                    "ratelimit-limit": "5000",
                    "ratelimit-remaining": "4000",
                    "ratelimit-reset": "1700000000",
                },
            )

    def pages_requested(self) -> list[int]:
        return [int(r.url.params.get("page", 1)) for r in self.calls]


def error(
    status: int, body: Any = None, *, content: bytes | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    if content is not None:
        return httpx.Response(status, content=content, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def mock_client(api: PagedAPI, **kwargs: Any) -> docr.Client:
    """A docr.Client talking to `api` in-process, retry waits skipped."""
    client = docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(api)), **kwargs
    )
    client._sleep = lambda seconds: None
    return client
