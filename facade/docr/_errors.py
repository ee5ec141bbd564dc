"""The exceptions docr raises: one tree, rooted at ``DocrError``.

Hierarchy::

    DocrError
    ├── ConfigurationError          no token, or a setting that cannot work
    ├── InvalidArgument             (also ValueError) a bad name or paging argument; no request sent
    ├── ListingChangedError         the repository kept changing under a walk; see Client.iter_manifests
    ├── TransportError              the connection failed (httpx.TransportError inside)
    │   └── TimeoutError            (also builtins.TimeoutError) no answer in time
    └── APIError                    the API answered with an error: status_code, error_id, message, ...
        ├── AuthenticationError     401
        ├── PermissionDenied        403
        ├── NotFoundError           404
        ├── RateLimitError          429: retry_after, rate_limit
        ├── ServerError             any 5xx, including unregistered ones such as Cloudflare's 520
        └── InvalidResponse         a 2xx whose body is not the documented JSON object

Every message is built from the response's status, error id, message and request id; no
exception ever carries the request's headers, so the token cannot leak through one.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from docr._models import RateLimit

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "DocrError",
    "InvalidArgument",
    "InvalidResponse",
    "ListingChangedError",
    "NotFoundError",
    "PermissionDenied",
    "RateLimitError",
    "ServerError",
    "TimeoutError",
    "TransportError",
]


class DocrError(Exception):
    """The root of every exception docr raises."""


class ConfigurationError(DocrError):
    """The client cannot be set up, for example because no token can be found."""


class InvalidArgument(DocrError, ValueError):
    """An argument is not acceptable; raised before any request is sent.

    ``argument`` names the offending parameter.
    """

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")
        self.argument = argument


class ListingChangedError(DocrError):
    """The repository changed under every walk allowed, so completeness cannot be promised."""


class TransportError(DocrError):
    """The request did not get an HTTP answer: DNS, connection refused or reset, protocol error."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class TimeoutError(TransportError, builtins.TimeoutError):
    """No answer came within the client's timeout."""


class APIError(DocrError):
    """The API answered with a status docr does not treat as success.

    Attributes: ``status_code``, ``error_id`` (the body's ``id``), ``message``, ``request_id``
    (the ``x-request-id`` header, else the body's ``request_id``), ``headers`` (the
    response's), ``body_excerpt`` (the start of a body that was not the documented JSON)
    and ``attempts`` (how many requests were made before giving up).
    """

    def __init__(
        self,
        *,
        status_code: int,
        error_id: str | None,
        message: str,
        request_id: str | None = None,
        headers: httpx.Headers | None = None,
        body_excerpt: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.status_code = status_code
        self.error_id = error_id
        self.message = message
        self.request_id = request_id
        self.headers = headers if headers is not None else httpx.Headers()
        self.body_excerpt = body_excerpt
        self.attempts = attempts
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.status_code} {self.error_id or 'error'}: {self.message}"
        if self.body_excerpt:
            text += "" if text.endswith((".", "!", "?")) else "."
            text += f" Body starts: {self.body_excerpt!r}."
        if self.request_id:
            text += f" (request_id={self.request_id})"
        if self.attempts > 1:
            text += f" [gave up after {self.attempts} attempts]"
        return text

    def __str__(self) -> str:
        # Recomputed so that `attempts`, set once retries run out, shows in the message.
        return self._describe()


class AuthenticationError(APIError):
    """401: the token is missing, wrong, expired or revoked."""


class PermissionDenied(APIError):
    """403: the token lacks the scope for this call (``registry:read``)."""


class NotFoundError(APIError):
    """404: no such registry or repository, or the token cannot see it."""


class RateLimitError(APIError):
    """429: too many requests.

    ``retry_after`` is the server's wait in seconds when it said one (``retry-after``, else
    ``ratelimit-reset``); ``rate_limit`` is the response's rate-limit headers.
    """

    retry_after: float | None = None
    rate_limit: RateLimit | None = None

    def _describe(self) -> str:
        text = super()._describe()
        if self.retry_after is not None:
            text += f" Retry after {self.retry_after:g}s."
        return text


class ServerError(APIError):
    """Any 5xx, including codes ``http.HTTPStatus`` does not know (Cloudflare's 520-527)."""


class InvalidResponse(APIError):
    """A 2xx whose body is not the documented JSON object (truncated, HTML, wrong shape)."""
