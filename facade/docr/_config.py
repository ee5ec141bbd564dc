"""Client settings: the token, the base URL, timeouts and limits, checked once up front."""

from __future__ import annotations

import os
from typing import Final

import attrs
import httpx

from docr._errors import ConfigurationError, InvalidArgument
from docr._version import __version__

DEFAULT_BASE_URL: Final = "https://api.digitalocean.com"
BASE_URL_VARIABLE: Final = "DIGITALOCEAN_API_URL"  # as doctl reads it
DEFAULT_TIMEOUT: Final = 30.0
TOKEN_VARIABLES: Final = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")
MAX_CONCURRENCY: Final = 32
USER_AGENT: Final = f"docr/{__version__} (+httpx)"


class _NotGiven:
    """Tells "not given" from ``None`` for arguments where ``None`` means something."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = _NotGiven()


@attrs.frozen(repr=False)
class Settings:
    """Everything a client needs besides its HTTP connection pool."""

    token: str
    base_url: str
    timeout: httpx.Timeout
    max_retries: int
    concurrency: int
    registries_endpoint: bool

    def __repr__(self) -> str:
        return f"Settings(base_url={self.base_url!r}, token=[secure])"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "User-Agent": USER_AGENT}


def resolve_token(token: str | None) -> str:
    """The explicit token, else DIGITALOCEAN_TOKEN, else DIGITALOCEAN_ACCESS_TOKEN."""
    if token is None:
        for variable in TOKEN_VARIABLES:
            token = os.environ.get(variable, "").strip() or None
            if token:
                break
        else:
            raise ConfigurationError(
                "no API token: pass docr.Client(token=...) or set DIGITALOCEAN_TOKEN"
                " (or DIGITALOCEAN_ACCESS_TOKEN) in the environment"
            )
    if not isinstance(token, str):
        raise ConfigurationError(f"token must be a str, not {type(token).__name__}")
    token = token.strip()
    if not token or any(c.isspace() or not c.isprintable() for c in token):
        # The value itself is never echoed: it is a secret even when malformed.
        raise ConfigurationError("the API token is empty or contains whitespace or control characters")
    return token


def resolve_base_url(base_url: str) -> str:
    try:
        url = httpx.URL(base_url)
    except (TypeError, httpx.InvalidURL) as exc:
        raise InvalidArgument("base_url", f"{base_url!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidArgument("base_url", f"{base_url!r} must be an http(s) URL with a host")
    if url.query or url.fragment:
        raise InvalidArgument("base_url", f"{base_url!r} must not have a query or fragment")
    return str(url).rstrip("/")


def resolve_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        if None in (timeout.connect, timeout.read, timeout.write, timeout.pool):
            raise InvalidArgument("timeout", "every part of an httpx.Timeout must be set; docr never waits forever")
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidArgument("timeout", f"must be a positive number of seconds, not {timeout!r}")
    return httpx.Timeout(float(timeout))


def settings(
    *,
    token: str | None,
    base_url: str,
    timeout: float | httpx.Timeout | None,
    max_retries: int,
    concurrency: int,
    registries_endpoint: bool,
) -> Settings:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidArgument("max_retries", f"must be an int of 0 or more, not {max_retries!r}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidArgument("concurrency", f"must be an int from 1 to {MAX_CONCURRENCY}, not {concurrency!r}")
    return Settings(
        token=resolve_token(token),
        base_url=resolve_base_url(base_url),
        timeout=resolve_timeout(timeout),
        max_retries=max_retries,
        concurrency=concurrency,
        registries_endpoint=bool(registries_endpoint),
    )
