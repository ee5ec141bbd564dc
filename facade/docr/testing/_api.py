"""The list-manifests API as openapi/docr.openapi.yaml describes it: routes, auth, paging, bodies.

Pure functions (no state, no I/O), so the rules read in one place:

- errors: `{"id", "message", "request_id"}` with the rate-limit headers, as every answer has;

- routes: `/v2/registry/{registry_name}/repositories/{repository_name}/digests` and its twin
  `/v2/registries/...`, matched on the raw, still-encoded path. The repository segment is
  percent-decoded (`my%2Frepo` is `my/repo`); an unencoded `my/repo` makes extra path segments
  and matches nothing (404, as upstream);
- auth: `Authorization: Bearer <token>`, anything else is 401 `unauthorized`;
- paging: `page` (default 1, >= 1) and `per_page` (default 20, 1-200), decimal integers only.
  The spec declares these bounds, so a value outside them, or not an integer, is refused with
  400 `bad_request` in the spec's error model (its `default` response) rather than clamped;
  `page` must also fit in an int64, as in DigitalOcean's Go API;
- `links.pages`: absolute URLs back to the host the client called, with its raw path and
  `?page=K&per_page=P`: `first` and `prev` after page 1, `next` and `last` before the last page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

from docr.testing._ratelimit import Quota
from docr.testing._server import Answer

__all__ = [
    "ERROR_IDS",
    "JSON",
    "Route",
    "base_url",
    "bearer_token",
    "error_answer",
    "error_body",
    "page_body",
    "page_number",
    "paging",
    "quota_headers",
    "route",
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
    405: ("method_not_allowed", "Method not allowed: this endpoint answers GET only."),
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


@dataclass(frozen=True)
class Route:
    """A request target that names a repository's digests."""

    path: str  # the raw path, still encoded: links repeat it
    registry: str
    repository: str


def route(raw_path: str) -> Route | None:
    path = raw_path.partition("?")[0]
    parts = path.split("/")
    # ["", "v2", "registry" | "registries", name, "repositories", name, "digests"]
    if len(parts) != 7 or parts[0] or parts[1] != "v2" or parts[4] != "repositories" or parts[6] != "digests":
        return None
    if parts[2] not in ("registry", "registries"):
        return None
    registry, repository = unquote(parts[3]), unquote(parts[5])
    if not registry or not repository:
        return None
    return Route(path=path, registry=registry, repository=repository)


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


def error_answer(
    status: int, request_id: str, quota: Quota, message: str | None = None, retry_after: int | None = None
) -> Answer:
    """An error answer: the spec's JSON error model, except the proxy imitations 502 and 520."""
    headers = quota_headers(quota)
    if retry_after is not None:
        headers.append(("retry-after", str(retry_after)))
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


def page_body(texts: list[str], total: int, page: int, per_page: int, base: str, path: str) -> bytes:
    """The 200 body; `texts` are the page's manifests, already encoded."""
    last = max(1, -(-total // per_page))  # ceil: exact multiples of per_page add no empty page

    def url(number: int) -> str:
        return f"{base}{path}?page={number}&per_page={per_page}"

    pages: dict[str, str] = {}
    if page > 1:
        pages["first"] = url(1)
        pages["prev"] = url(page - 1)
    if page < last:
        pages["next"] = url(page + 1)
        pages["last"] = url(last)
    links = json.dumps({"pages": pages}, separators=(",", ":"))
    return f'{{"manifests":[{",".join(texts)}],"links":{links},"meta":{{"total":{total}}}}}'.encode()
