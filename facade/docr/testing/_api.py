"""The DO API's wire format as openapi/docr.openapi.yaml describes it: auth, paging, bodies, errors.

Pure functions (no state, no I/O), so the rules read in one place:

- errors: `{"id", "message", "request_id"}` with the rate-limit headers, as every answer has;
- auth: `Authorization: Bearer <token>`, anything else is 401 `unauthorized`;
- paging: `page` (default 1, >= 1) and `per_page` (default 20, 1-200), decimal integers only.
  The spec declares these bounds, so a value outside them, or not an integer, is refused with
  400 `bad_request` in the spec's error model (its `default` response) rather than clamped;
  `page` must also fit in an int64, as in DigitalOcean's Go API;
- `links.pages`: absolute URLs back to the host the client called, with its raw path and
  `?page=K&per_page=P`: `first` and `prev` after page 1, `next` and `last` before the last page;
- token paging (list repositories V2, as upstream): `page_token` is an opaque cursor (base64url
  JSON naming the last repository served); `links.pages.next` carries `page=K+1&page_token=...
  &per_page=P`, the other links only `page` and `per_page`. With a token, `page` only numbers
  the links (upstream: "Ignored when 'page_token' is provided"); an invalid token is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from docr.testing._ratelimit import Quota
from docr.testing._server import Answer

__all__ = [
    "ERROR_IDS",
    "JSON",
    "base_url",
    "bearer_token",
    "error_answer",
    "error_body",
    "format_seconds",
    "json_answer",
    "no_content",
    "page_body",
    "page_number",
    "page_token",
    "paging",
    "quota_headers",
    "read_page_token",
]

JSON: Final = "application/json; charset=utf-8"
DEFAULT_PER_PAGE: Final = 20
MAX_PER_PAGE: Final = 200
_MAX_PAGE: Final = 2**63 - 1

# Error ids as DigitalOcean spells them, by status; others get "error".
ERROR_IDS: Final[Mapping[int, tuple[str, str]]] = {
    400: ("bad_request", "The request was invalid."),
    401: ("unauthorized", "Unable to authenticate you."),
    403: ("forbidden", "You do not have access for the attempted action."),
    404: ("not_found", "The resource you requested could not be found."),
    405: ("method_not_allowed", "Method not allowed on this path."),
    409: ("conflict", "The request could not be completed due to a conflict."),
    412: ("precondition_failed", "A precondition of the request failed."),
    429: ("too_many_requests", "API rate limit exceeded."),
    500: ("server_error", "Unexpected server-side error"),
    503: ("service_unavailable", "The service is temporarily unavailable. Please try again later."),
    504: ("gateway_timeout", "The server did not answer in time."),
}

_PROXY_HTML: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
    b"<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)

_DIGITS = re.compile(r"-?[0-9]{1,25}")
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +(\S+) *")
# A Host header safe to echo into links: a name or address and an optional port.
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def bearer_token(authorization: str | None) -> str | None:
    """The token of a well-formed `Bearer <token>` header, else None."""
    if authorization is None:
        return None
    match = _BEARER.fullmatch(authorization)
    return match.group(1) if match else None


def _integer(value: str | None, default: int) -> int | None:
    if value is None:
        return default
    if not _DIGITS.fullmatch(value):
        return None
    return int(value)


def paging(query: Mapping[str, str]) -> tuple[int, int] | str:
    """(page, per_page), or the message of a 400 when either is not allowed."""
    per_page = _integer(query.get("per_page"), DEFAULT_PER_PAGE)
    if per_page is None or not 1 <= per_page <= MAX_PER_PAGE:
        return f"per_page must be an integer from 1 to {MAX_PER_PAGE}"
    page = _integer(query.get("page"), 1)
    if page is None or not 1 <= page <= _MAX_PAGE:
        return f"page must be an integer from 1 to {_MAX_PAGE}"
    return page, per_page


def page_number(query: Mapping[str, str]) -> int | None:
    """The page a request asks for (1 when it does not say), None when it is not a valid page."""
    result = paging(query)
    return None if isinstance(result, str) else result[0]


def error_body(status: int, request_id: str, message: str | None = None) -> bytes:
    error_id, default_message = ERROR_IDS.get(status, ("error", f"The server answered {status}."))
    body = {"id": error_id, "message": message or default_message, "request_id": request_id}
    return json.dumps(body).encode()


def quota_headers(quota: Quota) -> list[tuple[str, str]]:
    return [
        ("ratelimit-limit", str(quota.limit)),
        ("ratelimit-remaining", str(quota.remaining)),
        ("ratelimit-reset", str(quota.reset)),
    ]


def format_seconds(seconds: float) -> str:
    """A `retry-after` value: whole seconds when whole, else up to milliseconds (a scaled clock)."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.3f}".rstrip("0")


def error_answer(
    status: int, request_id: str, quota: Quota, message: str | None = None, retry_after: float | None = None
) -> Answer:
    """An error answer: the spec's JSON error model, except the proxy imitations 502 and 520."""
    headers = quota_headers(quota)
    if retry_after is not None:
        headers.append(("retry-after", format_seconds(retry_after)))
    if status == 502:
        # What a proxy in front of the API answers: HTML, not the API's JSON.
        return Answer(status, _PROXY_HTML, [("content-type", "text/html"), *headers])
    if status == 520:
        # Cloudflare's "unknown error": no body at all.
        return Answer(status, b"", headers)
    return Answer(status, error_body(status, request_id, message), [("content-type", JSON), *headers])


def base_url(host_header: str | None, fallback: str) -> str:
    """Where links point: the host the client called when it said so sanely, else the fake's URL."""
    if host_header and _HOST.fullmatch(host_header):
        return f"http://{host_header}"
    return fallback


def json_answer(status: int, body: Any, quota: Quota) -> Answer:
    return Answer(
        status, json.dumps(body, separators=(",", ":")).encode(), [("content-type", JSON), *quota_headers(quota)]
    )


def no_content(quota: Quota) -> Answer:
    return Answer(204, b"", quota_headers(quota))


def page_body(
    texts: list[str],
    total: int,
    page: int,
    per_page: int,
    base: str,
    path: str,
    *,
    key: str = "manifests",
    next_token: str | None = None,
    more: bool | None = None,
) -> bytes:
    """The 200 body of a page of `key`; `texts` are the page's items, already encoded.

    `more` says whether a next page exists when the page number cannot (token paging).
    """
    last = max(1, -(-total // per_page))  # ceil: exact multiples of per_page add no empty page

    def url(number: int, token: str | None = None) -> str:
        cursor = f"&page_token={token}" if token else ""
        return f"{base}{path}?page={number}{cursor}&per_page={per_page}"

    pages: dict[str, str] = {}
    if page > 1:
        pages["first"] = url(1)
        pages["prev"] = url(page - 1)
    if (page < last) if more is None else more:
        pages["next"] = url(page + 1, next_token)
        pages["last"] = url(max(last, page + 1))
    links = json.dumps({"pages": pages}, separators=(",", ":"))
    return f'{{"{key}":[{",".join(texts)}],"links":{links},"meta":{{"total":{total}}}}}'.encode()


def page_token(after: str) -> str:
    """An opaque cursor: the rest of the listing comes after `after`."""
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def read_page_token(token: str) -> str | None:
    """The name a `page_token` continues after, or None when it is not one of the fake's tokens."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        return None
    after = decoded.get("after") if isinstance(decoded, dict) else None
    return after if isinstance(after, str) else None
