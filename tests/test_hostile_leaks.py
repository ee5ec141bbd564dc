"""No leaks: the token shows nowhere, whatever the server sends back and however an error is shown.

- Every value that came from a server (error ``id``, ``message`` and ``request_id``, the
  ``x-request-id`` header, also on successful pages, other headers, the body excerpt, a wrongly
  typed value) is scrubbed of the token before docr stores or shows it, and scrubbed *before* it
  is cut: a token straddling a cut shows none of itself.
- No frame of docr holds the token in a plain local: on every error path (configuration, API,
  transport, timeouts, a failing hook), every traceback frame of a ``docr`` module is searched,
  its locals' reprs and values (strings, bytes, containers, objects' attributes one level down);
  and the whole traceback is rendered with locals, as ``pytest --showlocals`` and rich do.
- A ``base_url`` with credentials is refused; the password shows in no message, repr or log.
- An error's text stays short whatever the server sends (a 50 MB message, a 50 MB HTML page).
"""

from __future__ import annotations

import asyncio
import io
import logging
import traceback
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import httpx
import pytest

import docr
from docr._secrets import Secret
from tests.hostile_server import HostileServer, Request, Wire, answer, page_body
from tests.mock_api import TOKEN, PagedAPI

# A token in DigitalOcean's format that is not this client's: a proxy echoing another header.
OTHER_TOKEN = "dop_v1_" + "0123456789abcdef" * 4
PIECE = 8  # no run of this many characters of a token may show


def pieces(token: str) -> set[str]:
    return {token[i : i + PIECE] for i in range(len(token) - PIECE + 1)}


def shown_parts(text: str) -> list[str]:
    """Any run of ``PIECE`` characters of either token found in ``text``."""
    return sorted(piece for piece in pieces(TOKEN) | pieces(OTHER_TOKEN) if piece in text)


def client_for(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> docr.Client:
    client = docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(handler)), **kwargs
    )
    client._sleep = lambda seconds: None
    return client


