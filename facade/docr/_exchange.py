"""One exchange with the API, as data: what to send (``Call``), what came back (``Reply``), and
what it means (``settle``). No I/O: the drivers send and receive, everything else is decided here.

``settle`` turns a reply into the call's result or the right docr exception, whatever the body
holds: an unregistered status (Cloudflare's 520), an HTML page from a proxy, a truncated body, an
error body without ``id``, a well-formed body with a wrong type. Every text that came from the
server is scrubbed of secrets and bounded before it is stored (``docr._secrets.scrub``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Generic, TypeVar

import httpx

from docr import _errors as errors
from docr._models import RateLimit
from docr._parse import FieldError
from docr._retry import server_wait
from docr._secrets import Secret, scrub

__all__ = ["Call", "Reply", "error_from_response", "failure", "settle", "unreadable"]

logger = logging.getLogger("docr")

T = TypeVar("T")

_EXCERPT: Final = 200  # characters of a body shown in an error
_SHORT: Final = 200  # an error id or request id is a short token; more is noise (or an attack)
_MESSAGE: Final = 1000
_STATUS_ERRORS: Final[Mapping[int, type[errors.APIError]]] = {
    401: errors.AuthenticationError,
    403: errors.PermissionDenied,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    412: errors.ConflictError,
    429: errors.RateLimitError,
}


class Call(Generic[T]):
    """A validated request: method, encoded path, query, JSON body, and how to read a 2xx body.

    ``parse`` gets the decoded JSON (``None`` for an empty body) and the reply; ``what`` names the
    call in logs and errors (``example/my/repo page 2``: names only, never headers).

    ``Call`` and ``Reply`` are plain classes, not dataclasses: generating their methods would
    cost ~1 ms of ``import docr`` (the start-up target), and one of each is built per request.
    """

    __slots__ = ("expects_body", "idempotent", "json", "method", "params", "parse", "path", "what")

    def __init__(
        self,
        method: str,
        path: str,
        parse: Callable[[Any, Reply], T],
        what: str,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        idempotent: bool = True,
        expects_body: bool = True,  # False for answers documented without one (204)
    ) -> None:
        self.method = method
        self.path = path
        self.parse = parse
        self.what = what
        self.params = params
        self.json = json
        self.idempotent = idempotent
        self.expects_body = expects_body

    def __repr__(self) -> str:
        return f"Call({self.method} {self.path}, what={self.what!r})"


class Reply:
    """What came back: status, headers and the whole (capped, decoded) body."""

    __slots__ = ("body", "elapsed_ms", "headers", "request_id", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes, elapsed_ms: float = 0.0) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed_ms = elapsed_ms
        # The x-request-id header, scrubbed of secrets and bounded: set by ``settle`` before parsing.
        self.request_id: str | None = None

    def __repr__(self) -> str:
        return f"Reply(status={self.status}, {len(self.body)} bytes)"


def settle(call: Call[T], reply: Reply, attempt: int, secrets: Iterable[Secret]) -> T:
    """The call's result from a reply, or raise the matching docr exception."""
    secrets = list(secrets)
    reply.request_id = _short(reply.headers.get("x-request-id"), secrets)
    if logger.isEnabledFor(logging.DEBUG):
        query = "&".join(f"{k}={v}" for k, v in (call.params or {}).items())
        logger.debug(
            "%s %s%s -> %d in %.0f ms (attempt %d, request_id=%s)",
            call.method,
            call.path,
            f"?{query}" if query else "",
            reply.status,
            reply.elapsed_ms,
            attempt,
            reply.request_id,
        )
    if not 200 <= reply.status < 300:
        raise error_from_response(reply, secrets)
    if not reply.body or reply.body.isspace():  # `not body.strip()`, without copying a 200 KB page
        if call.expects_body:
            raise _invalid(reply, secrets, "the body is empty (cut short, or not the API's answer)")
        data = None
    else:
        try:
            data = json.loads(reply.body)
        except (ValueError, RecursionError):
            raise _invalid(reply, secrets, "the body is not JSON (cut short, or not the API's answer)") from None
    try:
        return call.parse(data, reply)
    except FieldError as error:
        raise _invalid(reply, secrets, f"{call.what}: {error}", transient=False) from error


