"""One page request: which generated operation to call, and what its outcome means.

The generated ``sync_detailed``/``asyncio_detailed`` do the HTTP exchange and parse the
documented answers. Some answers break them: an unregistered status such as 520 makes
``HTTPStatus(520)`` raise ``ValueError``, an HTML 502 or a truncated body makes
``response.json()`` raise, an error body without ``id`` raises ``KeyError``. So a response
hook keeps the raw ``httpx.Response`` of the current request in a context variable (one
per thread and per asyncio task), and ``settle`` turns whatever happened, parsed model or
exception, into a ``ManifestPage`` or the right ``docr`` exception, built from the raw
status, headers and body. Nothing from inside the generated code escapes.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from types import ModuleType
from typing import Any

import attrs
import httpx

from docr import _errors as errors
from docr._models import Manifest, ManifestPage, RateLimit
from docr._retry import server_wait
from docr_api.api.container_registries import registries_list_repository_manifests
from docr_api.api.container_registry import registry_list_repository_manifests
from docr_api.errors import UnexpectedStatus
from docr_api.models import RepositoryManifestsPage
from docr_api.types import Unset

logger = logging.getLogger("docr")

_last_response: ContextVar[httpx.Response | None] = ContextVar("docr_last_response", default=None)

_EXCERPT = 200
_STATUS_ERRORS: dict[int, type[errors.APIError]] = {
    401: errors.AuthenticationError,
    403: errors.PermissionDenied,
    404: errors.NotFoundError,
    429: errors.RateLimitError,
}


def remember_response(response: httpx.Response) -> None:
    """httpx response hook (sync clients): keep the raw response for ``settle``."""
    _last_response.set(response)


async def aremember_response(response: httpx.Response) -> None:
    """httpx response hook (async clients)."""
    _last_response.set(response)


@attrs.frozen
class PageRequest:
    """A validated request for one page."""

    registry: str
    repository: str
    page: int
    per_page: int
    registries_endpoint: bool = False

    @property
    def operation(self) -> ModuleType:
        if self.registries_endpoint:
            return registries_list_repository_manifests
        return registry_list_repository_manifests

    def kwargs(self) -> dict[str, Any]:
        return {
            "registry_name": self.registry,
            "repository_name": self.repository,
            "page": self.page,
            "per_page": self.per_page,
        }

    def describe(self) -> str:
        """For logs and errors: ``example/my/repo page 2`` (names only, never headers)."""
        return f"{self.registry}/{self.repository} page {self.page}"


def begin() -> float:
    """Call before each attempt: forget the previous raw response, start the clock."""
    _last_response.set(None)
    return time.perf_counter()


def settle(
    request: PageRequest,
    outcome: httpx.Response | BaseException,
    started: float,
    attempt: int,
    secret: str,
) -> ManifestPage:
    """Turn the outcome of one attempt into a page, or raise the matching docr exception."""
    raw = _last_response.get()
    elapsed_ms = (time.perf_counter() - started) * 1000
    if raw is None:
        # No HTTP answer at all: the connection failed or timed out.
        message = _redact(f"{request.describe()}: {type(outcome).__name__}: {outcome}", secret)
        logger.debug("GET %s failed after %.0f ms (attempt %d): %s", request.describe(), elapsed_ms, attempt, message)
        if isinstance(outcome, httpx.TimeoutException):
            raise errors.TimeoutError(f"timed out: {message}") from None
        if isinstance(outcome, httpx.HTTPError):
            raise errors.TransportError(f"connection failed: {message}") from None
        if isinstance(outcome, BaseException):
            raise outcome
        raise errors.TransportError(f"no response: {message}")
    request_id = raw.headers.get("x-request-id")
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "GET %s -> %d in %.0f ms (attempt %d, request_id=%s)",
            raw.request.url.raw_path.decode("ascii", "replace"),
            raw.status_code,
            elapsed_ms,
            attempt,
            request_id,
        )
    if isinstance(outcome, httpx.HTTPError):
        # An answer came but its body could not be read to the end.
        raise errors.TransportError(_redact(f"reading {request.describe()} failed: {outcome}", secret)) from None
    if not 200 <= raw.status_code < 300:
        raise error_from_response(raw, secret)
    try:
        parsed = request.operation.parse_response(raw.status_code, json.loads(raw.content))
    except (ValueError, UnexpectedStatus) as exc:  # not JSON, InvalidField, or an undocumented 2xx
        raise _invalid(raw, secret, _redact(f"the body is not the documented JSON object ({exc})", secret)) from None
    if not isinstance(parsed, RepositoryManifestsPage):
        raise _invalid(raw, secret, "the body is not the documented JSON object")
    total = parsed.meta.total
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise _invalid(raw, secret, f"meta.total is {total!r}, not a count")
    models = [] if isinstance(parsed.manifests, Unset) else parsed.manifests
    return ManifestPage(
        manifests=[Manifest(model) for model in models],
        total=total,
        page=request.page,
        per_page=request.per_page,
        rate_limit=RateLimit.from_headers(raw.headers),
        request_id=request_id,
    )


def error_from_response(raw: httpx.Response, secret: str = "") -> errors.APIError:
    """The docr exception for a non-2xx answer, whatever its body holds."""
    body = _json_object(raw)
    error_id = body.get("id") if isinstance(body.get("id"), str) else None
    message = body.get("message") if isinstance(body.get("message"), str) else None
    excerpt = None if message else _excerpt(raw, secret)
    fields: dict[str, Any] = {
        "status_code": raw.status_code,
        "error_id": error_id,
        "message": _redact(message or raw.reason_phrase or f"HTTP {raw.status_code}", secret),
        "request_id": raw.headers.get("x-request-id") or _str_or_none(body.get("request_id")),
        "headers": raw.headers,
        "body_excerpt": excerpt,
    }
    if raw.status_code in _STATUS_ERRORS:
        error = _STATUS_ERRORS[raw.status_code](**fields)
    elif raw.status_code >= 500:
        error = errors.ServerError(**fields)
    else:
        error = errors.APIError(**fields)
    if isinstance(error, errors.RateLimitError):
        error.rate_limit = RateLimit.from_headers(raw.headers)
        error.retry_after = server_wait(raw.headers.get("retry-after"), raw.headers.get("ratelimit-reset"), time.time())
    return error


def _invalid(raw: httpx.Response, secret: str, why: str) -> errors.InvalidResponse:
    return errors.InvalidResponse(
        status_code=raw.status_code,
        error_id=None,
        message=f"invalid response: {why}.",
        request_id=raw.headers.get("x-request-id"),
        headers=raw.headers,
        body_excerpt=_excerpt(raw, secret),
    )


def _json_object(raw: httpx.Response) -> dict[str, Any]:
    try:
        data = json.loads(raw.content)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _excerpt(raw: httpx.Response, secret: str) -> str:
    text = raw.content[: _EXCERPT * 4].decode("utf-8", "replace")
    text = " ".join(text.split())[:_EXCERPT]
    return _redact(text, secret) if text else "(empty body)"


def _redact(text: str, secret: str) -> str:
    # A proxy's debug page may echo request headers; never pass the token on. (A test token
    # of a few characters is no secret, and redacting it would garble every message.)
    return text.replace(secret, "[redacted]") if len(secret) >= 6 else text
