"""Hold an HTTP exchange against openapi/docr.openapi.yaml (openapi-core)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from urllib.parse import parse_qsl, urlsplit

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.conftest import SPEC

SERVER = "https://api.digitalocean.com"


@cache
def spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC))


def is_transport_garbage(status: int, headers: Mapping[str, str], body: bytes) -> bool:
    """Answers no API server gives, which clients must survive anyway: a 5xx that is not JSON
    comes from a proxy in front of the API (HTML 502, empty 520), and a body that does not
    parse was cut short on the way. Both are outside the API's contract by nature."""
    content_type = headers.get("content-type", "")
    if status >= 500 and not content_type.startswith("application/json"):
        return True
    try:
        json.loads(body)
    except ValueError:
        return True
    return False


def check_exchange(
    method: str, url: str, request_headers: Mapping[str, str], status: int, headers: Mapping[str, str], body: bytes
) -> None:
    """Raise openapi-core's validation error if the request or the response breaks the spec.

    The path is matched raw, still percent-encoded, as the server sees it; the host is taken
    as the spec's server, since the fake and the cassettes live elsewhere.
    """
    parts = urlsplit(url)
    request = MockRequest(
        SERVER,
        method.lower(),
        parts.path,
        args=dict(parse_qsl(parts.query)),
        headers=dict(request_headers),
    )
    spec().validate_request(request)
    response = MockResponse(
        body,
        status_code=status,
        headers=dict(headers),
        content_type=headers.get("content-type", "application/json").split(";")[0],
    )
    spec().validate_response(request, response)
