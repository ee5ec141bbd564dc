"""Client settings: the token, the base URL, timeouts and limits, checked once up front."""

from __future__ import annotations

import os
from typing import Final

import httpx

from docr._errors import ConfigurationError, InvalidArgument
from docr._secrets import Secret
from docr._version import __version__

DEFAULT_BASE_URL: Final = "https://api.digitalocean.com"
BASE_URL_VARIABLE: Final = "DIGITALOCEAN_API_URL"  # as doctl reads it
DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_MAX_RESPONSE_BYTES: Final = 32 * 1024 * 1024  # after decompression; a page of 200 is ~200 KB
TOKEN_VARIABLES: Final = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")
MAX_CONCURRENCY: Final = 32
USER_AGENT: Final = f"docr/{__version__} (+httpx)"


class _NotGiven:
    """Tells "not given" from ``None`` for arguments where ``None`` means something."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = _NotGiven()


class Settings:
    """Everything a client needs besides its HTTP connection pool (read-only once built).

    A plain class, not a dataclass: generating a frozen dataclass's methods costs about a
    millisecond of ``import docr`` (the issue's start-up target), and nothing here needs them.
    """

    __slots__ = ("base_url", "concurrency", "legacy_endpoint", "max_response_bytes", "max_retries", "timeout", "token")

    token: Secret
    base_url: str
    timeout: float
    max_retries: int
    concurrency: int
    legacy_endpoint: bool
    max_response_bytes: int

    def __init__(
        self,
        *,
        token: Secret,
        base_url: str,
        timeout: float,
        max_retries: int,
        concurrency: int,
        legacy_endpoint: bool,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        setter = object.__setattr__
        for name, value in (
            ("token", token),
            ("base_url", base_url),
            ("timeout", timeout),
            ("max_retries", max_retries),
            ("concurrency", concurrency),
            ("legacy_endpoint", legacy_endpoint),
            ("max_response_bytes", max_response_bytes),
        ):
            setter(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Settings are read-only; cannot set {name!r}")

    def __repr__(self) -> str:
        return f"Settings(base_url={self.base_url!r}, token=[secure])"


def hide(token: object) -> Secret | None:
    """Wrap a token given as a plain value, first thing, so that no later frame holds it bare."""
    return token if token is None or isinstance(token, Secret) else Secret(token)  # type: ignore[arg-type]


def resolve_token(token: Secret | None) -> Secret:
    """The explicit token, else DIGITALOCEAN_TOKEN, else DIGITALOCEAN_ACCESS_TOKEN, as a ``Secret``.

    The value is only ever handled inside a ``Secret`` and revealed inline (see ``docr._secrets``):
    an exception raised here cannot show it in a traceback's locals.
    """
    if token is None:
        variable = next((name for name in TOKEN_VARIABLES if os.environ.get(name, "").strip()), None)
        if variable is None:
            raise ConfigurationError(
                "no API token: pass docr.Client(token=...) or set DIGITALOCEAN_TOKEN"
                " (or DIGITALOCEAN_ACCESS_TOKEN) in the environment"
            )
        token = Secret(os.environ[variable])
    if not isinstance(token.reveal(), str):
        raise ConfigurationError(f"token must be a str, not {type(token.reveal()).__name__}")
    if not token.reveal().strip() or any(c.isspace() or not c.isprintable() for c in token.reveal().strip()):
        # The value itself is never echoed: it is a secret even when malformed.
        raise ConfigurationError("the API token is empty or contains whitespace or control characters")
    return Secret(token.reveal().strip())


def resolve_base_url(base_url: object, argument: str = "base_url") -> str:
    if not isinstance(base_url, str):
        raise InvalidArgument(argument, f"must be a str, not {type(base_url).__name__}")
    shown = _without_userinfo(base_url)
    try:
        url: httpx.URL | None = httpx.URL(base_url)
    except (TypeError, httpx.InvalidURL):
        url = None  # raised below, outside this block: httpx's message may quote the password
    if url is None:
        raise InvalidArgument(argument, f"{shown!r} is not a URL")
    if url.userinfo:
        # Credentials in a URL end up in logs, reprs and proxies' access logs; and docr sends its
        # own Authorization header. The URL is shown without them.
        raise ConfigurationError(f"{argument} must not carry credentials (user:password@): {shown!r}")
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidArgument(argument, f"{shown!r} must be an http(s) URL with a host")
    if url.query or url.fragment:
        raise InvalidArgument(argument, f"{shown!r} must not have a query or fragment")
    return str(url).rstrip("/")


def _without_userinfo(text: str) -> str:
    # Whatever precedes the last "@" may be credentials, however the URL is malformed
    # ("user:pw@host", "//user:pw@host", "http://user:p/w@host"): none of it is shown.
    if "@" not in text:
        return text[:200]
    scheme, sep, _ = text.partition("://")
    prefix = f"{scheme}://" if sep and "@" not in scheme else ""
    return f"{prefix}[credentials]@{text.rpartition('@')[2]}"[:200]


def resolve_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < float("inf"):
        raise InvalidArgument(
            "timeout", f"must be a positive, finite number of seconds for the whole request, not {timeout!r}"
        )
    return float(timeout)


def resolve_max_response_bytes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1024:
        raise InvalidArgument("max_response_bytes", f"must be an int of at least 1024, not {value!r}")
    return value


def settings(
    *,
    token: Secret | None,
    base_url: object,
    timeout: object,
    max_retries: object,
    concurrency: object,
    legacy_endpoint: object,
    max_response_bytes: object = DEFAULT_MAX_RESPONSE_BYTES,
) -> Settings:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidArgument("max_retries", f"must be an int of 0 or more, not {max_retries!r}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidArgument("concurrency", f"must be an int from 1 to {MAX_CONCURRENCY}, not {concurrency!r}")
    if not isinstance(legacy_endpoint, bool):
        raise InvalidArgument("legacy_endpoint", f"must be True or False, not {legacy_endpoint!r}")
    return Settings(
        token=resolve_token(token),
        base_url=resolve_base_url(base_url),
        timeout=resolve_timeout(timeout),
        max_retries=max_retries,
        concurrency=concurrency,
        legacy_endpoint=legacy_endpoint,
        max_response_bytes=resolve_max_response_bytes(max_response_bytes),
    )
