"""Page iteration: order, concurrency, no wasted requests, nothing lost or repeated."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import httpx
import pytest

import docr
from docr._models import Manifest, ManifestPage
from docr._pagination import Walk
from tests.mock_api import TOKEN, PagedAPI, manifest


def make_client(api: Any, **kwargs: Any) -> docr.Client:
    client = docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(api)), **kwargs
    )
    client._sleep = lambda seconds: None
    return client


def make_async_client(api: Any, **kwargs: Any) -> docr.AsyncClient:
    async_transport = httpx.MockTransport(api)
    client = docr.AsyncClient(
        TOKEN, base_url="http://api.test", http_client=httpx.AsyncClient(transport=async_transport), **kwargs
    )

    async def no_sleep(seconds: float) -> None:
        return None

    client._sleep = no_sleep
    return client


def digests(items: list[dict[str, Any]]) -> list[str]:
    return [item["digest"] for item in items]


# --- the planner, without I/O ---------------------------------------------------------------


def page_of(items: list[dict[str, Any]], number: int, per_page: int, total: int | None = None) -> ManifestPage:
    chunk = items[(number - 1) * per_page : number * per_page]
    return ManifestPage(
        [Manifest.from_dict(m) for m in chunk], total if total is not None else len(items), number, per_page
    )


def test_walk_reads_the_first_page_alone_then_a_window_at_a_time() -> None:
    items = [manifest(i) for i in range(95)]
    walk = Walk(target="example/my/repo", per_page=10, window=4)
    assert walk.schedule(0) == [1]
    assert walk.schedule(1) == []
    walk.accept(page_of(items, 1, 10))
    assert walk.schedule(0) == [2, 3, 4, 5]
    assert walk.schedule(4) == []
    walk.accept(page_of(items, 2, 10))
    assert walk.schedule(3) == [6]
    for number in range(3, 11):
        walk.accept(page_of(items, number, 10))
        walk.schedule(0)
    assert walk.finished and walk.yielded == 95 and walk.passes == 1


def test_walk_over_an_empty_repository_is_one_request() -> None:
    walk = Walk(target="t", per_page=20)
    assert walk.schedule(0) == [1]
    assert walk.accept(page_of([], 1, 20)) == []
    assert walk.finished and walk.schedule(0) == []


def test_walk_with_max_items_asks_only_for_pages_it_needs() -> None:
    items = [manifest(i) for i in range(1000)]
    walk = Walk(target="t", per_page=10, max_items=25, window=8)
    walk.schedule(0)
    walk.accept(page_of(items, 1, 10))
    assert walk.schedule(0) == [2, 3]
    walk.accept(page_of(items, 2, 10))
    assert len(walk.accept(page_of(items, 3, 10))) == 5
    assert walk.finished and walk.yielded == 25


def test_walk_narrows_its_window_to_the_remaining_rate_limit() -> None:
    items = [manifest(i) for i in range(100)]
    walk = Walk(target="t", per_page=10, window=4)
    walk.schedule(0)
    first = page_of(items, 1, 10)
    walk.accept(ManifestPage(first.manifests, 100, 1, 10, rate_limit=docr.RateLimit(5000, 2, None)))
    assert walk.schedule(0) == [2, 3]


def test_walk_gives_up_loudly_when_the_listing_never_settles() -> None:
    walk = Walk(target="example/my/repo", per_page=2, max_passes=2)
    total = 4
    with pytest.raises(docr.ListingChangedError, match="changed during each of 2 walks") as info:
        for _ in range(10):
            for number in walk.schedule(0):
                items = [manifest(i) for i in range(total)]
                walk.accept(page_of(items, number, 2))
                total += 1  # someone pushes between every two page reads
    assert "none twice" in str(info.value)


# --- through the client, sync and async -----------------------------------------------------


@pytest.mark.parametrize(("count", "per_page"), [(0, 20), (1, 20), (20, 20), (21, 20), (200, 200), (401, 200), (57, 7)])
def test_every_manifest_once_in_order_with_one_request_per_page(count: int, per_page: int) -> None:
    api = PagedAPI(count)
    got = [m.digest for m in make_client(api).iter_manifests("example", "my/repo", per_page=per_page)]
    assert got == digests(api.items)
    assert sorted(api.pages_requested()) == list(range(1, max(1, -(-count // per_page)) + 1))


class SlowRandomAPI(PagedAPI):
    """Answers pages after random delays, so they complete out of order."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.in_flight = 0
        self.max_in_flight = 0
        self.rng = random.Random(4)
        self.counter = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.counter:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            delay = self.rng.uniform(0, 0.01)
        time.sleep(delay)
        try:
            return super().__call__(request)
        finally:
            with self.counter:
                self.in_flight -= 1


