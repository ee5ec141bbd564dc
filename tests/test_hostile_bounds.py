"""Bounded work: whatever a server does, a call ends after about ``timeout`` seconds, holds at most
``max_response_bytes`` of body, and a walk ends after a bounded number of requests.

- A body trickled a byte at a time fails after about ``timeout`` (not ``length x timeout``), sync
  and async; so do trickled headers, on the pool docr builds itself (``DeadlineTransport``) and in
  asyncio. On an ``http_client`` of yours docr changes nothing: headers are bounded per read.
- A 500 MB body, a gzip bomb and an endless chunked body raise ``InvalidResponse`` at the cap,
  with memory near the cap (measured with tracemalloc at the default 32 MiB).
- ``meta.total`` of 10**12 over empty pages, or a total that grows by a page on every request,
  ends in a docr error after a bounded number of requests.
"""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import docr
from docr import _transport
from docr._body import BodyReader, BodyTooLarge
from tests.hostile_server import HostileServer, Request, Wire, answer, manifest, page_body
from tests.mock_api import TOKEN

TIMEOUT = 1.0
# A trickle that would last this long if each read were bounded, rather than the whole answer.
TRICKLE_BYTES, TRICKLE_GAP = 200, 0.2
# Well under the trickle's 40 s, well over the timeout: a deadline held, even on a busy machine.
BOUND = TIMEOUT + 3.0


def trickled_body(request: Request, wire: Wire) -> None:
    wire.send(f"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: {TRICKLE_BYTES}\r\n\r\n".encode())
    for _ in range(TRICKLE_BYTES):
        if not (wire.pause(TRICKLE_GAP) and wire.send(b" ")):
            return


def trickled_head(request: Request, wire: Wire) -> None:
    head = b"HTTP/1.1 200 OK\r\nconnection: close\r\nx-pad: " + b"p" * (TRICKLE_BYTES - 60) + b"\r\n"
    for byte in head:
        if not (wire.pause(TRICKLE_GAP) and wire.send(bytes([byte]))):
            return


