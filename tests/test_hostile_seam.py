"""The seam with your ``httpx`` client, async included, and after errors: docr uses the
``http_client`` you pass without changing it (``tests/test_client.py`` covers the sync basics),
a ``raise_for_status`` hook hides no answer, your client's redirect setting does not make docr
follow one, and no context variable keeps a response (or its token) alive after a call.

One exception, documented: httpx itself stores cookies a server sets in the client's jar on every
``send``; docr sends through your client, so a ``Set-Cookie`` from the API lands there as it would
for any request you make.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import httpx
import pytest

import docr
from tests.hostile_server import HostileServer, Request, Wire, answer, page_body
from tests.mock_api import TOKEN, PagedAPI


def snapshot(http: httpx.Client | httpx.AsyncClient) -> dict[str, Any]:
    """Everything docr could change on a client, by value."""
    return {
        "base_url": str(http.base_url),
        "headers": list(http.headers.multi_items()),
        "auth": http.auth,
        "event_hooks": {name: list(hooks) for name, hooks in http.event_hooks.items()},
        "timeout": http.timeout,
        "follow_redirects": http.follow_redirects,
        "params": list(http.params.multi_items()),
        "trust_env": http.trust_env,
        "transport": http._transport,
        "mounts": dict(http._mounts),
        "closed": http.is_closed,
    }


def hook(response: httpx.Response) -> None:
    return None


async def async_hook(response: httpx.Response) -> None:
    return None


OPTIONS: dict[str, Any] = {
    "base_url": "http://mine.test/prefix",
    "headers": {"x-yours": "1"},
    "auth": ("user", "pass"),
    "params": {"mine": "1"},
    "timeout": 7.0,
    "follow_redirects": True,
}


def answers() -> PagedAPI:
    api = PagedAPI(45)
    api.fail(httpx.Response(404, json={"id": "not_found", "message": "gone"}), page=9)
    api.fail(httpx.ReadTimeout("slow"), page=8)
    return api


def test_a_passed_sync_client_is_never_changed_by_calls_walks_or_errors() -> None:
    api = answers()
    http = httpx.Client(transport=httpx.MockTransport(api), event_hooks={"response": [hook]}, **OPTIONS)
    before = snapshot(http)
    with docr.Client(TOKEN, http_client=http, max_retries=0) as client:
        assert len(list(client.iter_manifests("example", "my/repo", per_page=20))) == 45
        for page in (8, 9):
            with pytest.raises(docr.DocrError):
                client.list_manifests("example", "my/repo", page=page)
        assert snapshot(http) == before
    assert snapshot(http) == before  # closing docr's client leaves yours open
    assert all(str(call.url).startswith("http://mine.test/prefix/v2/") for call in api.calls)
    assert all(call.headers["authorization"] == f"Bearer {TOKEN}" for call in api.calls)
    http.close()


def test_a_passed_async_client_is_never_changed_by_calls_walks_or_errors() -> None:
    api = answers()

    async def run() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(api), event_hooks={"response": [async_hook]}, **OPTIONS)
        before = snapshot(http)
        async with docr.AsyncClient(TOKEN, http_client=http, max_retries=0) as client:
            assert len([m async for m in client.iter_manifests("example", "my/repo", per_page=20)]) == 45
            for page in (8, 9):
                with pytest.raises(docr.DocrError):
                    await client.list_manifests("example", "my/repo", page=page)
            assert snapshot(http) == before
        assert snapshot(http) == before
        await http.aclose()

    asyncio.run(run())
    assert all(call.headers["authorization"] == f"Bearer {TOKEN}" for call in api.calls)


def test_an_async_raise_for_status_hook_does_not_hide_the_answer() -> None:
    api = PagedAPI()
    api.fail(*[httpx.Response(404, json={"id": "not_found", "message": "gone"})] * 3)

    async def raise_for_status(response: httpx.Response) -> None:
        response.raise_for_status()

    async def run() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(api), event_hooks={"response": [raise_for_status]})
        client = docr.AsyncClient(TOKEN, base_url="http://api.test", http_client=http)
        with pytest.raises(docr.NotFoundError) as info:
            await client.list_manifests("example", "my/repo")
        assert info.value.message == "gone"
        await http.aclose()

    asyncio.run(run())
    assert len(api.calls) == 1


def test_a_raise_for_status_hook_does_not_hide_a_page_either() -> None:
    api = PagedAPI(30)
    http = httpx.Client(transport=httpx.MockTransport(api), event_hooks={"response": [httpx.Response.raise_for_status]})
    with docr.Client(TOKEN, base_url="http://api.test", http_client=http) as client:
        assert len(list(client.iter_manifests("example", "my/repo", per_page=10))) == 30
    http.close()


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_your_client_following_redirects_does_not_make_docr_follow_one(driver: str) -> None:
    followed: list[Request] = []

    def target(request: Request, wire: Wire) -> None:
        followed.append(request)
        wire.send(answer(200, page_body(request, 1)))

    with HostileServer(target) as elsewhere:

        def redirect(request: Request, wire: Wire) -> None:
            wire.send(answer(307, b"", ("location", f"{elsewhere.url}/steal")))

        with HostileServer(redirect) as server:
            if driver == "sync":
                with httpx.Client(follow_redirects=True) as http, pytest.raises(docr.APIError) as info:
                    docr.Client(TOKEN, base_url=server.url, http_client=http).list_manifests("example", "my/repo")
            else:

                async def run() -> None:
                    async with httpx.AsyncClient(follow_redirects=True) as http:
                        client = docr.AsyncClient(TOKEN, base_url=server.url, http_client=http)
                        await client.list_manifests("example", "my/repo")

                with pytest.raises(docr.APIError) as info:
                    asyncio.run(run())
    assert info.value.status_code == 307
    assert followed == []


def responses_in(context: contextvars.Context) -> list[Any]:
    return [value for value in context.values() if isinstance(value, httpx.Response | httpx.Request)]


def test_no_context_variable_holds_a_response_after_walks_and_errors() -> None:
    api = answers()
    with docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(api))
    ) as c:
        list(c.iter_manifests("example", "my/repo", per_page=40, max_items=40))
        with pytest.raises(docr.NotFoundError):
            c.list_manifests("example", "my/repo", page=9)
    assert responses_in(contextvars.copy_context()) == []


def test_no_context_variable_holds_a_response_in_asyncio() -> None:
    async def run() -> list[Any]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(answers()))
        async with docr.AsyncClient(TOKEN, base_url="http://api.test", http_client=http) as client:
            [m async for m in client.iter_manifests("example", "my/repo", per_page=40, max_items=40)]
            with pytest.raises(docr.NotFoundError):
                await client.list_manifests("example", "my/repo", page=9)
        await http.aclose()
        return responses_in(contextvars.copy_context())

    assert asyncio.run(run()) == []