def test_concurrent_pages_are_yielded_strictly_in_page_order() -> None:
    api = SlowRandomAPI(300)
    got = [m.digest for m in make_client(api, concurrency=4).iter_manifests("example", "my/repo", per_page=10)]
    assert got == digests(api.items)
    assert 2 <= api.max_in_flight <= 4


def test_concurrency_one_is_sequential() -> None:
    api = SlowRandomAPI(50)
    list(make_client(api, concurrency=1).iter_manifests("example", "my/repo", per_page=10))
    assert api.max_in_flight == 1
    assert api.pages_requested() == [1, 2, 3, 4, 5]


def test_max_items_stops_early() -> None:
    api = PagedAPI(1000)
    got = list(make_client(api, concurrency=4).iter_manifests("example", "my/repo", per_page=10, max_items=35))
    assert [m.digest for m in got] == digests(api.items[:35])
    assert len(api.calls) <= 4 + 4  # the pages it needs plus at most the prefetch window
    assert list(make_client(api).iter_manifests("example", "my/repo", max_items=0)) == []


def test_start_page_resumes_a_walk() -> None:
    api = PagedAPI(95)
    got = [m.digest for m in make_client(api).iter_manifests("example", "my/repo", per_page=10, start_page=4)]
    assert got == digests(api.items[30:])
    assert sorted(api.pages_requested()) == [4, 5, 6, 7, 8, 9, 10]


def test_iter_pages_yields_pages_as_sent_and_on_page_sees_each() -> None:
    api = PagedAPI(45)
    pages = list(make_client(api).iter_pages("example", "my/repo", per_page=20))
    assert [(p.page, len(p.manifests), p.total, p.next_page) for p in pages] == [
        (1, 20, 45, 2),
        (2, 20, 45, 3),
        (3, 5, 45, None),
    ]
    assert pages[0].rate_limit == docr.RateLimit(5000, 4000, pages[0].rate_limit.reset_at)  # type: ignore[union-attr]
    seen: list[int] = []
    list(make_client(api).iter_manifests("example", "my/repo", per_page=20, on_page=lambda p: seen.append(p.page)))
    assert seen == [1, 2, 3]


def test_a_push_during_the_walk_neither_duplicates_nor_loses() -> None:
    api = PagedAPI(60)
    original = digests(api.items)

    def push_on_page_3(page: int) -> None:
        if page == 3 and len(api.items) == 60:
            api.items.insert(0, manifest(1000))  # newest first: everything shifts one place later

    api.before_page = push_on_page_3
    got = [m.digest for m in make_client(api, concurrency=1).iter_manifests("example", "my/repo", per_page=10)]
    assert len(got) == len(set(got))
    assert set(original) <= set(got)
    assert api.pages_requested().count(1) == 2  # a second pass, because the total changed


def test_a_delete_during_the_walk_loses_nothing_that_stayed() -> None:
    api = PagedAPI(60)
    deleted = api.items[5]["digest"]

    def delete_on_page_4(page: int) -> None:
        if page == 4 and api.items[5]["digest"] == deleted:
            del api.items[5]  # everything after shifts one place earlier: one would be skipped

    api.before_page = delete_on_page_4
    got = [m.digest for m in make_client(api, concurrency=1).iter_manifests("example", "my/repo", per_page=10)]
    assert len(got) == len(set(got))
    assert set(digests(api.items)) <= set(got)


