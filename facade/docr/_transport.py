"""Sending one ``Call`` and reading its whole answer: the only network I/O in docr.

``send`` (threads) and ``asend`` (asyncio) do the same four things, and nothing else:

- build the request on the caller's ``httpx`` client without changing that client: the URL is
  absolute (the client's ``base_url`` is ignored), the token goes into this request's header only,
  inline from its ``Secret``, and ``auth=None`` keeps the client's own auth from replacing it;
- send it without following redirects (a redirect would carry the token elsewhere);
- read the body as a raw stream through ``BodyReader``: decoded by docr, capped at
  ``max_response_bytes`` (a 500 MB body or a gzip bomb ends at the cap, not in memory);
- hold one deadline for the whole attempt. Async: ``asyncio.timeout`` around everything.
  Threads: the deadline is checked after each chunk of the body, so a server trickling its body a
  byte at a time fails after about ``timeout``. On the pool docr builds itself (``own_http``),
  every socket connect, write and read also waits at most until the deadline (``DeadlineTransport``),
  so trickled *headers* fail after about ``timeout`` too, without a thread per request. On an
  ``http_client`` of yours docr changes nothing, so there the header phase is bounded only per
  read (each read waits at most ``timeout``; httpcore caps a response head at 100 KiB).

A response hook that raises ``httpx.HTTPStatusError`` (``raise_for_status``) does not hide the
answer: its response is read like any other. Anything else the client raises that is not an
``httpx`` error (a closed client, a failing hook) becomes a docr exception that is not retried.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, Final, TypeVar

import httpcore
import httpx

from docr import _errors as errors
from docr._body import ACCEPT_ENCODING, BodyReader, BodyTooLarge, BodyUndecodable
from docr._config import USER_AGENT
from docr._exchange import Call, Reply, unreadable
from docr._secrets import Secret, scrub

__all__ = ["DeadlineExceeded", "DeadlineTransport", "asend", "own_http", "send"]

# An error answer is read only this far: its JSON id and message, or an excerpt, is all docr keeps.
ERROR_BODY_LIMIT: Final = 64 * 1024
_HEADERS: Final = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING, "User-Agent": USER_AGENT}


_Http = TypeVar("_Http", httpx.Client, httpx.AsyncClient)


class DeadlineExceeded(TimeoutError):
    """The attempt's whole-request deadline passed while its answer was still arriving."""


class _Deadline(threading.local):
    """When the attempt running on this thread must end (``send`` sets it; ``None`` outside one)."""

    at: float | None = None


_DEADLINE: Final = _Deadline()


