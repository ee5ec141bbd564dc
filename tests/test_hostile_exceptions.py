"""Only docr exceptions: whatever the server answers, a call returns its result or raises a
``docr.DocrError`` subclass, never ``KeyError``, ``OverflowError``, ``zlib.error`` or an httpx error.

The cases named in issue 9 one by one (``ratelimit-reset: 10**17``, an integer digest, a closed
client, a non-JSON error, ``Content-Encoding: br``, a redirect, ``HTTP/1.0`` garbage, a cut body),
then hypothesis fuzzing status, headers and body bytes through ``httpx.MockTransport``. What is
deterministic (a wrong type, a body over the cap, an unknown encoding) is asked once; what may
come out right next time (a cut body, a 503, a dropped connection) is retried; the cause of an
error docr raises about your code or the server's data is chained.
"""

from __future__ import annotations

import asyncio
import json
import math
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import docr
from docr._parse import FieldError
from tests.hostile_server import HostileServer, Request, Wire, answer, page_body
from tests.mock_api import TOKEN, PagedAPI


class Counting:
    """Answers every request with ``respond(request)``; counts them."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.respond = respond
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return self.respond(request)


def client_for(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> tuple[docr.Client, list[float]]:
    sleeps: list[float] = []
    client = docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(handler)), **kwargs
    )
    client._sleep = sleeps.append
    return client, sleeps


PAGE = {"manifests": [{"digest": "sha256:" + "a" * 64}], "meta": {"total": 1}}


# -- ratelimit-reset and retry-after a server may lie about ------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"ratelimit-reset": str(10**17)},
        {"ratelimit-reset": str(10**400)},
        {"ratelimit-reset": "-1"},
        {"ratelimit-reset": "nan"},
        {"ratelimit-reset": "1e400"},
        {"retry-after": str(10**17)},
        {"retry-after": "inf"},
        {"retry-after": "nan"},
        {"retry-after": "-3"},
        {"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"},
        {"retry-after": "Mon, 01 Jan 0001 00:00:00 GMT"},
        {"retry-after": "soon"},
    ],
    ids=lambda headers: "=".join(next(iter(headers.items())))[:40],
)
def test_a_429_with_any_wait_is_retried_after_a_sane_wait_or_raised_at_once(headers: dict[str, str]) -> None:
    api = Counting(
        lambda request: httpx.Response(429, json={"id": "too_many_requests", "message": "x"}, headers=headers)
    )
    client, sleeps = client_for(api, max_retries=2)
    with pytest.raises(docr.RateLimitError) as info:
        client.list_manifests("example", "my/repo")
    assert all(math.isfinite(wait) and 0 <= wait <= 60 for wait in sleeps)
    assert api.calls == len(sleeps) + 1 in (1, 3)
    retry_after = info.value.retry_after
    assert retry_after is None or (retry_after >= 0 and not math.isnan(retry_after))
    assert len(str(info.value)) < 2000


@pytest.mark.parametrize("value", [str(10**17), str(10**30), "-5", "nan", "x" * 10_000])
def test_rate_limit_headers_on_a_200_are_read_or_ignored(value: str) -> None:
    headers = {"ratelimit-reset": value, "ratelimit-remaining": value, "ratelimit-limit": value}
    api = Counting(lambda request: httpx.Response(200, json=PAGE, headers=headers))
    client, _ = client_for(api)
    page = client.list_manifests("example", "my/repo")
    if value.lstrip("-").isdigit() and int(value) > 10**12:  # no such date: no reset_at, no OverflowError
        assert page.rate_limit is None or page.rate_limit.reset_at is None
    assert [m.digest for m in client.iter_manifests("example", "my/repo")] == ["sha256:" + "a" * 64]


def test_a_429_with_a_reset_in_the_year_3_billion_raises_at_once_with_its_hint() -> None:
    api = Counting(
        lambda request: httpx.Response(
            429, json={"id": "too_many_requests", "message": "x"}, headers={"ratelimit-reset": str(10**17)}
        )
    )
    client, sleeps = client_for(api)
    with pytest.raises(docr.RateLimitError) as info:
        client.list_manifests("example", "my/repo")
    assert (api.calls, sleeps) == (1, [])
    assert info.value.retry_after is not None and info.value.retry_after > 10**16
    assert info.value.rate_limit is not None and info.value.rate_limit.reset_at is None


# -- the named cases ------------------------------------------------------------------------------------


def test_an_integer_digest_is_invalid_not_retried_and_names_the_field() -> None:
    api = Counting(lambda request: httpx.Response(200, json={"manifests": [{"digest": 5}], "meta": {"total": 1}}))
    client, sleeps = client_for(api)
    with pytest.raises(docr.InvalidResponse) as info:
        list(client.iter_manifests("example", "my/repo"))
    assert (api.calls, sleeps) == (1, [])
    assert info.value.transient is False
    assert "manifests[0].digest must be a string, not integer 5" in str(info.value)
    cause = info.value.__cause__
    assert isinstance(cause, FieldError) and cause.path == "manifests[0].digest"


def test_a_cut_body_is_retried_and_then_succeeds() -> None:
    answers = iter([b'{"manifests": [{"digest": "sha256:', json.dumps(PAGE).encode()])
    api = Counting(lambda request: httpx.Response(200, content=next(answers)))
    client, sleeps = client_for(api)
    page = client.list_manifests("example", "my/repo")
    assert (api.calls, len(sleeps), len(page.manifests)) == (2, 1, 1)


def test_a_body_cut_by_the_connection_is_retried_over_real_http() -> None:
    answers = iter(["cut", "whole"])

    def serve(request: Request, wire: Wire) -> None:
        whole = answer(200, page_body(request, 3))
        wire.send(whole[:-10] if next(answers) == "cut" else whole)  # content-length promises more

    with HostileServer(serve) as server:
        client = docr.Client(TOKEN, base_url=server.url)
        client._sleep = lambda seconds: None
        with client:
            assert len(client.list_manifests("example", "my/repo").manifests) == 3
        assert server.count() == 2


@pytest.mark.parametrize("driver", ["sync", "async"])
@pytest.mark.parametrize("what", ["docr's client", "your http_client"])
def test_a_closed_client_is_a_docr_error(driver: str, what: str) -> None:
    if driver == "sync":
        http = httpx.Client(transport=httpx.MockTransport(PagedAPI(1)))
        client = docr.Client(TOKEN, base_url="http://api.test", http_client=http)
        (client.close if what == "docr's client" else http.close)()
        with pytest.raises(docr.ClientClosedError):
            client.list_manifests("example", "my/repo")
        if what == "docr's client":
            with pytest.raises(docr.ClientClosedError):
                client.iter_pages("example", "my/repo")
        return

    async def run() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(PagedAPI(1)))
        client = docr.AsyncClient(TOKEN, base_url="http://api.test", http_client=http)
        await (client.close() if what == "docr's client" else http.aclose())
        with pytest.raises(docr.ClientClosedError):
            await client.list_manifests("example", "my/repo")
        with pytest.raises(docr.ClientClosedError):
            async for _ in client.iter_manifests("example", "my/repo"):
                pass

    asyncio.run(run())


def endless_stream() -> Iterator[bytes]:
    while True:
        yield b" " * 65536


def test_an_endless_streamed_body_is_invalid_at_the_cap() -> None:
    api = Counting(lambda request: httpx.Response(200, content=endless_stream()))
    client, sleeps = client_for(api, max_response_bytes=256 * 1024)
    with pytest.raises(docr.InvalidResponse, match="max_response_bytes"):
        client.list_manifests("example", "my/repo")
    assert (api.calls, sleeps) == (1, [])


@pytest.mark.parametrize(
    ("status", "body", "cls", "calls"),
    [
        (500, b"<html><h1>Internal Server Error</h1></html>", docr.ServerError, 3),
        (502, b"upstream connect error or disconnect/reset before headers", docr.ServerError, 3),
        (404, b"404 page not found\n", docr.NotFoundError, 1),
        (400, b"\x00\x01\x02 binary", docr.APIError, 1),
        (503, b"", docr.ServerError, 3),
        (200, b"<html>Sign in to continue</html>", docr.InvalidResponse, 3),
    ],
)
def test_a_non_json_answer_is_the_right_docr_error(status: int, body: bytes, cls: type, calls: int) -> None:
    api = Counting(lambda request: httpx.Response(status, content=body, headers={"content-type": "text/html"}))
    client, _ = client_for(api, max_retries=2)
    with pytest.raises(cls) as info:
        client.list_manifests("example", "my/repo")
    assert type(info.value) is cls
    assert api.calls == calls


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br", "x-made-up"])
def test_an_encoding_docr_did_not_ask_for_is_invalid_and_not_retried(encoding: str) -> None:
    def serve(request: Request, wire: Wire) -> None:
        wire.send(answer(200, b"\x0b\x02\x80{}\x03", ("content-encoding", encoding)))

    with HostileServer(serve) as server, docr.Client(TOKEN, base_url=server.url) as client:
        with pytest.raises(docr.InvalidResponse) as info:
            client.list_manifests("example", "my/repo")
        assert server.count() == 1
    assert "did not ask for" in str(info.value)
    assert info.value.transient is False


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_and_never_followed(status: int) -> None:
    followed: list[Request] = []

    def elsewhere(request: Request, wire: Wire) -> None:
        followed.append(request)
        wire.send(answer(200, page_body(request, 1)))

    with HostileServer(elsewhere) as target:

        def serve(request: Request, wire: Wire) -> None:
            wire.send(answer(status, b"", ("location", f"{target.url}/steal")))

        with HostileServer(serve) as server, docr.Client(TOKEN, base_url=server.url) as client:
            with pytest.raises(docr.APIError) as info:
                client.list_manifests("example", "my/repo")
            assert server.count() == 1
    assert info.value.status_code == status
    assert followed == []  # the token never went to the redirect's target


GARBAGE = {
    "HTTP/1.0, no reason, control bytes in a header": b"HTTP/1.0 200\r\n\x00\x01garbage\r\n\r\nnot json",
    "a status of 22 digits": b"HTTP/1.0 2000000000000000000000 OK\r\n\r\n",
    "not HTTP at all": b"SSH-2.0-OpenSSH_9.6\r\n",
    "a header without a colon": b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n{}",
    "two content-lengths": b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 5\r\n\r\n{}",
    "a bad chunk size": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "nothing": b"",
    "half a status line": b"HTTP/1.1 2",
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_http_garbage_is_a_transport_error_and_retried(case: str) -> None:
    def serve(request: Request, wire: Wire) -> None:
        wire.send(GARBAGE[case])

    with HostileServer(serve) as server:
        client = docr.Client(TOKEN, base_url=server.url, max_retries=2)
        client._sleep = lambda seconds: None
        with client, pytest.raises(docr.TransportError) as info:
            client.list_manifests("example", "my/repo")
        assert server.count() == 3
    assert info.value.attempts == 3
    assert len(str(info.value)) < 2000


def test_your_hooks_failure_is_a_docr_error_with_its_cause_chained_and_not_retried() -> None:
    class YourBug(Exception):
        pass

    def hook(response: httpx.Response) -> None:
        raise YourBug("a hook of yours failed")

    api = PagedAPI(1)
    http = httpx.Client(transport=httpx.MockTransport(api), event_hooks={"response": [hook]})
    with pytest.raises(docr.DocrError) as info:
        docr.Client(TOKEN, base_url="http://api.test", http_client=http).list_manifests("example", "my/repo")
    assert type(info.value) is docr.DocrError
    assert isinstance(info.value.__cause__, YourBug)
    assert "YourBug: a hook of yours failed" in str(info.value)
    assert len(api.calls) == 1


def test_a_response_your_transport_hands_out_twice_is_a_docr_error() -> None:
    once = httpx.Response(200, content=iter([json.dumps(PAGE).encode()]))
    api = Counting(lambda request: once)
    client, _ = client_for(api)
    assert len(client.list_manifests("example", "my/repo").manifests) == 1
    with pytest.raises(docr.DocrError, match="already read"):
        client.list_manifests("example", "my/repo")
    assert api.calls == 2


def test_header_values_with_any_byte_survive_into_the_error() -> None:
    raw = [(b"x-request-id", b"rid-\x9b\x85\xff"), (b"x-debug", b"caf\xc3\xa9 " + b"z" * 2000)]
    api = Counting(lambda request: httpx.Response(503, headers=raw, json={"id": "busy", "message": "busy"}))
    client, _ = client_for(api, max_retries=0)
    with pytest.raises(docr.ServerError) as info:
        client.list_manifests("example", "my/repo")
    assert info.value.request_id == "rid-\x9b \xff"  # NEL (\x85) is whitespace: folded like any
    assert info.value.headers["x-debug"].endswith("zzz…")  # cut, as every header value, at 1,000 characters
    assert len(info.value.headers["x-debug"]) == 1000


# -- fuzzing: status, headers and body bytes ---------------------------------------------------------

HEADER_NAMES = [
    "content-type",
    "content-encoding",
    "content-length",
    "transfer-encoding",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-request-id",
    "location",
    "x-other",
]
HEADER_VALUES = st.one_of(
    st.sampled_from(["gzip", "deflate", "br", "identity", "gzip, gzip", "chunked", "application/json", "0", "-1"]),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
MANIFEST = st.fixed_dictionaries(
    {},
    optional={
        "digest": st.text(max_size=80) | JSON,
        "tags": st.lists(st.text(max_size=10), max_size=3) | JSON,
        "updated_at": st.sampled_from(["2026-01-01T00:00:00Z", "2026-13-45", "yesterday"]) | JSON,
        "compressed_size_bytes": st.integers() | JSON,
        "size_bytes": st.integers() | JSON,
        "blobs": st.lists(st.dictionaries(st.sampled_from(["digest", "compressed_size_bytes"]), JSON), max_size=2)
        | JSON,
    },
)
PAGE_JSON = st.fixed_dictionaries(
    {"manifests": st.lists(MANIFEST, max_size=5) | JSON, "meta": st.fixed_dictionaries({"total": st.integers() | JSON})}
) | st.dictionaries(st.sampled_from(["manifests", "meta", "links", "id", "message", "request_id"]), JSON)


def encoded(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return zlib.compress(data, 6, wbits=31)
    if how == "deflate":
        return zlib.compress(data)
    if how == "truncated":
        return data[: len(data) // 2]
    return data


BODIES = st.one_of(
    st.binary(max_size=300),
    st.tuples(
        PAGE_JSON.map(lambda value: json.dumps(value).encode()), st.sampled_from(["", "gzip", "deflate", "truncated"])
    ).map(lambda pair: encoded(*pair)),
)


@st.composite
def responses(draw: st.DrawFn) -> Callable[[], httpx.Response]:
    """A way to build one fuzzed answer afresh for each request (a response is read only once)."""
    status = draw(st.integers(100, 599) | st.sampled_from([200, 200, 200, 429, 503]))
    headers = [
        (name, value.encode("latin-1"))  # as on the wire: any byte a header may hold
        for name, value in draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), HEADER_VALUES), max_size=5))
    ]
    body = draw(BODIES)
    if draw(st.booleans()):  # streamed: read and decoded by docr, not by httpx
        cut = draw(st.integers(0, len(body)))
        return lambda: httpx.Response(status, headers=headers, content=iter([body[:cut], body[cut:]]))
    try:
        httpx.Response(status, headers=headers, content=body)
    except httpx.HTTPError:  # httpx decodes an in-memory body itself, and may refuse it
        headers = [header for header in headers if header[0] != "content-encoding"]
    return lambda: httpx.Response(status, headers=headers, content=body)


def fuzzed_client(answers: list[Callable[[], httpx.Response]]) -> tuple[docr.Client, Counting]:
    cycle = iter(answers * 100)
    api = Counting(lambda request: next(cycle, lambda: httpx.Response(599))())
    client, _ = client_for(api, max_retries=2, max_response_bytes=64 * 1024)
    return client, api


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=responses())
def test_any_single_answer_gives_a_page_or_a_docr_error(answer: Callable[[], httpx.Response]) -> None:
    client, api = fuzzed_client([answer])
    try:
        page = client.list_manifests("example", "my/repo")
    except docr.DocrError as error:
        assert len(str(error)) < 2000
    else:
        assert isinstance(page, docr.ManifestPage)
    assert api.calls <= 3


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=st.lists(responses(), min_size=1, max_size=4), kind=st.sampled_from(["manifests", "pages"]))
def test_any_sequence_of_answers_gives_items_or_a_docr_error(
    answers: list[Callable[[], httpx.Response]], kind: str
) -> None:
    client, api = fuzzed_client(answers)
    listing = client.iter_manifests if kind == "manifests" else client.iter_pages
    try:
        for _ in listing("example", "my/repo", per_page=5):
            pass
    except docr.DocrError as error:
        assert len(str(error)) < 2000
    assert api.calls < 200  # bounded, whatever the totals say


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=st.lists(responses(), min_size=1, max_size=3))
def test_any_answer_gives_a_page_or_a_docr_error_in_asyncio(answers: list[Callable[[], httpx.Response]]) -> None:
    cycle = iter(answers * 100)
    calls = 0

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return next(cycle, lambda: httpx.Response(599))()

    async def run() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(respond))
        client = docr.AsyncClient(TOKEN, base_url="http://api.test", http_client=http, max_retries=2)

        async def no_sleep(seconds: float) -> None:
            assert math.isfinite(seconds)

        client._sleep = no_sleep
        try:
            await client.list_manifests("example", "my/repo")
            async for _ in client.iter_manifests("example", "my/repo", per_page=5):
                pass
        except docr.DocrError:
            pass
        finally:
            await http.aclose()

    asyncio.run(run())
    assert calls < 200
