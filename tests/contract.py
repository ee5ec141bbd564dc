"""Hold an HTTP exchange to its contract.

- The DigitalOcean API's exchanges: against openapi/docr.openapi.yaml, request and response, with
  openapi-core (``check_exchange``); ``operation_of`` names the fragment's operation a request is.
- The registry's own exchanges (``registry.digitalocean.com``, outside the fragment): against the
  essentials of the OCI distribution spec (/work/shared/reference/oci/distribution-spec/spec.md)
  and its token flow that can be asserted (``check_registry_exchange``): a manifest is a 200 whose
  ``Content-Type`` is a manifest media type (the body's ``mediaType``, if it has one) and whose
  ``Docker-Content-Digest`` is the sha256 of the body (and the digest asked for); a 401 carries a
  Bearer challenge; a 4xx JSON body is ``{"errors": [{"code", ...}]}`` with a code from the spec's table.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.conftest import SPEC

SERVER = "https://api.digitalocean.com"
REGISTRY = "https://registry.digitalocean.com"

# What docr asks the registry for (docr._oci.MANIFEST_ACCEPT): the image spec's and Docker's.
MANIFEST_MEDIA_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }
)
# The distribution spec's error codes (section "Error Codes"), code-1 to code-14.
OCI_ERROR_CODES = frozenset(
    {
        "BLOB_UNKNOWN",
        "BLOB_UPLOAD_INVALID",
        "BLOB_UPLOAD_UNKNOWN",
        "DIGEST_INVALID",
        "MANIFEST_BLOB_UNKNOWN",
        "MANIFEST_INVALID",
        "MANIFEST_UNKNOWN",
        "NAME_INVALID",
        "NAME_UNKNOWN",
        "SIZE_INVALID",
        "UNAUTHORIZED",
        "DENIED",
        "UNSUPPORTED",
        "TOOMANYREQUESTS",
    }
)
_NAME = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*"  # the spec's <name>
_TAG = r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"
_DIGEST = r"sha256:[a-f0-9]{64}"
_MANIFEST_PATH = re.compile(rf"/v2/(?P<name>{_NAME})/manifests/(?P<reference>{_DIGEST}|{_TAG})")


class RegistryContractError(AssertionError):
    """A registry exchange that breaks the distribution spec's essentials."""


@cache
def spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC))


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return loaded


