"""Sending one ``Call`` and reading its whole answer: the only network I/O in docr.

``send`` (threads) and ``asend`` (asyncio) do the same four things, and nothing else:

- build the request on the caller's ``httpx`` client without changing that client: the URL is
  absolute (the client's ``base_url`` is ignored), the token goes into this request's header only,
  inline from its ``Secret``, and ``auth=None`` keeps the client's own auth from replacing it;
- send it without following redirects (a redirect would carry the token elsewhere);
- read the body as a raw stream through ``BodyReader``: decoded by docr, capped at
  ``max_response_bytes`` (a 500 MB body or a gzip bomb ends at the cap, not in memory);
- hold one deadline for the whole attempt. Async: ``asyncio.timeout`` around everything.
  Threads: every connect and read is bounded by the timeout, and the deadline is checked after
  each chunk of the body, so a server trickling a byte at a time fails after about ``timeout``.

A response hook that raises ``httpx.HTTPStatusError`` (``raise_for_status``) does not hide the
answer: its response is read like any other. Anything else the client raises that is not an
``httpx`` error (a closed client, a failing hook) becomes a docr exception that is not retried.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Final

import httpx

from docr import _errors as errors
from docr._body import ACCEPT_ENCODING, BodyReader, BodyTooLarge, BodyUndecodable
from docr._config import USER_AGENT
from docr._exchange import Call, Reply, unreadable
from docr._secrets import Secret, scrub

__all__ = ["DeadlineExceeded", "asend", "send"]

# An error answer is read only this far: its JSON id and message, or an excerpt, is all docr keeps.
ERROR_BODY_LIMIT: Final = 64 * 1024
_HEADERS: Final = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING, "User-Agent": USER_AGENT}


class DeadlineExceeded(TimeoutError):
    """The attempt's whole-request deadline passed while its body was still arriving."""


def _build(
    http: httpx.Client | httpx.AsyncClient, base_url: str, call: Call[Any], token: Secret, timeout: httpx.Timeout
) -> httpx.Request:
    request = http.build_request(
        call.method, base_url + call.path, params=call.params, json=call.json, headers=_HEADERS, timeout=timeout
    )
    request.headers["Authorization"] = "Bearer " + token.reveal()
    return request


def send(http: httpx.Client, base_url: str, call: Call[Any], token: Secret, timeout: float, limit: int) -> Reply:
    """Send ``call`` and read its whole answer; raises httpx errors, ``DeadlineExceeded`` or docr errors."""
    started = time.monotonic()
    deadline = started + timeout
    try:
        request = _build(http, base_url, call, token, httpx.Timeout(timeout))
        try:
            response = http.send(request, stream=True, auth=None, follow_redirects=False)
        except httpx.HTTPStatusError as error:  # the caller's raise_for_status hook: the answer is still ours
            response = error.response
    except httpx.HTTPError:
        raise
    except Exception as error:
        raise _client_fault(error, [token]) from error
    try:
        if response.is_stream_consumed:
            body = _in_memory(response, limit, [token])
        else:
            reader = _reader(response, _limit(response, limit), [token])
            for chunk in response.iter_raw():
                if not _feed(reader, chunk, response, limit, [token]):
                    break
                if time.monotonic() > deadline:
                    raise DeadlineExceeded(f"the answer was not whole within {timeout:g}s")
            body = _finish(reader, response, limit, [token])
    finally:
        response.close()
    return Reply(response.status_code, response.headers, body, (time.monotonic() - started) * 1000)


async def asend(
    http: httpx.AsyncClient, base_url: str, call: Call[Any], token: Secret, timeout: float, limit: int
) -> Reply:
    """``send`` for asyncio: the whole attempt (connect to the last byte) runs under one deadline."""
    import asyncio  # here, not at the top: sync users never pay for importing it (~10 ms)

    started = time.monotonic()
    async with asyncio.timeout(timeout):
        try:
            request = _build(http, base_url, call, token, httpx.Timeout(timeout))
            try:
                response = await http.send(request, stream=True, auth=None, follow_redirects=False)
            except httpx.HTTPStatusError as error:
                response = error.response
        except httpx.HTTPError:
            raise
        except Exception as error:
            raise _client_fault(error, [token]) from error
        try:
            if response.is_stream_consumed:
                body = _in_memory(response, limit, [token])
            else:
                reader = _reader(response, _limit(response, limit), [token])
                async for chunk in response.aiter_raw():
                    if not _feed(reader, chunk, response, limit, [token]):
                        break
                body = _finish(reader, response, limit, [token])
        finally:
            await response.aclose()
    return Reply(response.status_code, response.headers, body, (time.monotonic() - started) * 1000)


def _in_memory(response: httpx.Response, limit: int, secrets: Iterable[Secret]) -> bytes:
    # A response built in memory (httpx.MockTransport with content=): httpx has read it already.
    if not response.is_success:
        return response.content[:ERROR_BODY_LIMIT]
    if len(response.content) > limit:
        raise _too_large(response, limit, secrets)
    return response.content


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