def _until_deadline(timeout: float | None, late: type[httpcore.TimeoutException]) -> float | None:
    """``timeout`` for one socket operation, shortened to what is left of this thread's deadline."""
    at = _DEADLINE.at
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise late("the answer was not whole within the timeout")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write waits at most until the attempt's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _until_deadline(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _until_deadline(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        wait = _until_deadline(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        wait = _until_deadline(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_tcp(host, port, wait, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        wait = _until_deadline(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, wait, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport, over a pool whose sockets never wait past the attempt's deadline.

    A server that trickles its status line and headers a byte at a time keeps every single read
    short, so per-read timeouts never fire; here each read waits at most for what is left of
    the whole attempt, and the attempt fails after about ``timeout``. Outside ``send`` (no
    deadline set on the thread) it behaves exactly as ``httpx.HTTPTransport()``.
    """

    def __init__(self) -> None:
        super().__init__()
        # httpx.HTTPTransport takes no network backend; its pool is rebuilt with httpx's defaults.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_DeadlineBackend(),
        )


def own_http(http_type: type[_Http], timeout: float) -> _Http:
    """The connection pool docr builds when given no ``http_client``: no redirects, and (threads)
    a ``DeadlineTransport``. For ``BaseClient.__init__``."""
    if http_type is httpx.Client:
        return httpx.Client(timeout=timeout, follow_redirects=False, transport=DeadlineTransport())
    return http_type(timeout=timeout, follow_redirects=False)


def _build(
    http: httpx.Client | httpx.AsyncClient,
    base_url: str,
    call: Call[Any],
    authorization: Secret | None,
    timeout: httpx.Timeout,
) -> httpx.Request:
    headers = _HEADERS if call.accept == _HEADERS["Accept"] else {**_HEADERS, "Accept": call.accept}
    request = http.build_request(
        call.method, base_url + call.path, params=call.params, json=call.json, headers=headers, timeout=timeout
    )
    if authorization is not None:
        request.headers["Authorization"] = authorization.reveal()
    return request


def send(
    http: httpx.Client,
    base_url: str,
    call: Call[Any],
    authorization: Secret | None,
    timeout: float,
    limit: int,
    secrets: Sequence[Secret] = (),
) -> Reply:
    """Send ``call`` and read its whole answer; raises httpx errors, ``DeadlineExceeded`` or docr errors.

    ``authorization`` is the whole ``Authorization`` header (or ``None``); ``secrets`` are scrubbed
    from any message built here.
    """
    started = time.monotonic()
    scrubbed = [*secrets] if authorization is None else [*secrets, authorization]
    _DEADLINE.at = started + timeout  # read by DeadlineTransport's sockets, on this thread only
    try:
        return _send(http, base_url, call, authorization, timeout, limit, started, scrubbed)
    finally:
        _DEADLINE.at = None


def _send(
    http: httpx.Client,
    base_url: str,
    call: Call[Any],
    authorization: Secret | None,
    timeout: float,
    limit: int,
    started: float,
    secrets: list[Secret],
) -> Reply:
    try:
        request = _build(http, base_url, call, authorization, httpx.Timeout(timeout))
        try:
            response = http.send(request, stream=True, auth=None, follow_redirects=False)
        except httpx.HTTPStatusError as error:  # the caller's raise_for_status hook: the answer is still ours
            response = error.response
    except httpx.HTTPError:
        raise
    except Exception as error:
        raise _client_fault(error, secrets) from error
    try:
        if response.is_stream_consumed:
            body = _in_memory(response, limit, secrets)
        else:
            reader = _reader(response, _limit(response, limit), secrets)
            for chunk in response.iter_raw():
                if not _feed(reader, chunk, response, limit, secrets):
                    break
                if time.monotonic() > started + timeout:
                    raise DeadlineExceeded(f"the answer was not whole within {timeout:g}s")
            body = _finish(reader, response, limit, secrets)
    finally:
        response.close()
    return Reply(response.status_code, response.headers, body, (time.monotonic() - started) * 1000)


async def asend(
    http: httpx.AsyncClient,
    base_url: str,
    call: Call[Any],
    authorization: Secret | None,
    timeout: float,
    limit: int,
    secrets: Sequence[Secret] = (),
) -> Reply:
    """``send`` for asyncio: the whole attempt (connect to the last byte) runs under one deadline."""
    import asyncio  # here, not at the top: sync users never import asyncio

    started = time.monotonic()
    scrubbed = [*secrets] if authorization is None else [*secrets, authorization]
    scope = asyncio.timeout(timeout)
    try:
        async with scope:
            return await _asend(http, base_url, call, authorization, timeout, limit, started, scrubbed)
    except TimeoutError:
        if not scope.expired():
            raise
        # asyncio.timeout's own TimeoutError says nothing; say what ran out.
        raise DeadlineExceeded(f"the answer was not whole within {timeout:g}s") from None


async def _asend(
    http: httpx.AsyncClient,
    base_url: str,
    call: Call[Any],
    authorization: Secret | None,
    timeout: float,
    limit: int,
    started: float,
    secrets: list[Secret],
) -> Reply:
    try:
        request = _build(http, base_url, call, authorization, httpx.Timeout(timeout))
        try:
            response = await http.send(request, stream=True, auth=None, follow_redirects=False)
        except httpx.HTTPStatusError as error:
            response = error.response
    except httpx.HTTPError:
        raise
    except Exception as error:
        raise _client_fault(error, secrets) from error
    try:
        if response.is_stream_consumed:
            body = _in_memory(response, limit, secrets)
        else:
            reader = _reader(response, _limit(response, limit), secrets)
            async for chunk in response.aiter_raw():
                if not _feed(reader, chunk, response, limit, secrets):
                    break
            body = _finish(reader, response, limit, secrets)
    finally:
        await response.aclose()
    return Reply(response.status_code, response.headers, body, (time.monotonic() - started) * 1000)


def _in_memory(response: httpx.Response, limit: int, secrets: Iterable[Secret]) -> bytes:
    # A response built in memory (httpx.MockTransport with content=): httpx has read it already.
    try:
        content = response.content
    except httpx.StreamError:  # read by someone else first: a transport handing out one response twice
        raise errors.DocrError(
            "the http_client returned a response whose body was already read (a transport of yours?)"
        ) from None
    if not response.is_success:
        return content[:ERROR_BODY_LIMIT]
    if len(content) > limit:
        raise _too_large(response, limit, secrets)
    return content


def _limit(response: httpx.Response, limit: int) -> int:
    return limit if response.is_success else min(limit, ERROR_BODY_LIMIT)


def _reader(response: httpx.Response, limit: int, secrets: Iterable[Secret]) -> BodyReader:
    try:
        return BodyReader(response.headers.get("content-encoding"), limit)
    except BodyUndecodable as error:
        raise unreadable(response.status_code, response.headers, str(error), secrets, transient=False) from None


def _feed(reader: BodyReader, chunk: bytes, response: httpx.Response, limit: int, secrets: Iterable[Secret]) -> bool:
    """Feed one chunk; False when an error answer's start is all that will be read."""
    try:
        reader.feed(chunk)
    except BodyTooLarge:
        if not response.is_success:
            return False
        raise _too_large(response, limit, secrets) from None
    except BodyUndecodable as error:
        raise unreadable(response.status_code, response.headers, str(error), secrets, transient=True) from None
    return True


def _finish(reader: BodyReader, response: httpx.Response, limit: int, secrets: Iterable[Secret]) -> bytes:
    try:
        return reader.finish()
    except BodyTooLarge:
        if not response.is_success:
            return reader.partial()
        raise _too_large(response, limit, secrets) from None
    except BodyUndecodable as error:
        raise unreadable(response.status_code, response.headers, str(error), secrets, transient=True) from None


def _too_large(response: httpx.Response, limit: int, secrets: Iterable[Secret]) -> errors.InvalidResponse:
    why = f"the body is larger than max_response_bytes ({limit:,} bytes, after decompression); not read further"
    return unreadable(response.status_code, response.headers, why, secrets, transient=False)


def _client_fault(error: Exception, secrets: Iterable[Secret]) -> errors.DocrError:
    if isinstance(error, RuntimeError) and "closed" in str(error):
        return errors.ClientClosedError("the http_client given to docr is closed")
    text = scrub(f"{type(error).__name__}: {error}", secrets, 300)
    return errors.DocrError(f"the http_client raised {text} (an event hook or transport of yours?)")