def timed(call: Callable[[], object]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(docr.DocrError) as info:
        call()
    return info.value, time.monotonic() - started


def sync_call(url: str, **kwargs: Any) -> Callable[[], object]:
    kwargs.setdefault("timeout", TIMEOUT)

    def call() -> object:
        with docr.Client(TOKEN, base_url=url, max_retries=0, **kwargs) as client:
            return client.list_manifests("example", "my/repo")

    return call


def async_call(url: str, **kwargs: Any) -> Callable[[], object]:
    async def run() -> object:
        async with docr.AsyncClient(TOKEN, base_url=url, timeout=TIMEOUT, max_retries=0, **kwargs) as client:
            return await client.list_manifests("example", "my/repo")

    return lambda: asyncio.run(run())


@pytest.mark.parametrize("driver", [sync_call, async_call], ids=["sync", "async"])
def test_a_trickled_body_fails_after_about_the_timeout(driver: Callable[..., Callable[[], object]]) -> None:
    with HostileServer(trickled_body) as server:
        error, took = timed(driver(server.url))
        assert server.count() == 1
    assert isinstance(error, docr.APITimeoutError)
    assert "within 1s" in str(error)
    assert TIMEOUT * 0.9 < took < BOUND


def test_trickled_headers_fail_after_about_the_timeout_in_asyncio() -> None:
    with HostileServer(trickled_head) as server:
        error, took = timed(async_call(server.url))
    assert isinstance(error, docr.APITimeoutError)
    assert TIMEOUT * 0.9 < took < BOUND


def test_trickled_headers_fail_after_about_the_timeout_on_docrs_own_pool() -> None:
    with HostileServer(trickled_head) as server, _transport.own_http(httpx.Client, TIMEOUT) as pool:
        error, took = timed(sync_call(server.url, http_client=pool))
    assert isinstance(error, docr.APITimeoutError)
    assert TIMEOUT * 0.9 < took < BOUND


def test_trickled_headers_fail_after_about_the_timeout_on_the_default_client() -> None:
    with HostileServer(trickled_head) as server:
        client = docr.Client(TOKEN, base_url=server.url, timeout=TIMEOUT, max_retries=0)
        assert isinstance(client._http._transport, _transport.DeadlineTransport)
        error, took = timed(lambda: client.list_manifests("example", "my/repo"))
    assert isinstance(error, docr.APITimeoutError)
    assert took < BOUND


def slow_lines(request: Request, wire: Wire) -> None:
    """A page whose head comes a line every 0.3 s: each read is quicker than the timeout (0.5 s),
    the whole head takes 3 s."""
    head, _, body = answer(200, page_body(request, 1), *[("x-pad", "p")] * 6).partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if not (wire.pause(0.3) and wire.send(line + b"\r\n")):
            return
    wire.send(b"\r\n" + body)


def test_your_own_http_client_is_left_alone_so_its_header_reads_are_bounded_one_by_one() -> None:
    """The documented limit: docr cannot shorten the reads of a pool it did not build."""
    with HostileServer(slow_lines) as server, httpx.Client() as yours:
        error, took = timed(sync_call(server.url, http_client=yours, timeout=0.5))
        assert isinstance(error, docr.APITimeoutError)  # the body's deadline still holds...
        assert took > 2.5  # ...but the head was read to its end, past the timeout
        with _transport.own_http(httpx.Client, 0.5) as own:
            error, took = timed(sync_call(server.url, http_client=own, timeout=0.5))
        assert isinstance(error, docr.APITimeoutError)
        assert took < 2.5  # docr's own pool cut the head at the deadline
    assert not isinstance(yours._transport, _transport.DeadlineTransport)


def test_the_deadline_transport_behaves_as_httpx_outside_an_attempt() -> None:
    def healthy(request: Request, wire: Wire) -> None:
        wire.send(answer(200, b"plain", ("content-type", "text/plain")))

    with HostileServer(healthy) as server, _transport.own_http(httpx.Client, 5.0) as pool:
        assert pool.get(server.url).text == "plain"
        assert pool.follow_redirects is False


# -- body size --------------------------------------------------------------------------------------

CAP = 1024 * 1024
HUGE = 500 * 1024 * 1024


def streamed(size: int) -> Callable[[Request, Wire], None]:
    """A 200 of ``size`` bytes of JSON-ish spaces, generated as it is sent (never held)."""

    def handle(request: Request, wire: Wire) -> None:
        wire.send(f"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: {size}\r\n\r\n".encode())
        chunk = b" " * 65536
        wire.stream(chunk for _ in range(size // len(chunk)))

    return handle


def bomb(gigabytes: int = 1) -> bytes:
    """gzip that inflates to ``gigabytes`` GiB of zeros: one 1 MiB deflate block, repeated."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = deflate.compress(b"") + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(b"\0" * (1 << 20)) + deflate.flush(zlib.Z_FULL_FLUSH)
    return head + block * (1024 * gigabytes)  # no trailer: nobody should read that far


BOMB = bomb()
# gzip of the bomb: a few KB on the wire, sent as "gzip, gzip".
DOUBLE_BOMB = zlib.compress(BOMB, 9, wbits=31)


def bomb_answer(body: bytes, encoding: str, status: int = 200) -> Callable[[Request, Wire], None]:
    def handle(request: Request, wire: Wire) -> None:
        wire.send(answer(status, body, ("content-encoding", encoding), ("content-type", "application/json")))

    return handle


def endless(request: Request, wire: Wire) -> None:
    wire.send(b"HTTP/1.1 200 OK\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    while wire.send(chunk):
        pass


OVERSIZED: dict[str, Callable[[Request, Wire], None]] = {
    "500 MB body": streamed(HUGE),
    "gzip bomb (1 MB -> 1 GiB)": bomb_answer(BOMB, "gzip"),
    "double gzip bomb (a few KB -> 1 GiB)": bomb_answer(DOUBLE_BOMB, "gzip, gzip"),
    "endless chunked body": endless,
}


def inflated_size(data: bytes) -> int:
    """How big ``data`` (gzip) inflates, counted 16 MiB at a time (never held whole)."""
    inflater, size = zlib.decompressobj(47), 0
    while data:
        size += len(inflater.decompress(data, 16 * 1024 * 1024))
        data = inflater.unconsumed_tail
    return size


def test_the_bombs_are_what_they_claim() -> None:
    assert len(BOMB) < 1.1 * 1024 * 1024
    assert inflated_size(BOMB) == 1024**3
    assert len(DOUBLE_BOMB) < 16 * 1024
    assert zlib.decompress(DOUBLE_BOMB, 47) == BOMB


@pytest.mark.parametrize("case", sorted(OVERSIZED))
@pytest.mark.parametrize("driver", [sync_call, async_call], ids=["sync", "async"])
def test_an_oversized_body_stops_at_the_cap(driver: Callable[..., Callable[[], object]], case: str) -> None:
    with HostileServer(OVERSIZED[case]) as server:
        error, _ = timed(driver(server.url, max_response_bytes=CAP))
        assert server.count() == 1  # deterministic: not retried
    assert isinstance(error, docr.InvalidResponse)
    assert "max_response_bytes (1,048,576 bytes, after decompression)" in str(error)
    assert error.transient is False
    assert error.body_excerpt is None


def test_an_error_answer_with_an_endless_body_is_read_only_to_its_start() -> None:
    def endless_error(request: Request, wire: Wire) -> None:
        wire.send(b"HTTP/1.1 500 Oops\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + b"<p>oops</p>" * (0x10000 // 11) + b"o" * (0x10000 % 11) + b"\r\n"
        while wire.send(chunk):
            pass

    with HostileServer(endless_error) as server:
        error, _ = timed(sync_call(server.url))
    assert isinstance(error, docr.ServerError)
    assert (error.body_excerpt or "").startswith("<p>oops</p>")


@pytest.mark.parametrize("case", ["500 MB body", "gzip bomb (1 MB -> 1 GiB)", "endless chunked body"])
def test_memory_stays_near_the_default_cap(case: str) -> None:
    with HostileServer(OVERSIZED[case]) as server, docr.Client(TOKEN, base_url=server.url, max_retries=0) as client:
        tracemalloc.start()
        try:
            with pytest.raises(docr.InvalidResponse, match="max_response_bytes"):
                client.list_manifests("example", "my/repo")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    cap = 32 * 1024 * 1024
    assert peak < cap + 8 * 1024 * 1024, f"peak {peak:,} bytes"


# -- walks end ----------------------------------------------------------------------------------------


class Scripted:
    """An in-process API answering each request with ``answer(request, number)``; counts requests."""

    def __init__(self, answer: Callable[[httpx.Request, int], httpx.Response], limit: int = 10_000) -> None:
        self.answer = answer
        self.calls = 0
        self.limit = limit

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls > self.limit:  # a runaway walk: stop it here rather than run for ever
            raise RuntimeError(f"more than {self.limit} requests")
        return self.answer(request, self.calls)


def huge_total(request: httpx.Request, number: int) -> httpx.Response:
    return httpx.Response(200, json={"manifests": [], "meta": {"total": 10**12}})


def growing_total(request: httpx.Request, number: int) -> httpx.Response:
    page, size = int(request.url.params["page"]), int(request.url.params["per_page"])
    total = 2 * size + number * size  # a page more on every request
    items = [{"digest": f"sha256:{i:064x}"} for i in range((page - 1) * size, min(total, page * size))]
    return httpx.Response(200, json={"manifests": items, "meta": {"total": total}})


def sync_walk(api: Scripted, kind: str) -> None:
    http = httpx.Client(transport=httpx.MockTransport(api))
    with docr.Client(TOKEN, base_url="http://api.test", http_client=http) as client:
        listing = client.iter_manifests if kind == "manifests" else client.iter_pages
        for _ in listing("example", "my/repo"):
            pass


def async_walk(api: Scripted, kind: str) -> None:
    async def run() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(api))
        async with docr.AsyncClient(TOKEN, base_url="http://api.test", http_client=http) as client:
            listing = client.iter_manifests if kind == "manifests" else client.iter_pages
            async for _ in listing("example", "my/repo"):
                pass

    asyncio.run(run())


# The request budget a walk allows: a few times the pages its first total implied (3 passes,
# a window of 4 requests ahead), and 8 more.
def budget(first_total: int, per_page: int = 200) -> int:
    return 2 * 3 * (max(1, -(-first_total // per_page)) + 4) + 8


@pytest.mark.parametrize("walk", [sync_walk, async_walk], ids=["sync", "async"])
@pytest.mark.parametrize("kind", ["manifests", "pages"])
def test_a_total_of_10_to_the_12_over_empty_pages_ends_at_once(walk: Callable[..., None], kind: str) -> None:
    api = Scripted(huge_total)
    with pytest.raises(docr.IncompleteListingError) as info:
        walk(api, kind)
    assert (info.value.expected, info.value.received) == (10**12, 0)
    # One request per walk: the first page is short, so nothing more is asked for in that walk;
    # iter_manifests walks three times, iter_pages (which cannot walk again) once.
    assert api.calls == (3 if kind == "manifests" else 1)


@pytest.mark.parametrize("walk", [sync_walk, async_walk], ids=["sync", "async"])
@pytest.mark.parametrize("kind", ["manifests", "pages"])
def test_a_total_growing_on_every_request_ends_after_a_bounded_number_of_requests(
    walk: Callable[..., None], kind: str
) -> None:
    api = Scripted(growing_total)
    with pytest.raises(docr.ListingChangedError, match="gave up after"):
        walk(api, kind)
    first_total = 2 * 200 + 200
    assert 3 < api.calls <= budget(first_total) == 50


# -- what is under the cap is decoded exactly -------------------------------------------------------


def encode(data: bytes, encoding: str) -> bytes:
    if encoding == "deflate (raw, as some servers send it)":
        raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return raw.compress(data) + raw.flush()
    for layer in [e.strip() for e in encoding.split(",") if e.strip() not in ("", "identity")]:  # as applied
        data = zlib.compress(data, 6, wbits=31 if layer == "gzip" else zlib.MAX_WBITS)
    return data


ENCODINGS = ["", "identity", "gzip", "deflate", "deflate (raw, as some servers send it)", "gzip, gzip", "deflate, gzip"]


@settings(max_examples=60, deadline=None)
@given(
    pattern=st.binary(min_size=1, max_size=3000),
    repeat=st.integers(1, 400),
    encoding=st.sampled_from(ENCODINGS),
    chunk=st.integers(1, 70_000),
    slack=st.sampled_from([-1, 0, 1, 10**9]),
)
def test_the_body_reader_decodes_exactly_what_fits_and_refuses_the_rest(
    pattern: bytes, repeat: int, encoding: str, chunk: int, slack: int
) -> None:
    data = pattern * repeat
    wire = encode(data, encoding)
    limit = max(1, len(data) + slack)
    header = "deflate" if encoding.startswith("deflate (raw") else encoding
    reader = BodyReader(header or None, limit)
    try:
        for start in range(0, len(wire), chunk):
            reader.feed(wire[start : start + chunk])
        body = reader.finish()
    except BodyTooLarge:
        assert len(data) > limit
        assert sum(map(len, reader._parts)) <= limit
    else:
        assert len(data) <= limit
        assert body == data


def test_a_compressed_page_reads_back_as_sent() -> None:
    body = json.dumps({"manifests": [manifest(i) for i in range(200)], "meta": {"total": 200}}).encode()

    def gzipped(request: Request, wire: Wire) -> None:
        wire.send(answer(200, zlib.compress(body, 9, wbits=31), ("content-encoding", "gzip")))

    with HostileServer(gzipped) as server, docr.Client(TOKEN, base_url=server.url) as client:
        page = client.list_manifests("example", "my/repo", per_page=200)
        assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"
    assert [m.digest for m in page.manifests] == [manifest(i)["digest"] for i in range(200)]


@pytest.mark.parametrize(
    ("encoding", "body"),
    [("gzip", b"not gzip at all"), ("deflate", b"\xff\xfe\xfd"), ("br", b"\x0b\x02\x80{}\x03"), ("zstd", b"x")],
)
def test_a_body_that_is_not_what_its_encoding_says_is_invalid(encoding: str, body: bytes) -> None:
    def lying(request: Request, wire: Wire) -> None:
        wire.send(answer(200, body, ("content-encoding", encoding)))

    with HostileServer(lying) as server:
        error, _ = timed(sync_call(server.url))
    assert isinstance(error, docr.InvalidResponse)
    assert encoding in str(error)