def texts_of(error: BaseException) -> list[str]:
    """Everything a user may print of ``error``: str, repr, its attributes, the traceback."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for name, value in vars(error).items():
        texts.append(f"{name}={value!r}")
        if isinstance(value, httpx.Headers):
            texts += [f"{k}: {v}" for k, v in value.multi_items()]
    return texts


# -- every value from the server is scrubbed before it is stored ---------------------------------

ECHO = f"echo {TOKEN} and {OTHER_TOKEN} echo"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(401, json={"id": ECHO, "message": ECHO, "request_id": ECHO}),
        httpx.Response(403, json={"id": "forbidden", "message": "no"}, headers={"x-request-id": ECHO}),
        httpx.Response(500, content=f"<html>{ECHO}</html>".encode(), headers={"x-debug": ECHO}),
        httpx.Response(200, content=f"<html>{ECHO}</html>".encode(), headers={"x-request-id": ECHO}),
        httpx.Response(200, json={"manifests": [{"tags": ECHO}], "meta": {"total": 1}}),
        httpx.Response(200, json={"manifests": [{"digest": [ECHO]}], "meta": {"total": 1}}),
        httpx.Response(200, json={"manifests": [], "meta": {"total": ECHO}}),
        httpx.Response(429, json={"id": "too_many_requests", "message": ECHO}, headers={"retry-after": "999"}),
    ],
    ids=["401-body", "403-header", "500-html", "200-html", "200-tags", "200-digest", "200-total", "429"],
)
def test_every_server_value_is_scrubbed_before_it_is_stored(response: httpx.Response) -> None:
    client = client_for(lambda request: response, max_retries=0)
    with pytest.raises(docr.APIError) as info:
        client.list_manifests("example", "my/repo")
    error = info.value
    for text in texts_of(error) + texts_of(error.__cause__ or error):
        assert shown_parts(text) == []
    assert "[redacted]" in str(error) + str(error.request_id) + str(error.headers)


def test_a_successful_pages_request_id_is_scrubbed() -> None:
    api = PagedAPI(3)
    api.fail(httpx.Response(200, json=page_json(3), headers={"x-request-id": f"rid {TOKEN}"}))
    page = client_for(api).list_manifests("example", "my/repo")
    assert page.request_id == "rid [redacted]"
    assert len(page.manifests) == 3


def page_json(count: int) -> dict[str, Any]:
    return {"manifests": [{"digest": f"sha256:{i:064x}"} for i in range(count)], "meta": {"total": count}}


# A token placed so that each bound docr applies cuts through it.
STRADDLING = {
    "excerpt (200 characters)": lambda: httpx.Response(502, content=b"x" * 170 + TOKEN.encode() + b"y" * 500),
    "excerpt window (1,600 bytes) after blanks": lambda: httpx.Response(
        502, content=b" " * 1590 + TOKEN.encode() + b" tail" * 1000
    ),
    "message (1,000 characters)": lambda: httpx.Response(
        400, json={"id": "bad_request", "message": "m" * 960 + TOKEN + "n" * 500}
    ),
    "error id (200 characters)": lambda: httpx.Response(400, json={"id": "i" * 170 + TOKEN, "message": "m"}),
    "request id (200 characters)": lambda: httpx.Response(
        400, json={"id": "x", "message": "m"}, headers={"x-request-id": "r" * 170 + TOKEN}
    ),
    "wrong value (60 characters)": lambda: httpx.Response(
        200, json={"manifests": [{"tags": "t" * 30 + TOKEN}], "meta": {"total": 1}}
    ),
    "header value (1,000 characters)": lambda: httpx.Response(
        500, json={"id": "x", "message": "m"}, headers={"x-debug": "h" * 960 + TOKEN}
    ),
}


@pytest.mark.parametrize("case", sorted(STRADDLING))
def test_a_token_straddling_a_cut_shows_none_of_itself(case: str) -> None:
    response = STRADDLING[case]()
    with pytest.raises(docr.APIError) as info:
        client_for(lambda request: response, max_retries=0).list_manifests("example", "my/repo")
    for text in texts_of(info.value) + texts_of(info.value.__cause__ or info.value):
        assert shown_parts(text) == [], text


def test_a_transport_error_quoting_the_token_is_scrubbed_before_it_is_cut() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("e" * 900 + f"Bearer {TOKEN}" + "f" * 500)

    with pytest.raises(docr.TransportError) as info:
        client_for(fail, max_retries=0).list_manifests("example", "my/repo")
    for text in texts_of(info.value):
        assert shown_parts(text) == []


# -- no frame of docr holds the token -------------------------------------------------------------


def docr_frames(error: BaseException) -> Iterator[tuple[str, dict[str, Any]]]:
    """(function, locals) of every traceback frame of a docr module, along the whole chain."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb: TracebackType | None = current.__traceback__
        while tb is not None:
            module = tb.tb_frame.f_globals.get("__name__", "")
            if module == "docr" or module.startswith("docr."):
                yield f"{module}.{tb.tb_frame.f_code.co_name}", dict(tb.tb_frame.f_locals)
            tb = tb.tb_next
        # Suppressed contexts too: nothing renders them, but they are reachable.
        todo += [current.__cause__, current.__context__]