def failure(
    call: Call[Any], error: BaseException, elapsed_ms: float, attempt: int, secrets: Iterable[Secret]
) -> errors.DocrError:
    """The docr exception for an attempt that got no whole answer (connection, timeout, size)."""
    message = scrub(f"{call.what}: {type(error).__name__}: {error}", secrets, _MESSAGE)
    logger.debug("%s %s failed after %.0f ms (attempt %d): %s", call.method, call.path, elapsed_ms, attempt, message)
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return errors.APITimeoutError(f"timed out: {message}")
    return errors.TransportError(f"connection failed: {message}")


def error_from_response(reply: Reply, secrets: Iterable[Secret] = ()) -> errors.APIError:
    """The docr exception for a non-2xx answer, whatever its body holds."""
    secrets = list(secrets)
    body = _json_object(reply.body)
    error_id, message = body.get("id"), body.get("message")
    error_id = _short(error_id, secrets) if isinstance(error_id, str) else None
    message = scrub(message, secrets, _MESSAGE) if isinstance(message, str) and message.strip() else None
    request_id = reply.headers.get("x-request-id") or body.get("request_id")
    request_id = request_id if isinstance(request_id, str) else None
    fields: dict[str, Any] = {
        "status_code": reply.status,
        "error_id": error_id,
        "message": message or _reason(reply.status),
        "request_id": _short(request_id, secrets),
        "headers": _safe_headers(reply.headers, secrets),
        "body_excerpt": None if message else _excerpt(reply.body, secrets),
    }
    cls = _STATUS_ERRORS.get(reply.status)
    if cls is None:
        cls = errors.ServerError if reply.status >= 500 else errors.APIError
    error = cls(**fields)
    if isinstance(error, errors.RateLimitError):
        error.rate_limit = RateLimit.from_headers(reply.headers)
        error.retry_after = server_wait(
            reply.headers.get("retry-after"), reply.headers.get("ratelimit-reset"), time.time()
        )
    return error


def unreadable(
    status: int, headers: Mapping[str, str], why: str, secrets: Iterable[Secret], *, transient: bool
) -> errors.InvalidResponse:
    """The error for a body docr would not read to the end (over the size cap, undecodable)."""
    return _invalid(Reply(status, headers, b""), secrets, why, transient=transient)


def _invalid(reply: Reply, secrets: Iterable[Secret], why: str, *, transient: bool = True) -> errors.InvalidResponse:
    secrets = list(secrets)
    error = errors.InvalidResponse(
        status_code=reply.status,
        error_id=None,
        message=scrub(f"invalid response: {why}.", secrets, _MESSAGE),
        request_id=_short(reply.headers.get("x-request-id"), secrets),
        headers=_safe_headers(reply.headers, secrets),
        body_excerpt=_excerpt(reply.body, secrets),
    )
    error.transient = transient
    return error


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _short(value: str | None, secrets: Iterable[Secret]) -> str | None:
    if value is None:
        return None
    return scrub(" ".join(value.split()), secrets, _SHORT) or None


def _excerpt(body: bytes, secrets: Iterable[Secret]) -> str:
    # Redact the whole window first, then cut: a token straddling the cut never shows a part.
    text = " ".join(body[: _EXCERPT * 8].decode("utf-8", "replace").split())
    return scrub(text, secrets, _EXCERPT) if text else "(empty body)"


def _safe_headers(headers: Mapping[str, str], secrets: Iterable[Secret]) -> httpx.Headers:
    secrets = list(secrets)
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else list(headers.items())
    return httpx.Headers([(name, scrub(value, secrets, 1000)) for name, value in items])
