"""The token never appears in logs, reprs, exception messages or tracebacks, on any path."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest

import docr
from tests.mock_api import TOKEN, PagedAPI, error

ECHOING_PROXY_PAGE = f"<html>debug: Authorization: Bearer {TOKEN}</html>".encode()

OUTCOMES: list[tuple[str, list[httpx.Response | Exception]]] = [
    ("ok", []),
    ("retried-then-ok", [error(503, {"id": "service_unavailable", "message": "busy"}), httpx.ConnectError("refused")]),
    ("not-found", [error(404, {"id": "not_found", "message": "missing"})] * 5),
    ("unauthorized", [error(401, {"id": "unauthorized", "message": "Unable to authenticate you."})]),
    ("rate-limited", [error(429, {"id": "too_many_requests", "message": "x"}, headers={"retry-after": "999"})]),
    ("proxy-echoes-the-token", [error(502, content=ECHOING_PROXY_PAGE)] * 5),
    ("echo-in-a-200", [httpx.Response(200, content=ECHOING_PROXY_PAGE)] * 5),
    ("echo-in-a-message", [error(400, {"id": "bad_request", "message": f"bad token {TOKEN}"})]),
    ("timeout", [httpx.ReadTimeout(f"timed out talking to Bearer {TOKEN}")] * 5),
    ("connection", [httpx.ConnectError("refused")] * 5),
]


@pytest.mark.parametrize(("name", "faults"), OUTCOMES, ids=[name for name, _ in OUTCOMES])
def test_token_never_leaks(
    name: str, faults: list[httpx.Response | Exception], caplog: pytest.LogCaptureFixture
) -> None:
    api = PagedAPI(30)
    if faults:
        api.fail(*faults)
    client = docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(api)), max_retries=2
    )
    client._sleep = lambda seconds: None
    texts = [repr(client)]
    with caplog.at_level(logging.DEBUG, logger="docr"):
        try:
            for manifest in client.iter_manifests("example", "my/repo", per_page=10):
                texts.append(repr(manifest))
        except docr.DocrError as exc:
            texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
            if isinstance(exc, docr.APIError):
                texts += [exc.message, exc.body_excerpt or "", repr(exc.headers)]
    texts += [record.getMessage() for record in caplog.records]
    assert any(
        "GET /v2/registries/example/repositories/my%2Frepo/digests" in r.getMessage() for r in caplog.records
    ) or (name in ("timeout", "connection"))
    leaked = [text for text in texts if TOKEN in text]
    assert leaked == []
    assert api.calls[0].headers["authorization"] == f"Bearer {TOKEN}"  # it was really sent, to the API only


def test_debug_log_lines_carry_metadata_only(caplog: pytest.LogCaptureFixture) -> None:
    api = PagedAPI(5)
    api.fail(error(500, {"id": "server_error", "message": "boom"}, headers={"x-request-id": "rid-42"}))
    client = docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(api))
    )
    client._sleep = lambda seconds: None
    with caplog.at_level(logging.DEBUG, logger="docr"):
        client.list_manifests("example", "my/repo")
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0].startswith(
        "GET /v2/registries/example/repositories/my%2Frepo/digests?per_page=20&page=1 -> 500 in "
    )
    assert "attempt 1, request_id=rid-42" in messages[0]
    assert messages[1].startswith("retrying example/my/repo page 1 in ")
    assert "after ServerError (attempt 2 of 4)" in messages[1]
    assert "-> 200" in messages[2]
    assert all("boom" not in m and "authorization" not in m.lower() for m in messages)
