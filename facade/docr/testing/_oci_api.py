"""The registry side of the fake (`fake.oci_url`, like registry.digitalocean.com): token auth and manifests.

Serves what a cleanup needs to inspect images, per the OCI distribution spec and its token
authentication, as DOCR does:

    GET       /v2/                                  200 `{}` with a valid bearer token, else 401
    GET       /token?service=...&scope=...          a bearer token for Basic docker credentials
    GET|HEAD  /v2/<registry>/<repository>/manifests/<digest-or-tag>

A request without a token that grants what it needs is a 401 with
`WWW-Authenticate: Bearer realm="<oci_url>/token",service="registry.digitalocean.com"` and, for
a manifest, `scope="repository:<registry>/<repository>:pull"`. A manifest answer is the exact
bytes pushed, with `Content-Type` its media type and `Docker-Content-Digest` their sha256
(`Accept` is not negotiated: what was pushed is served). Errors have the spec's body,
`{"errors": [{"code", "message", "detail"}]}`: 404 `NAME_UNKNOWN` for an unknown repository,
404 `MANIFEST_UNKNOWN` for an unknown digest or tag, and for a manifest added as a listing only
(`add_manifests`, `generate`), which has no bytes to serve. Other methods are 405 and other
paths 404, both `UNSUPPORTED`. There is no rate limit here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from docr.testing import _api
from docr.testing._clock import iso
from docr.testing._credentials import TOKEN_SECONDS, Credentials, parse_scope
from docr.testing._ratelimit import Quota
from docr.testing._registries import Registries
from docr.testing._server import Answer

__all__ = ["OciApi", "OciRoute"]

SERVICE: Final = "registry.digitalocean.com"
_VERSION_HEADER: Final = ("docker-distribution-api-version", "registry/2.0")
_CODES: Final = {400: "UNSUPPORTED", 401: "UNAUTHORIZED", 403: "DENIED", 404: "NAME_UNKNOWN", 429: "TOOMANYREQUESTS"}


@dataclass(frozen=True)
class OciRoute:
    operation: str | None  # None: a manifest path asked with another method
    name: str = ""  # <registry>/<repository>
    reference: str = ""


def route(method: str, raw_path: str) -> OciRoute | None:
    path = raw_path.partition("?")[0]
    if path == "/v2/":
        return OciRoute("oci_base" if method in ("GET", "HEAD") else None)
    if path == "/token":
        return OciRoute("oci_token" if method == "GET" else None)
    if not path.startswith("/v2/"):
        return None
    name, marker, reference = path[4:].rpartition("/manifests/")
    name, reference = unquote(name), unquote(reference)
    if not marker or "/" not in name or not reference or "/" in reference or "" in name.split("/"):
        return None
    return OciRoute("oci_manifest" if method in ("GET", "HEAD") else None, name, reference)


class OciApi:
    def __init__(self, registries: Registries, credentials: Credentials) -> None:
        self.registries = registries
        self.credentials = credentials

    def answer(self, raw_path: str, oci_route: OciRoute | None, headers: Mapping[str, str], base: str) -> Answer:
        if oci_route is None:
            return error(404, "UNSUPPORTED", "the fake serves /v2/, /token and manifests only")
        if oci_route.operation is None:
            return error(405, "UNSUPPORTED", "the operation is unsupported")
        token = _api.bearer_token(headers.get("authorization"))
        if oci_route.operation == "oci_token":
            return self._token(raw_path, headers)
        if oci_route.operation == "oci_base":
            if self.credentials.valid_token(token):
                return Answer(200, b"{}", [("content-type", "application/json"), _VERSION_HEADER])
            return self._challenge(base, None)
        if not self.credentials.allows(token, oci_route.name, "pull"):
            return self._challenge(base, oci_route.name)
        return self._manifest(oci_route)

    def _token(self, raw_path: str, headers: Mapping[str, str]) -> Answer:
        credential = self.credentials.from_basic(headers.get("authorization"))
        if credential is None:
            return error(401, "UNAUTHORIZED", "valid docker credentials are required (Basic auth)")
        query = parse_qsl(raw_path.partition("?")[2], keep_blank_values=True)
        asked = [scope for name, value in query if name == "scope" for scope in [parse_scope(value)] if scope]
        with self.registries.lock:
            found = self.registries.get(credential.registry)
            writable = found is not None and found.active_collection(self.registries.clock()) is None
            token, granted = self.credentials.grant(credential, asked, writable=writable)
        body = {
            "token": token,
            "access_token": token,
            "expires_in": TOKEN_SECONDS,
            "issued_at": iso(self.registries.clock()),
            "scope": " ".join(str(scope) for scope in granted),
        }
        return _json(200, body)

    def _manifest(self, oci_route: OciRoute) -> Answer:
        registry, _, repository = oci_route.name.partition("/")
        detail = {"Name": oci_route.name, "Reference": oci_route.reference}
        with self.registries.lock:
            repo = self.registries.repository(registry, repository)
            if repo is None:
                return error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": oci_route.name})
            reference = oci_route.reference
            digest = reference if reference.startswith("sha256:") else repo.tag_map().get(reference)
            content = repo.contents.get(digest) if digest is not None else None
            listed = digest is not None and digest in repo.by_digest
        if content is None or digest is None:
            message = "manifest unknown"
            if listed:
                message = "manifest unknown: it was added as a listing only (add_manifests, generate), with no content"
            return error(404, "MANIFEST_UNKNOWN", message, detail)
        headers = [("content-type", content.media_type), ("docker-content-digest", digest), _VERSION_HEADER]
        return Answer(200, content.data, headers)

    def _challenge(self, base: str, name: str | None) -> Answer:
        challenge = f'Bearer realm="{base}/token",service="{SERVICE}"'
        detail: Any = None
        if name is not None:
            challenge += f',scope="repository:{name}:pull"'
            detail = [{"Type": "repository", "Name": name, "Action": "pull"}]
        answer = error(401, "UNAUTHORIZED", "authentication required", detail)
        answer.headers.append(("www-authenticate", challenge))
        return answer


def error(status: int, code: str, message: str, detail: Any = None) -> Answer:
    """An answer with the distribution spec's error body."""
    item: dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        item["detail"] = detail
    return _json(status, {"errors": [item]})


def fault_answer(status: int, retry_after: int | None) -> Answer:
    """An injected fault on the registry side: the spec's error body, or a proxy's (502 HTML, 520 empty)."""
    if status in (502, 520):
        answer = _api.error_answer(status, "", _NO_QUOTA)
        answer.headers = [header for header in answer.headers if not header[0].startswith("ratelimit-")]
    else:
        answer = error(status, _CODES.get(status, "UNKNOWN" if status >= 500 else "UNSUPPORTED"), f"injected {status}")
    if retry_after is not None:
        answer.headers.append(("retry-after", str(retry_after)))
    return answer


def _json(status: int, body: Any) -> Answer:
    return Answer(
        status,
        json.dumps(body, separators=(",", ":")).encode(),
        [("content-type", "application/json"), _VERSION_HEADER],
    )


_NO_QUOTA: Final = Quota(0, 0, 0)
