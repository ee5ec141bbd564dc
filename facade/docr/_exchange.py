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

    __slots__ = (
        "accept",
        "authorization",
        "base_url",
        "budgeted",
        "decode_json",
        "expects_body",
        "gone_is_done",
        "idempotent",
        "json",
        "method",
        "params",
        "parse",
        "path",
        "secret_answer",
        "what",
    )

    def __init__(
        self,
        method: str,
        path: str,
        parse: Callable[[Any, Reply], T],
        what: str,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        *,
        # Retried after an attempt whose outcome is unknown (a timeout, a 5xx). Not for a POST that
        # may have acted: that is retried only when it surely never reached the API.
        idempotent: bool = True,
        expects_body: bool = True,  # False for answers documented without one (204)
        # A DELETE: a 404 after an attempt whose outcome is unknown means that attempt did it.
        gone_is_done: bool = False,
        secret_answer: bool = False,  # the 2xx body holds a secret: never decoded into a message
        base_url: str | None = None,  # another service (the OCI registry); None: the API
        authorization: Secret | None = None,  # the Authorization header for base_url calls
        budgeted: bool = True,  # counted against the API's rate limit
        decode_json: bool = True,  # False: ``parse`` reads ``reply.body`` itself (a manifest's exact bytes)
        accept: str = "application/json",
    ) -> None:
        self.method = method
        self.path = path
        self.parse = parse
        self.what = what
        self.params = params
        self.json = json
        self.idempotent = idempotent
        self.expects_body = expects_body
        self.gone_is_done = gone_is_done
        self.secret_answer = secret_answer
        self.base_url = base_url
        self.authorization = authorization
        self.budgeted = budgeted
        self.decode_json = decode_json
        self.accept = accept

    def __repr__(self) -> str:
        # Names only: never the authorization (a Secret hides itself anyway) or the JSON body.
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
        # A traceback renderer with locals (pytest --showlocals, rich, Sentry) shows this: not the
        # server's raw headers and body, which may be 32 MB or echo a secret.
        return f"Reply(status={self.status}, body={len(self.body):,} bytes, request_id={self.request_id!r})"


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
    if not call.decode_json:
        data = None
    elif not reply.body or reply.body.isspace():  # `not body.strip()`, without copying a 200 KB page
        if call.expects_body:
            raise _invalid(reply, secrets, "the body is empty (cut short, or not the API's answer)")
        data = None
    else:
        try:
            data = json.loads(reply.body)
        except (ValueError, RecursionError):
            why = "the body is not JSON (cut short, or not the API's answer)"
            raise _invalid(reply, secrets, why, excerpt=not call.secret_answer) from None
    try:
        return call.parse(data, reply)
    except ValueError as error:  # FieldError, the generated InvalidField, an invalid OCI manifest
        # The server's value may hold a secret: the cause kept is a scrubbed copy, raised outside
        # this block so that the raw error is not kept as its context either.
        if isinstance(error, FieldError):
            cause: ValueError = error.redacted(secrets)
        else:
            cause = ValueError(scrub(str(error), secrets, _MESSAGE))
    why = f"{call.what}: {cause}"
    raise _invalid(reply, secrets, why, transient=False, excerpt=not call.secret_answer) from cause


def failure(
    call: Call[Any],
    error: BaseException,
    elapsed_ms: float,
    attempt: int,
    secrets: Iterable[Secret],
    timeout: float | None = None,
) -> errors.DocrError:
    """The docr exception for an attempt that got no whole answer (connection, timeout, size)."""
    message = scrub(f"{call.what}: {type(error).__name__}: {error}", secrets, _MESSAGE)
    logger.debug("%s %s failed after %.0f ms (attempt %d): %s", call.method, call.path, elapsed_ms, attempt, message)
    sent = not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        limit = (
            "" if timeout is None or f"within {timeout:g}s" in message else f" (no whole answer within {timeout:g}s)"
        )
        return errors.APITimeoutError(f"timed out: {message}{limit}", request_sent=sent)
    return errors.TransportError(f"connection failed: {message}", request_sent=sent)


def error_from_response(reply: Reply, secrets: Iterable[Secret] = ()) -> errors.APIError:
    """The docr exception for a non-2xx answer, whatever its body holds."""
    secrets = list(secrets)
    body = _json_object(reply.body)
    error_id, message = body.get("id"), body.get("message")
    oci_errors = body.get("errors")
    if error_id is None and isinstance(oci_errors, list) and oci_errors and isinstance(oci_errors[0], dict):
        # The registry's own API (OCI distribution) answers {"errors": [{"code", "message"}]}.
        code, message = oci_errors[0].get("code"), oci_errors[0].get("message")
        error_id = code.lower() if isinstance(code, str) else None
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
    return _invalid(Reply(status, headers, b""), secrets, why, transient=transient, excerpt=False)


def _invalid(
    reply: Reply, secrets: Iterable[Secret], why: str, *, transient: bool = True, excerpt: bool = True
) -> errors.InvalidResponse:
    secrets = list(secrets)
    error = errors.InvalidResponse(
        status_code=reply.status,
        error_id=None,
        message=scrub(f"invalid response: {why}.", secrets, _MESSAGE),
        request_id=_short(reply.headers.get("x-request-id"), secrets),
        headers=_safe_headers(reply.headers, secrets),
        body_excerpt=_excerpt(reply.body, secrets) if excerpt else None,
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
    secrets = list(secrets)
    window = body[: _EXCERPT * 8]
    words = window.decode("utf-8", "replace").split()
    if len(body) > len(window) and words and not window[-1:].isspace():
        # The window's last word runs past it: a secret cut there would no longer match, and
        # folding the whitespace before the word could bring it into view. Its tail goes.
        margin = max([128, *(len(secret.reveal()) for secret in secrets)])
        words[-1] = words[-1][:-margin]
    text = " ".join(word for word in words if word)
    if not text:
        return "…" if body.strip() else "(empty body)"
    return scrub(text, secrets, _EXCERPT)


def _safe_headers(headers: Mapping[str, str], secrets: Iterable[Secret]) -> httpx.Headers:
    secrets = list(secrets)
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else list(headers.items())
    # A server may send any byte in a header value (obs-text, decoded as latin-1) and a cut adds
    # "…": UTF-8 bytes hold either, where httpx would encode a str value as ASCII and fail.
    safe = httpx.Headers([(name.encode(), scrub(value, secrets, 1000).encode()) for name, value in items])
    safe.encoding = "utf-8"
    return safe