def holding(value: Any, where: str, depth: int = 1, seen: set[int] | None = None) -> list[str]:
    """Where ``TOKEN`` shows in ``value``: its repr, itself, its items, its attributes (``depth`` levels)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    found = []
    try:
        if TOKEN in repr(value):
            found.append(f"repr({where})")
    except Exception:  # a repr that fails shows nothing
        pass
    if isinstance(value, str | bytes | bytearray):
        if (TOKEN if isinstance(value, str) else TOKEN.encode()) in value:
            found.append(where)
        return found
    if isinstance(value, dict):
        for key, item in list(value.items())[:1000]:
            found += holding(key, f"{where} key", depth, seen) + holding(item, f"{where}[{key!r}]", depth, seen)
        return found
    if isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(list(value)[:1000]):
            found += holding(item, f"{where}[{index}]", depth, seen)
        return found
    if depth <= 0 or isinstance(value, Secret | type) or callable(value):
        return found  # a Secret is where the token lives: it shows only "[secure]", checked above
    attributes = dict(getattr(value, "__dict__", {}))
    for klass in type(value).__mro__:
        for name in getattr(klass, "__slots__", ()):
            if hasattr(value, name):
                attributes[name] = getattr(value, name)
    for name, item in attributes.items():
        found += holding(item, f"{where}.{name}", depth - 1, seen)
    return found


def from_docr(error: BaseException) -> TracebackType | None:
    """``error``'s traceback from its first docr frame on (the test's own frames hold the token)."""
    tb = error.__traceback__
    while tb is not None and not tb.tb_frame.f_globals.get("__name__", "").startswith("docr"):
        tb = tb.tb_next
    return tb


def assert_token_nowhere(error: BaseException, *, stdlib: bool = True) -> None:
    frames = list(docr_frames(error))
    assert frames, "the traceback should run through docr"
    for function, local_values in frames:
        for name, value in local_values.items():
            assert holding(value, name) == [], f"{function}: local {name!r} holds the token"
    if stdlib:  # what pytest --showlocals, logging and most error trackers show
        summary = traceback.TracebackException(type(error), error, from_docr(error), capture_locals=True)
        assert shown_parts("".join(summary.format())) == []
    rich_traceback = pytest.importorskip("rich.traceback")
    console = pytest.importorskip("rich.console").Console(file=io.StringIO(), width=300, color_system=None)
    console.print(
        rich_traceback.Traceback.from_exception(
            type(error), error, from_docr(error), show_locals=True, locals_max_string=100_000, locals_max_length=1000
        )
    )
    assert "docr" in console.file.getvalue()
    assert shown_parts(console.file.getvalue()) == []


def slow_body(request: Request, wire: Wire) -> None:
    wire.send(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n")
    while wire.pause(0.1) and wire.send(b" "):
        pass


def hook_fails(response: httpx.Response) -> None:
    raise RuntimeError("a response hook of yours failed")


def with_http(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), **options)


def responding(response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: response


def raising(error: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    return fail


NOT_FOUND = httpx.Response(404, json={"id": "not_found", "message": "gone"})
BUSY = httpx.Response(503, json={"id": "busy", "message": "busy"})
WRONG = httpx.Response(200, json={"manifests": [{"digest": 5}], "meta": {"total": 1}})

# name -> (client keyword arguments, what to do with the client). The token goes in as a plain str.
PATHS: dict[str, tuple[dict[str, Any], Callable[[docr.Client], object]]] = {
    "404": ({"http_client": with_http(responding(NOT_FOUND))}, lambda c: c.list_manifests("example", "my/repo")),
    "503 retried, then given up": (
        {"http_client": with_http(responding(BUSY)), "max_retries": 2},
        lambda c: list(c.iter_manifests("example", "my/repo")),
    ),
    "wrong type": ({"http_client": with_http(responding(WRONG))}, lambda c: c.list_manifests("example", "my/repo")),
    "connection refused": (
        {"http_client": with_http(raising(httpx.ConnectError("refused"))), "max_retries": 1},
        lambda c: list(c.iter_pages("example", "my/repo")),
    ),
    "read timeout": (
        {"http_client": with_http(raising(httpx.ReadTimeout("slow")))},
        lambda c: c.list_manifests("example", "my/repo"),
    ),
    "failing hook": (
        {"http_client": with_http(PagedAPI(1), event_hooks={"response": [hook_fails]})},
        lambda c: c.list_manifests("example", "my/repo"),
    ),
    "closed client": ({}, lambda c: (c.close(), c.list_manifests("example", "my/repo"))),
    "bad argument": ({}, lambda c: c.list_manifests("example", "my/repo", per_page=10_000)),
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_no_docr_frame_holds_the_token_on_any_error_path(path: str) -> None:
    kwargs, action = PATHS[path]
    client = docr.Client(TOKEN, base_url="http://api.test", **kwargs)
    client._sleep = lambda seconds: None
    with pytest.raises(docr.DocrError) as info:
        action(client)
    assert_token_nowhere(info.value)


CONFIGURATION_ERRORS = [
    {"base_url": "ftp://api.test"},
    {"timeout": -1},
    {"max_retries": "3"},
    {"http_client": "not a client"},
    {"base_url": "http://user:pass@api.test"},
    {"token": TOKEN + " x"},
    {"token": TOKEN + "\x07bell"},
]


def configuration_errors(kwargs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[docr.DocrError]:
    arguments = {"token": TOKEN, **kwargs}
    for client_type in (docr.Client, docr.AsyncClient):
        with pytest.raises(docr.DocrError) as info:
            client_type(**arguments)
        yield info.value
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", arguments.pop("token"))  # the same, from the environment
    with pytest.raises(docr.DocrError) as info:
        docr.Client(**arguments)
    yield info.value


@pytest.mark.parametrize("kwargs", CONFIGURATION_ERRORS, ids=lambda kwargs: next(iter(kwargs)))
def test_no_docr_frame_holds_the_token_on_configuration_errors(
    kwargs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for error in configuration_errors(kwargs, monkeypatch):
        assert_token_nowhere(error, stdlib=False)


def test_a_configuration_error_renders_with_locals() -> None:
    with pytest.raises(docr.DocrError) as info:
        docr.Client(TOKEN, timeout=-1)
    summary = traceback.TracebackException(type(info.value), info.value, from_docr(info.value), capture_locals=True)
    assert shown_parts("".join(summary.format())) == []


def test_no_docr_frame_holds_the_token_when_a_real_deadline_passes() -> None:
    with HostileServer(slow_body) as server:
        with pytest.raises(docr.APITimeoutError) as info:
            docr.Client(TOKEN, base_url=server.url, timeout=0.5, max_retries=0).list_manifests("example", "my/repo")
        assert_token_nowhere(info.value)

        async def run() -> None:
            async with docr.AsyncClient(TOKEN, base_url=server.url, timeout=0.5, max_retries=0) as client:
                await client.list_manifests("example", "my/repo")

        with pytest.raises(docr.APITimeoutError) as info:
            asyncio.run(run())
        assert_token_nowhere(info.value)


@pytest.mark.parametrize("path", ["404", "503 retried, then given up", "connection refused", "failing hook"])
def test_no_docr_frame_holds_the_token_on_async_error_paths(path: str) -> None:
    handlers: dict[str, tuple[Callable[[httpx.Request], httpx.Response], dict[str, Any]]] = {
        "404": (responding(NOT_FOUND), {}),
        "503 retried, then given up": (responding(BUSY), {}),
        "connection refused": (raising(httpx.ConnectError("refused")), {}),
        "failing hook": (PagedAPI(1), {"event_hooks": {"response": [async_hook_fails]}}),
    }
    handler, options = handlers[path]

    async def run() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler), **options)
        client = docr.AsyncClient(TOKEN, base_url="http://api.test", http_client=http, max_retries=1)

        async def no_sleep(seconds: float) -> None:
            return None

        client._sleep = no_sleep
        try:
            async for _ in client.iter_manifests("example", "my/repo"):
                pass
        finally:
            await http.aclose()

    with pytest.raises(docr.DocrError) as info:
        asyncio.run(run())
    assert_token_nowhere(info.value)


async def async_hook_fails(response: httpx.Response) -> None:
    raise RuntimeError("a response hook of yours failed")


def test_the_token_check_would_see_a_token_held_in_a_local() -> None:
    """The search above finds a token where a careless client would keep it."""

    def careless(token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        raise docr.TransportError(f"failed with {len(headers)} headers")

    try:
        careless(TOKEN)
    except docr.TransportError as error:
        tb = error.__traceback__
        assert tb is not None and tb.tb_next is not None
        local_values = tb.tb_next.tb_frame.f_locals
        assert holding(local_values["token"], "token") == ["repr(token)", "token"]
        assert "headers['Authorization']" in holding(local_values["headers"], "headers")

    class Holder:
        def __init__(self) -> None:
            self.value = TOKEN

    assert "holder.value" in holding(Holder(), "holder")
    assert holding(Secret(TOKEN), "secret") == []


# -- credentials in base_url ---------------------------------------------------------------------

PASSWORD = "hunter22-pw"


@pytest.mark.parametrize(
    "url",
    [
        f"http://user:{PASSWORD}@api.test",
        f"https://:{PASSWORD}@api.test/",
        f"http://{PASSWORD}@api.test",
        f"http://user:{PASSWORD}@api.test:99999",
        f"http://user:pa/{PASSWORD}@api.test",
        f"user:{PASSWORD}@api.test",
        f"http:/user:{PASSWORD}@api.test",
        f"//user:{PASSWORD}@api.test",
        f"http://user:{PASSWORD}@[::1",
    ],
)
def test_credentials_in_base_url_are_refused_and_never_shown(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for build in (
        lambda: docr.Client(TOKEN, base_url=url),
        lambda: docr.AsyncClient(TOKEN, base_url=url),
    ):
        with pytest.raises(docr.DocrError) as info:
            build()
        error = info.value
        assert isinstance(error, docr.ConfigurationError | docr.InvalidArgument)
        shown = [*texts_of(error), repr(error.__context__), repr(error.__cause__)]
        assert [text for text in shown if PASSWORD in text] == []
    assert [r.getMessage() for r in caplog.records if PASSWORD in r.getMessage()] == []


def test_credentials_from_the_environment_or_the_http_client_are_refused_too(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("DIGITALOCEAN_API_URL", f"https://user:{PASSWORD}@api.test")
    with pytest.raises(docr.ConfigurationError) as info:
        docr.Client(TOKEN)
    assert PASSWORD not in "".join(texts_of(info.value))
    monkeypatch.delenv("DIGITALOCEAN_API_URL")
    http = httpx.Client(base_url=f"https://user:{PASSWORD}@api.test")
    with pytest.raises(docr.ConfigurationError) as info:
        docr.Client(TOKEN, http_client=http)
    assert PASSWORD not in "".join(texts_of(info.value))
    assert [r.getMessage() for r in caplog.records if PASSWORD in r.getMessage()] == []
    http.close()


# -- bounded messages -----------------------------------------------------------------------------

HUGE = 50 * 1024 * 1024


def huge_answer(status: int, html: bool) -> Callable[[Request, Wire], None]:
    """A 50 MB body, streamed: a JSON error whose message is 50 MB, or an HTML page."""

    def handle(request: Request, wire: Wire) -> None:
        if html:
            start, end = b"<html><body>", b"</body></html>"
        else:
            start, end = b'{"id": "bad_request", "message": "', b'"}'
        length = len(start) + HUGE + len(end)
        kind = "text/html" if html else "application/json"
        head = f"HTTP/1.1 {status} X\r\nconnection: close\r\ncontent-type: {kind}\r\ncontent-length: {length}\r\n\r\n"
        chunk = b"m" * 65536
        wire.send(head.encode() + start) and wire.stream(chunk for _ in range(HUGE // len(chunk))) and wire.send(end)

    return handle


@pytest.mark.parametrize(("status", "html"), [(400, False), (500, True), (200, True), (404, False)])
def test_an_error_stays_short_when_the_server_sends_50_mb(status: int, html: bool) -> None:
    with HostileServer(huge_answer(status, html)) as server:
        client = docr.Client(TOKEN, base_url=server.url, max_retries=0)
        with pytest.raises(docr.APIError) as info:
            client.list_manifests("example", "my/repo")
        client.close()
    error = info.value
    assert error.status_code == status
    assert len(str(error)) < 2000
    assert len(repr(error)) < 2000 + 100
    assert len(error.message) <= 1000
    assert len(error.body_excerpt or "") <= 200


def test_in_memory_answers_of_50_mb_are_bounded_too() -> None:
    message = "m" * HUGE
    for response in (
        httpx.Response(400, json={"id": "bad_request", "message": message, "request_id": message}),
        httpx.Response(502, content=b"<html>" + message.encode()),
    ):
        with pytest.raises(docr.APIError) as info:
            client_for(lambda request, response=response: response, max_retries=0).list_manifests("example", "my/repo")
        assert len(str(info.value)) < 2000


def test_a_healthy_page_is_untouched_by_the_hostile_server_helper() -> None:
    """The helper itself: an ordinary page, served raw, reads back as sent."""

    def healthy(request: Request, wire: Wire) -> None:
        wire.send(answer(200, page_body(request, 5), ("x-request-id", "rid-1")))

    with HostileServer(healthy) as server, docr.Client(TOKEN, base_url=server.url) as client:
        page = client.list_manifests("example", "my/repo", per_page=3)
        assert [m.digest for m in page.manifests] == [f"sha256:{i:064x}" for i in range(3)]
        assert (page.total, page.request_id) == (5, "rid-1")
        assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