def test_a_listing_that_never_settles_raises_instead_of_ending_quietly() -> None:
    api = PagedAPI(60)
    counter = iter(range(10_000, 20_000))
    api.before_page = lambda page: api.items.insert(0, manifest(next(counter)))
    with pytest.raises(docr.ListingChangedError):
        list(make_client(api).iter_manifests("example", "my/repo", per_page=10))


def test_sync_and_async_give_the_same_manifests_and_requests() -> None:
    sync_api, async_api = PagedAPI(123), PagedAPI(123)
    sync_got = [m.to_dict() for m in make_client(sync_api).iter_manifests("example", "my/repo", per_page=10)]

    async def collect() -> list[dict[str, Any]]:
        async with make_async_client(async_api) as client:
            return [m.to_dict() async for m in client.iter_manifests("example", "my/repo", per_page=10)]

    assert asyncio.run(collect()) == sync_got == async_api.items
    assert sorted(sync_api.pages_requested()) == sorted(async_api.pages_requested())


def test_async_list_pages_and_errors() -> None:
    api = PagedAPI(30)

    async def run() -> None:
        client = make_async_client(api)
        page = await client.list_manifests("example", "my/repo", page=2, per_page=20)
        assert (len(page.manifests), page.next_page) == (10, None)
        pages = [p.page async for p in client.iter_pages("example", "my/repo", per_page=10)]
        assert pages == [1, 2, 3]
        api.fail(httpx.Response(404, json={"id": "not_found", "message": "gone"}))
        with pytest.raises(docr.NotFoundError):
            [m async for m in client.iter_manifests("example", "my/repo")]
        with pytest.raises(docr.InvalidArgument):
            client.iter_manifests("example", "..")
        await client.close()

    asyncio.run(run())


def test_manifests_read_back_as_the_api_wrote_them() -> None:
    api = PagedAPI(1)
    (m,) = make_client(api).iter_manifests("example", "my/repo")
    assert m.to_dict() == api.items[0]
    assert m.updated_at is not None and m.updated_at.tzinfo is not None
    assert m.blobs[0].digest == api.items[0]["blobs"][0]["digest"]
    assert m.blobs[0].compressed_size_bytes == 10
    assert "sha256:" in repr(m)


def test_an_on_page_callback_that_raises_stops_the_walk_at_once() -> None:
    api = SlowRandomAPI(500)

    def explode(page: ManifestPage) -> None:
        raise RuntimeError("progress bar broke")

    with pytest.raises(RuntimeError, match="progress bar broke"):
        list(make_client(api).iter_manifests("example", "my/repo", per_page=10, on_page=explode))
    settled = len(api.calls)
    time.sleep(0.05)
    assert len(api.calls) == settled <= 1 + 4  # page 1, and at most the prefetch window
    assert api.in_flight == 0  # closed, not abandoned to the garbage collector


def test_async_on_page_that_raises_stops_the_walk() -> None:
    api = PagedAPI(500)

    def explode(page: ManifestPage) -> None:
        raise RuntimeError("progress bar broke")

    async def run() -> None:
        async with make_async_client(api) as client:
            with pytest.raises(RuntimeError, match="progress bar broke"):
                async for _ in client.iter_manifests("example", "my/repo", per_page=10, on_page=explode):
                    pass
            settled = len(api.calls)
            await asyncio.sleep(0.05)
            assert len(api.calls) == settled <= 1 + 4

    asyncio.run(run())


def test_manifests_compare_by_value_and_work_in_sets() -> None:
    a, b, c = (Manifest.from_dict(manifest(1)), Manifest.from_dict(manifest(1)), Manifest.from_dict(manifest(2)))
    assert a == b != c
    assert len({a, b, c}) == 2
    assert {a.blobs[0], b.blobs[0]} == {a.blobs[0]}
