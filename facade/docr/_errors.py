"""The exceptions docr raises: one tree, rooted at ``DocrError``.

Hierarchy::

    DocrError
    ├── ConfigurationError          no token, or a setting that cannot work
    │   └── ClientClosedError       the client was used after close()
    ├── InvalidArgument             (also ValueError) a bad name or paging argument; no request sent
    ├── ListingChangedError         the repository kept changing under a walk; see Client.iter_manifests
    ├── IncompleteListingError      the pages did not add up to meta.total, even after walking again
    ├── TransportError              the connection failed (httpx.TransportError inside)
    │   └── APITimeoutError         (also builtins.TimeoutError) no whole answer within the timeout
    └── APIError                    the API answered with an error: status_code, error_id, message, ...
        ├── AuthenticationError     401
        ├── PermissionDenied        403
        ├── NotFoundError           404
        ├── ConflictError           409, 412: the registry's state forbids it now (a running GC)
        ├── RateLimitError          429: retry_after, rate_limit
        ├── ServerError             any 5xx, including unregistered ones such as Cloudflare's 520
        └── InvalidResponse         a 2xx whose body is not the documented JSON (or too big)

``docr.TimeoutError`` is an alias of ``APITimeoutError`` (kept for code written against 0.1).

Every message is built from the response's status, error id, message and request id, all
scrubbed of secrets and bounded in length; no exception carries the request's headers, so the
token cannot leak through one. Every exception survives ``pickle`` with its class and attributes
(multiprocessing, task queues).
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from docr._models import RateLimit

__all__ = [
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "DocrError",
    "IncompleteListingError",
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


# What str() of any docr exception may hold at most: a server may send a 50 MB message.
MAX_MESSAGE = 1000


def _rebuild(cls: type[DocrError], args: tuple[Any, ...], state: dict[str, Any]) -> DocrError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class DocrError(Exception):
    """The root of every exception docr raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take keyword-only arguments, which Exception's default pickling cannot
        # replay: rebuild from the message and the attributes instead.
        state = dict(self.__dict__)
        if isinstance(state.get("headers"), httpx.Headers):
            state["headers"] = httpx.Headers(list(state["headers"].multi_items()))
        return (_rebuild, (type(self), self.args, state))


class ConfigurationError(DocrError):
    """The client cannot be set up, for example because no token can be found."""


class ClientClosedError(ConfigurationError):
    """The client was used after ``close()``: open a new one."""


class InvalidArgument(DocrError, ValueError):
    """An argument is not acceptable; raised before any request is sent.

    ``argument`` names the offending parameter.
    """

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")
        self.argument = argument


class ListingChangedError(DocrError):
    """The repository changed under every walk allowed, so completeness cannot be promised."""


class IncompleteListingError(DocrError):
    """The pages read did not add up to what the server said it holds, even after walking again.

    ``expected`` is the count the server announced (``meta.total``), ``received`` the number of
    distinct items it actually served. Raised instead of ending a listing quietly short.
    """

    def __init__(self, message: str, *, expected: int, received: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.received = received


class TransportError(DocrError):
    """The request did not get an HTTP answer: DNS, connection refused or reset, protocol error.

    ``request_sent`` is False when the connection was never made, so the server cannot have acted.
    """

    def __init__(self, message: str, *, attempts: int = 1, request_sent: bool = True) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.request_sent = request_sent


class APITimeoutError(TransportError, builtins.TimeoutError):
    """No whole answer came within the client's timeout (connect, send and every read together)."""


TimeoutError = APITimeoutError  # the 0.1 name; it shadowed the builtin, so the class was renamed


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
        text = f"{self.status_code} {self.error_id or 'error'}: {self.message[:MAX_MESSAGE]}"
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


class ConflictError(APIError):
    """409 or 412: the registry's state forbids this now (a garbage collection is running, or the
    account has several registries and a legacy ``/v2/registry`` call cannot tell which)."""


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
    """A 2xx whose body is not the documented JSON (truncated, HTML, wrong types, too big).

    ``transient`` tells a body that may come out right when asked again (cut short, not JSON)
    from one that will not (well-formed JSON with a wrong type, a body over the size cap).
    """

    transient: bool = True
