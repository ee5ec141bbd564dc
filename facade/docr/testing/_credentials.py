"""Docker credentials (from the DO API) and the bearer tokens the OCI API's token endpoint trades them for.

DOCR's flow, which the fake follows: `GET /v2/registries/{r}/docker-credentials` mints a
username and password (the same value, as upstream's example shows), read-only unless
`read_write=true`, expiring after `expiry_seconds` (never when 0). A registry client sends them
with Basic auth to the token endpoint named in the OCI API's `WWW-Authenticate` challenge and
gets a short-lived bearer token for the scopes it asked for, limited to what the credentials
allow: pull on the credentials' registry, and push only for read-write credentials while no
garbage collection is active (a collection stops the issuing of write tokens).

Secrets stay out of reprs: a `DockerCredential` shows its user only as a prefix.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
from dataclasses import dataclass, field

from docr.testing._clock import Clock

__all__ = ["TOKEN_SECONDS", "Credentials", "DockerCredential", "Scope", "parse_scope"]

TOKEN_SECONDS = 300


@dataclass(frozen=True)
class DockerCredential:
    registry: str
    user: str = field(repr=False)
    password: str = field(repr=False)
    read_write: bool = False
    expires_at: float | None = None

    def __repr__(self) -> str:
        return f"DockerCredential(registry={self.registry!r}, user={self.user[:4]}..., read_write={self.read_write})"

    @property
    def auth(self) -> str:
        """The `auth` value of a docker config.json: base64 of `user:password`."""
        return base64.b64encode(f"{self.user}:{self.password}".encode()).decode()


@dataclass(frozen=True)
class Scope:
    """`repository:<name>:<actions>`, as the token endpoint's `scope` parameter carries it."""

    name: str
    actions: frozenset[str]

    def __str__(self) -> str:
        return f"repository:{self.name}:{','.join(sorted(self.actions))}"


def parse_scope(text: str) -> Scope | None:
    kind, _, rest = text.partition(":")
    name, _, actions = rest.rpartition(":")
    if kind != "repository" or not name or not actions:
        return None
    return Scope(name, frozenset(action for action in actions.split(",") if action))


@dataclass(frozen=True)
class _Grant:
    scopes: tuple[Scope, ...]
    expires_at: float


class Credentials:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._issued: dict[str, DockerCredential] = {}  # by password
        self._tokens: dict[str, _Grant] = {}

    def issue(self, registry: str, *, read_write: bool = False, expiry_seconds: int = 0) -> DockerCredential:
        secret = secrets.token_hex(16)
        expires_at = self._clock() + expiry_seconds if expiry_seconds else None
        credential = DockerCredential(registry, secret, secret, read_write, expires_at)
        with self._lock:
            self._issued[secret] = credential
        return credential

    def current(self, registry: str, *, read_write: bool = False) -> DockerCredential:
        """The newest valid credentials for `registry` (with write access if asked), minted if there are none."""
        now = self._clock()
        with self._lock:
            for credential in reversed(self._issued.values()):
                if credential.registry == registry and _valid(credential, now) and credential.read_write >= read_write:
                    return credential
        return self.issue(registry, read_write=read_write)

    def from_basic(self, authorization: str | None) -> DockerCredential | None:
        """The valid credentials a `Basic` header carries, else None."""
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        with self._lock:
            credential = self._issued.get(password)
        if credential is None or not hmac.compare_digest(user.encode(), credential.user.encode()):
            return None
        return credential if _valid(credential, self._clock()) else None

    def grant(
        self, credential: DockerCredential, asked: list[Scope], *, writable: bool
    ) -> tuple[str, tuple[Scope, ...]]:
        """A new bearer token for what of `asked` the credentials allow, and those scopes."""
        granted: list[Scope] = []
        for scope in asked:
            if scope.name.partition("/")[0] != credential.registry:
                continue
            allowed = {"pull"} | ({"push"} if credential.read_write and writable else set())
            actions = scope.actions & allowed
            if actions:
                granted.append(Scope(scope.name, frozenset(actions)))
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = _Grant(tuple(granted), self._clock() + TOKEN_SECONDS)
        return token, tuple(granted)

    def allows(self, token: str | None, name: str, action: str) -> bool:
        """Whether a bearer token is valid now and grants `action` on repository `name`."""
        if token is None:
            return False
        with self._lock:
            grant = self._tokens.get(token)
        if grant is None or grant.expires_at <= self._clock():
            return False
        return any(scope.name == name and action in scope.actions for scope in grant.scopes)

    def valid_token(self, token: str | None) -> bool:
        with self._lock:
            grant = self._tokens.get(token) if token is not None else None
        return grant is not None and grant.expires_at > self._clock()


def _valid(credential: DockerCredential, now: float) -> bool:
    return credential.expires_at is None or credential.expires_at > now
