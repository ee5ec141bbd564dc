"""Reading manifests from the registry itself (the OCI distribution API), as steps. No I/O.

DigitalOcean's registry (``registry.digitalocean.com``) is a separate service from the API. A
manifest GET there is answered 401 with a ``WWW-Authenticate: Bearer realm=...,scope=...``
challenge; the client then asks the realm for a token with basic auth (short-lived, read-only
docker credentials from the API), and repeats the GET with that token. ``OCISession`` caches the
credentials per registry and tokens per scope, and refuses a realm on a host it does not trust
(a hostile registry answer must not collect our credentials).

Usage (by the drivers)::

    steps = session.manifest(registry, repository, digest)   # a generator of Calls
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from docr._challenge import InvalidChallenge, parse_challenge
from docr._errors import AuthenticationError, ConfigurationError
from docr._exchange import Call, Reply
from docr._oci import MANIFEST_ACCEPT, OCIManifest, manifest_path, parse_manifest
from docr._operations import docker_credentials
from docr._parse import FieldError
from docr._resources import DockerCredentials
from docr._secrets import Secret
from docr._steps import Steps

__all__ = ["DEFAULT_OCI_BASE_URL", "OCISession"]

DEFAULT_OCI_BASE_URL = "https://registry.digitalocean.com"
CREDENTIALS_SECONDS = 3600  # how long the read-only credentials docr asks for are valid
_MARGIN = 30.0  # renew a token or credentials this long before they expire


class OCISession:
    """Credentials and tokens for one client's reads from the registry; thread-safe."""

    def __init__(self, base_url: str, api_url: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.base_url = base_url
        self._trusted = {urlsplit(base_url).hostname, urlsplit(api_url).hostname}
        self._clock = clock
        self._lock = threading.Lock()
        self._credentials: dict[str, tuple[DockerCredentials, float]] = {}
        self._tokens: dict[str, tuple[Secret, float]] = {}

    def secrets(self) -> list[Secret]:
        """Every credential and token held now (to scrub from messages)."""
        with self._lock:
            held = [secret for credentials, _ in self._credentials.values() for secret in (credentials.password,)]
            return held + [token for token, _ in self._tokens.values()]

    def manifest(self, registry: str, repository: str, digest: str) -> Steps[OCIManifest]:
        """Read and verify manifest ``digest`` of ``registry/repository``."""
        path = manifest_path(registry, repository, digest)
        scope = f"repository:{registry}/{repository}:pull"
        what = f"manifest {registry}/{repository}@{digest}"

        def call(token: Secret | None) -> Call[OCIManifest]:
            return Call(
                method="GET",
                path=path,
                parse=lambda data, reply: parse_manifest(
                    reply.body, content_type=reply.headers.get("content-type"), digest=digest
                ),
                what=what,
                base_url=self.base_url,
                authorization=None if token is None else Secret("Bearer " + token.reveal()),
                budgeted=False,
                decode_json=False,
                accept=MANIFEST_ACCEPT,
            )

        try:
            found: OCIManifest = yield call(self._token(scope))
            return found
        except AuthenticationError as error:
            challenge = self._challenge(error)
            if challenge is None:
                raise
        credentials = self._cached_credentials(registry)
        if credentials is None:
            credentials = yield docker_credentials(registry, read_write=False, expiry_seconds=CREDENTIALS_SECONDS)
            with self._lock:
                self._credentials[registry] = (credentials, self._clock() + CREDENTIALS_SECONDS - _MARGIN)
        token, lifetime = yield _token_call(challenge, scope, credentials)
        with self._lock:
            self._tokens[scope] = (token, self._clock() + max(0.0, lifetime - _MARGIN))
        found = yield call(token)
        return found

    def _challenge(self, error: AuthenticationError) -> Any:
        header = error.headers.get("www-authenticate")
        if not header:
            return None
        try:
            challenge = parse_challenge(header)
        except InvalidChallenge:
            return None
        if challenge is not None and urlsplit(challenge.realm).hostname not in self._trusted:
            raise ConfigurationError(
                f"the registry asked for credentials at {urlsplit(challenge.realm).hostname!r}, which is not"
                f" {' or '.join(sorted(host for host in self._trusted if host))}; refusing to send them there"
            )
        return challenge

    def _token(self, scope: str) -> Secret | None:
        with self._lock:
            held = self._tokens.get(scope)
            return held[0] if held is not None and held[1] > self._clock() else None

    def _cached_credentials(self, registry: str) -> DockerCredentials | None:
        with self._lock:
            held = self._credentials.get(registry)
            return held[0] if held is not None and held[1] > self._clock() else None


def _token_call(challenge: Any, scope: str, credentials: DockerCredentials) -> Call[tuple[Secret, float]]:
    parts = urlsplit(challenge.realm)
    base = f"{parts.scheme}://{parts.netloc}"
    params = dict(challenge.query)
    params["scope"] = challenge.scope or scope
    return Call(
        method="GET",
        path=parts.path or "/",
        params=params,
        parse=parse_token,
        what=f"registry token for {scope}",
        base_url=base,
        authorization=credentials.basic(),
        budgeted=False,
        secret_answer=True,
    )


def parse_token(data: Any, reply: Reply) -> tuple[Secret, float]:
    """The token and its lifetime (seconds) from the realm's answer; the token leaves ``data`` at once."""
    if type(data) is not dict:
        raise FieldError("(body)", "an object", None)
    token = data.pop("token", None) or data.pop("access_token", None)
    data.pop("access_token", None)
    if type(token) is not str or not token:
        raise FieldError("token", "a string", None)
    secret = Secret(token)
    del token
    lifetime = data.get("expires_in", 60)
    if type(lifetime) is not int or lifetime <= 0:
        lifetime = 60  # the distribution spec's default
    return secret, float(lifetime)
