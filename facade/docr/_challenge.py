"""The registry's token challenge: what a 401's ``WWW-Authenticate`` header asks for. Pure.

Usage::

    challenge = parse_challenge(response.headers["www-authenticate"])
    if challenge is not None:  # GET challenge.realm?service=...&scope=... for a token
        token_response = http.get(challenge.realm, params=challenge.query, auth=...)

The header follows RFC 9110 section 11 (a scheme, then comma-separated ``name=value``
parameters whose quoted values may hold commas and escaped quotes; several challenges may share
one header) and the distribution token spec (``realm``, ``service``, ``scope``, ``error``).
Re-exported by ``docr._oci``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["BearerChallenge", "InvalidChallenge", "parse_challenge"]


class InvalidChallenge(ValueError):
    """A ``WWW-Authenticate`` header that cannot be parsed, or a Bearer challenge that cannot be used."""


@dataclass(frozen=True, slots=True)
class BearerChallenge:
    """What a registry's 401 asks for: get a token from ``realm`` for ``service`` and ``scope``.

    ``error`` is the reason a token was refused (``invalid_token``, ``insufficient_scope``), if given.
    The caller must still check that ``realm``'s host is one it trusts before sending credentials.
    """

    realm: str
    service: str | None = None
    scope: str | None = None
    error: str | None = None

    @property
    def query(self) -> dict[str, str]:
        """The query parameters of the token request."""
        return {key: value for key, value in (("service", self.service), ("scope", self.scope)) if value is not None}


# RFC 9110 section 11: challenge = scheme [ 1*SP ( token68 / #auth-param ) ], comma separated.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SCHEME = re.compile(rf"({_TOKEN})(?=[ \t,]|$)")
_PARAM = re.compile(rf"({_TOKEN})[ \t]*=[ \t]*(\"(?:[^\"\\]|\\.)*\"|{_TOKEN})")
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*(?=[ \t]*(?:,|$))")
_SEPARATORS = " \t,"


def parse_challenge(www_authenticate: str) -> BearerChallenge | None:
    """The Bearer challenge in a ``WWW-Authenticate`` header, or ``None`` if it offers only other schemes.

    >>> parse_challenge('Bearer realm="https://auth.example/token",service="registry.example"')
    BearerChallenge(realm='https://auth.example/token', service='registry.example', scope=None, error=None)

    Raises ``InvalidChallenge`` for a header that cannot be parsed, or a Bearer challenge without
    a usable realm (an absolute http or https URL).
    """
    for scheme, params in _challenges(www_authenticate):
        if scheme.lower() != "bearer":
            continue
        realm = params.get("realm")
        if not realm:
            raise InvalidChallenge("the Bearer challenge has no realm (the token server's URL)")
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidChallenge(f"the Bearer realm {realm[:100]!r} is not an http or https URL")
        return BearerChallenge(realm, params.get("service"), params.get("scope"), params.get("error"))
    return None


def _challenges(header: str) -> list[tuple[str, dict[str, str]]]:
    if not isinstance(header, str):
        raise TypeError(f"the header must be a str, not {type(header).__name__}")
    found: list[tuple[str, dict[str, str]]] = []
    pos, end = 0, len(header)
    while True:
        while pos < end and header[pos] in _SEPARATORS:
            pos += 1
        if pos >= end:
            return found
        scheme = _SCHEME.match(header, pos)
        if scheme is None:
            excerpt = header[pos : pos + 40]
            raise InvalidChallenge(f"cannot parse the WWW-Authenticate header at character {pos}: {excerpt!r}")
        params: dict[str, str] = {}
        found.append((scheme.group(1), params))
        pos = scheme.end()
        while pos < end and header[pos] in " \t":
            pos += 1
        token68 = _TOKEN68.match(header, pos)
        if token68 is not None and not _PARAM.match(header, pos):
            pos = token68.end()
            continue
        while (param := _PARAM.match(header, pos)) is not None:
            name, value = param.group(1).lower(), param.group(2)
            if name in params:
                raise InvalidChallenge(f"the parameter {name!r} appears twice in the {scheme.group(1)} challenge")
            params[name] = re.sub(r"\\(.)", r"\1", value[1:-1]) if value.startswith('"') else value
            pos = param.end()
            while pos < end and header[pos] in " \t":
                pos += 1
            if pos < end and header[pos] != ",":
                raise InvalidChallenge(f"cannot parse the WWW-Authenticate header at character {pos}: expected ','")
            pos += 1
            while pos < end and header[pos] in " \t,":
                pos += 1
