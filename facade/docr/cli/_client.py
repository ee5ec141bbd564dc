"""How a command reaches the API: the token and base URL (or the embedded fake of ``--demo``),
and the client built from them.

``make_client`` is the one place the command line builds a client; tests replace it
(``monkeypatch.setattr(docr.cli._client, "make_client", ...)``), so commands call it through
this module, never import the name.

Usage, in a command's ``run``::

    with contextlib.ExitStack() as stack:
        connection = connect(args, stack, stderr, demo=lambda: demo_registry(ref, now=clock))
        client = stack.enter_context(_client.make_client(args, token=connection.token.value,
                                                         base_url=connection.base_url))
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from docr.cli._errors import UsageError, say, warn
from docr.cli._options import token as find_token
from docr.cli._token import Token

if TYPE_CHECKING:
    import docr
    from docr.cli._demo import Demo

__all__ = ["API_URL_VARIABLE", "DEFAULT_API_URL", "Connection", "check_demo", "connect", "make_client"]

DEFAULT_API_URL = "https://api.digitalocean.com"
API_URL_VARIABLE = "DIGITALOCEAN_API_URL"  # as doctl reads it


@dataclass(frozen=True)
class Connection:
    """The token (``source`` is safe to print) and base URL (``None``: the client's default)."""

    token: Token
    base_url: str | None

    @property
    def api_url(self) -> str:
        return self.base_url or DEFAULT_API_URL


def make_client(
    args: argparse.Namespace, *, token: str, base_url: str | None, oci_base_url: str | None = None
) -> docr.Client:
    """The client for this run; the one place the command line builds one (tests replace it).
    ``oci_base_url``: where manifest bodies are read (``--demo``'s fake; default DOCR's registry)."""
    from docr._client import Client

    if base_url is None:
        return Client(token, legacy_endpoint=args.legacy_endpoint, oci_base_url=oci_base_url)
    return Client(token, base_url=base_url, legacy_endpoint=args.legacy_endpoint, oci_base_url=oci_base_url)


def check_demo(args: argparse.Namespace) -> None:
    """``--demo`` cannot be mixed with a real API: a usage error before anything else."""
    if args.demo and (args.api_url or args.context):
        raise UsageError("--demo lists an embedded fake registry; drop --api-url and --context, or --demo")


def connect(
    args: argparse.Namespace,
    stack: contextlib.ExitStack,
    stderr: TextIO,
    *,
    demo: Callable[[], contextlib.AbstractContextManager[Demo]],
) -> Connection:
    """The token and base URL: with ``--demo`` the fake that ``demo()`` starts (and ``stack``
    stops), else the user's token and ``--api-url`` (or ``$DIGITALOCEAN_API_URL``)."""
    if args.demo:
        fake = stack.enter_context(demo())
        say(fake.notice, stderr)
        return Connection(Token(fake.token, "--demo"), fake.url)
    found = find_token(args.context)
    base_url = args.api_url or os.environ.get(API_URL_VARIABLE) or None
    if base_url is not None and _plain_http_off_this_machine(base_url):
        warn(f"{base_url} is plain http: the token travels unencrypted", stderr)
    return Connection(found, base_url)


def _plain_http_off_this_machine(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return False  # not a URL at all: the client refuses it with a usage error
    return parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1")
