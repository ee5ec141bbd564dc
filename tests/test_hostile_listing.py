"""No quiet short lists: a listing is whole, or it raises.

- A server that silently serves 50 per page when asked for 200 still yields all 1,000 of 1,000
  manifests, once each and in order: the walk notices the short pages and walks again at 50.
- An empty page in the middle raises ``IncompleteListingError`` with the expected and received
  counts, after walking again; so does a last page that never comes.
- ``iter_pages`` holds the same guarantee: it raises rather than ends short.

Sync and async, over ``httpx.MockTransport`` and once over real HTTP (``HostileServer``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import docr
from tests.hostile_server import HostileServer, Request, Wire, answer, manifest, page_body
from tests.mock_api import TOKEN

COUNT = 1000


class Server:
    """A repository of ``COUNT`` manifests, served by ``pages(page, per_page)``; records requests."""

    def __init__(self, pages: Callable[[int, int], tuple[list[dict[str, Any]], int]]) -> None:
        self.pages = pages
        self.requests: list[tuple[int, int]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        page, per_page = int(request.url.params["page"]), int(request.url.params["per_page"])
        self.requests.append((page, per_page))
        items, total = self.pages(page, per_page)
        return httpx.Response(200, json={"manifests": items, "links": {}, "meta": {"total": total}})


def capped(page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    size = min(per_page, 50)  # the server's own cap, whatever was asked
    return [manifest(i) for i in range((page - 1) * size, min(COUNT, page * size))], COUNT


def holed(page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    if page == 3:
        return [], COUNT
    return [manifest(i) for i in range((page - 1) * per_page, min(COUNT, page * per_page))], COUNT


def last_page_missing(page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    if page * per_page >= COUNT:
        return [], COUNT
    return [manifest(i) for i in range((page - 1) * per_page, page * per_page)], COUNT


def honest(page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    return [manifest(i) for i in range((page - 1) * per_page, min(COUNT, page * per_page))], COUNT


def walk(server: Server, kind: str, driver: str, **kwargs: Any) -> list[Any]:
    """Everything ``iter_manifests`` (or ``iter_pages``) yields, sync or async."""
    if driver == "sync":
        http = httpx.Client(transport=httpx.MockTransport(server))
        with docr.Client(TOKEN, base_url="http://api.test", http_client=http) as client:
            listing = client.iter_manifests if kind == "manifests" else client.iter_pages
            got: list[Any] = []
            try:
                for item in listing("example", "my/repo", **kwargs):
                    got.append(item)
            except docr.DocrError as error:
                error.yielded = got  # type: ignore[attr-defined]
                raise
            return got

    async def run() -> list[Any]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(server))
        async with docr.AsyncClient(TOKEN, base_url="http://api.test", http_client=http) as client:
            listing = client.iter_manifests if kind == "manifests" else client.iter_pages
            got: list[Any] = []
            try:
                async for item in listing("example", "my/repo", **kwargs):
                    got.append(item)
            except docr.DocrError as error:
                error.yielded = got  # type: ignore[attr-defined]
                raise
            return got

    return asyncio.run(run())


DRIVERS = ["sync", "async"]
EXPECTED = [manifest(i)["digest"] for i in range(COUNT)]


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_server_capping_per_page_still_yields_every_manifest_once_in_order(driver: str) -> None:
    server = Server(capped)
    got = walk(server, "manifests", driver)
    assert [m.digest for m in got] == EXPECTED
    asked = [per_page for _, per_page in server.requests]
    assert asked[0] == 200 and asked[-1] == 50  # walked again at the size the server serves
    assert len(server.requests) <= 5 + COUNT // 50  # the first walk's window, then one request a page


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(
    ("server", "missing"),
    [(holed, range(400, 600)), (last_page_missing, range(800, 1000))],
    ids=["empty page in the middle", "last page empty"],
)
def test_a_page_missing_raises_incomplete_listing_with_the_counts(
    driver: str, server: Callable[[int, int], tuple[list[dict[str, Any]], int]], missing: range
) -> None:
    api = Server(server)
    with pytest.raises(docr.IncompleteListingError) as info:
        walk(api, "manifests", driver)
    error = info.value
    yielded = error.yielded  # type: ignore[attr-defined]
    assert error.expected == COUNT
    assert error.received == len(yielded) == COUNT - 200
    assert f"{COUNT} manifests expected, {COUNT - 200} received" in str(error)
    # Everything the server did serve, once each (it walked three times), in order.
    assert [m.digest for m in yielded] == [d for i, d in enumerate(EXPECTED) if i not in missing]
    assert len(api.requests) <= 3 * (COUNT // 200 + 4)


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(
    "server", [capped, holed, last_page_missing], ids=["capped per_page", "empty page", "last page empty"]
)
def test_iter_pages_raises_rather_than_ends_short(
    driver: str, server: Callable[[int, int], tuple[list[dict[str, Any]], int]]
) -> None:
    with pytest.raises(docr.IncompleteListingError) as info:
        walk(Server(server), "pages", driver)
    error = info.value
    pages = error.yielded  # type: ignore[attr-defined]
    assert error.expected == COUNT
    assert error.received < COUNT
    assert sum(len(page.manifests) for page in pages) <= error.received


@pytest.mark.parametrize("driver", DRIVERS)
def test_iter_pages_over_an_honest_server_yields_every_page(driver: str) -> None:
    pages = walk(Server(honest), "pages", driver)
    assert [m.digest for page in pages for m in page.manifests] == EXPECTED
    assert [page.page for page in pages] == list(range(1, 6))


def test_a_capping_server_over_real_http() -> None:
    def serve(request: Request, wire: Wire) -> None:
        wire.send(answer(200, page_body(request, COUNT, served=50)))

    with HostileServer(serve) as server, docr.Client(TOKEN, base_url=server.url) as client:
        got = [m.digest for m in client.iter_manifests("example", "my/repo")]
        assert got == EXPECTED
        assert server.requests[-1].per_page == 50