def operations() -> dict[str, dict[str, Any]]:
    """operationId -> its operation object, for every operation of the fragment."""
    return {
        operation["operationId"]: operation
        for item in document()["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def documented_statuses(operation_id: str) -> set[str]:
    """The response keys the fragment lists for an operation: "200", "404", ..., "default"."""
    return {str(status) for status in operations()[operation_id]["responses"]}


def operation_of(method: str, url: str) -> str | None:
    """The fragment's operationId for a request to the DigitalOcean API, else None.

    Paths are matched raw (still percent-encoded, as the server sees them); a literal segment
    wins over a template (``/v2/registries/subscription`` is not a registry named "subscription").
    """
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != SERVER:
        return None
    found = []
    for template, item in document()["paths"].items():
        operation = item.get(method.lower())
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if operation is not None and re.fullmatch(pattern, parts.path):
            found.append((template.count("{"), operation["operationId"]))
    return min(found)[1] if found else None


def is_registry(url: str) -> bool:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" == REGISTRY


def is_transport_garbage(status: int, headers: Mapping[str, str], body: bytes) -> bool:
    """Answers no API server gives, which clients must survive anyway: a 5xx that is not JSON
    comes from a proxy in front of the API (HTML 502, empty 520), and a body that does not
    parse was cut short on the way. Both are outside the API's contract by nature. An empty
    body is not garbage: it is what a 204 is, and anything else must answer for it."""
    content_type = headers.get("content-type", "")
    if status >= 500 and not content_type.startswith("application/json"):
        return True
    if not body:
        return False
    try:
        json.loads(body)
    except ValueError:
        return True
    return False


def check_exchange(
    method: str,
    url: str,
    request_headers: Mapping[str, str],
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    request_body: bytes = b"",
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
        data=request_body or None,
        content_type=request_headers.get("content-type", "application/json").split(";")[0],
    )
    spec().validate_request(request)
    response = MockResponse(
        body,
        status_code=status,
        headers=dict(headers),
        content_type=headers.get("content-type", "application/json").split(";")[0],
    )
    spec().validate_response(request, response)


def check_registry_exchange(
    method: str, url: str, request_headers: Mapping[str, str], status: int, headers: Mapping[str, str], body: bytes
) -> None:
    """Raise ``RegistryContractError`` if a registry exchange breaks the distribution spec's essentials."""
    path = urlsplit(url).path
    if path == "/token":
        _check_token(request_headers, status, headers, body)
        return
    manifest = _MANIFEST_PATH.fullmatch(path)
    _require(manifest is not None and method in ("GET", "HEAD"), f"not a manifest request: {method} {path}")
    assert manifest is not None
    name, reference = unquote(manifest["name"]), manifest["reference"]
    if status == 200:
        _check_manifest(reference, request_headers, headers, body)
    elif status == 401:
        _check_challenge(name, headers)
    else:
        _require(400 <= status < 500, f"a registry status docr does not expect for a manifest: {status}")
    if status >= 400 and headers.get("content-type", "").startswith("application/json"):
        _check_errors(body, status)


def _check_manifest(
    reference: str, request_headers: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> None:
    content_type = headers.get("content-type", "").split(";")[0].strip()
    _require(content_type in MANIFEST_MEDIA_TYPES, f"Content-Type {content_type!r} is not a manifest media type")
    accepted = {item.split(";")[0].strip() for item in request_headers.get("accept", "").split(",")}
    _require(content_type in accepted, f"Content-Type {content_type!r} was not asked for (Accept: {accepted})")
    document_ = json.loads(body)
    _require(isinstance(document_, dict), "a manifest is a JSON object")
    declared = document_.get("mediaType")
    _require(declared in (None, content_type), f"mediaType {declared!r} is not the Content-Type {content_type!r}")
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    _require(headers.get("docker-content-digest") == digest, "Docker-Content-Digest is not the sha256 of the body")
    _require(not reference.startswith("sha256:") or reference == digest, "the body is not the manifest asked for")


def _check_challenge(name: str, headers: Mapping[str, str]) -> None:
    challenge = headers.get("www-authenticate", "")
    _require(challenge.startswith("Bearer "), f"a 401 without a Bearer challenge: {challenge!r}")
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    _require(params.get("realm") == f"{REGISTRY}/token", f"realm {params.get('realm')!r}")
    _require(params.get("service") == "registry.digitalocean.com", f"service {params.get('service')!r}")
    _require(params.get("scope") == f"repository:{name}:pull", f"scope {params.get('scope')!r}")


def _check_errors(body: bytes, status: int) -> None:
    data = json.loads(body)
    errors = data.get("errors") if isinstance(data, dict) else None
    _require(isinstance(errors, list) and bool(errors), f"a {status} JSON body without an errors array")
    assert isinstance(errors, list)
    for error in errors:
        _require(isinstance(error, dict) and error.get("code") in OCI_ERROR_CODES, f"error code of {error!r}")


def _check_token(request_headers: Mapping[str, str], status: int, headers: Mapping[str, str], body: bytes) -> None:
    _require(request_headers.get("authorization", "").startswith("Basic "), "the token is asked for with Basic auth")
    _require(status == 200, f"the token endpoint answered {status}")
    _require(headers.get("content-type", "").startswith("application/json"), "a token answer is JSON")
    data = json.loads(body)
    _require(isinstance(data, dict) and isinstance(data.get("token"), str) and bool(data["token"]), "no token")
    expires_in = data.get("expires_in")
    _require(expires_in is None or (type(expires_in) is int and expires_in > 0), f"expires_in {expires_in!r}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise RegistryContractError(message)
