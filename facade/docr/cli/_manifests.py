"""``docr manifests REF``: list a repository's manifests, filter, sort and print them.

The steps, in order: parse REF (usage error before anything else), find a token (or start the
embedded fake for ``--demo``), build the client (``make_client``, which tests replace), walk
the listing with a progress bar on a terminal, select, print.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from docr.cli._args import RepositoryRef, parse_ref
from docr.cli._errors import EXIT_OK, UsageError, explain
from docr.cli._filters import Selection
from docr.cli._output import Summary, make_writer, streams
from docr.cli._progress import PageProgress
from docr.cli._token import ENV_VARS, Token, TokenError, find_token

if TYPE_CHECKING:
    import docr

__all__ = ["make_client", "now", "run"]

DEFAULT_API_URL = "https://api.digitalocean.com"
API_URL_VARIABLE = "DIGITALOCEAN_API_URL"  # as doctl reads it


def now() -> dt.datetime:
    """The moment ages are measured from (replaced in golden tests)."""
    return dt.datetime.now(dt.UTC)


def make_client(args: argparse.Namespace, *, token: str, base_url: str | None) -> docr.Client:
    """The client for this run; the one place the CLI builds one (tests replace it)."""
    from docr._client import Client

    if base_url is None:
        return Client(token, registries_endpoint=args.registries_endpoint)
    return Client(token, base_url=base_url, registries_endpoint=args.registries_endpoint)


def run(args: argparse.Namespace) -> int:
    from docr._errors import DocrError

    stdout, stderr = sys.stdout, sys.stderr
    ref = _repository(args)
    output = args.output or ("table" if _isatty(stdout) else "json")
    clock = now()
    selection = Selection(
        now=clock,
        untagged=args.untagged,
        tag_globs=tuple(args.tags),
        older_than=args.older_than,
        newer_than=args.newer_than,
        sort=args.sort,
        limit=args.limit,
    )
    writer = make_writer(
        output, stdout, now=clock, quiet=args.quiet, full_digest=args.full_digest, header=not args.no_header
    )
    # A bar beside lines streaming to the same terminal would garble both.
    streaming_to_tty = streams(output, quiet=args.quiet) and selection.streams and _isatty(stdout)

    with contextlib.ExitStack() as stack:
        token, base_url = _connection(args, ref, clock, stack, stderr)
        progress = stack.enter_context(
            PageProgress(stderr, enabled=not streaming_to_tty, label=str(ref), expected=selection.fetch_limit)
        )
        shown = compressed = 0
        try:
            client = stack.enter_context(make_client(args, token=token.value, base_url=base_url))
            paging = {} if args.per_page is None else {"per_page": args.per_page}
            listing = client.iter_manifests(
                ref.registry, ref.repository, max_items=selection.fetch_limit, on_page=progress.on_page, **paging
            )
            with _closing(listing):
                for manifest in selection.apply(listing):
                    writer.add(manifest)
                    shown += 1
                    compressed += manifest.compressed_size_bytes or 0
        except DocrError as error:
            api_url = base_url or DEFAULT_API_URL
            raise explain(error, target=str(ref), token_source=token.source, api_url=api_url) from error
        progress.close()
        writer.finish(Summary(shown=shown, compressed_bytes=compressed, total=progress.total))
    return EXIT_OK


def _repository(args: argparse.Namespace) -> RepositoryRef:
    """REF, checked before anything else: a bad name is more useful to hear than a missing token."""
    from docr import _names
    from docr._errors import DocrError

    try:
        ref = parse_ref(args.ref)
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        _names.registry_name(ref.registry)
        _names.repository_name(ref.repository)
    except DocrError as error:
        raise explain(error, target=str(ref)) from None
    if args.demo and (args.api_url or args.context):
        raise UsageError("--demo lists an embedded fake registry; drop --api-url and --context, or --demo")
    return ref


def _connection(
    args: argparse.Namespace, ref: RepositoryRef, clock: dt.datetime, stack: contextlib.ExitStack, stderr: TextIO
) -> tuple[Token, str | None]:
    """The token and base URL: the embedded fake's for ``--demo``, else the user's."""
    if args.demo:
        from docr.cli._demo import demo_registry

        demo = stack.enter_context(demo_registry(ref, now=clock))
        print(f"docr: {demo.notice}", file=stderr)
        return Token(demo.token, "--demo"), demo.url
    token = _token(args.context)
    base_url = args.api_url or os.environ.get(API_URL_VARIABLE) or None
    if base_url is not None and _plain_http_off_this_machine(base_url):
        print(f"docr: warning: {base_url} is plain http: the token travels unencrypted", file=stderr)
    return token, base_url


def _token(context: str | None) -> Token:
    try:
        token = find_token(context)
    except TokenError as error:
        raise UsageError(str(error)) from None
    if token is None:
        raise UsageError(
            f"no API token: set {ENV_VARS[0]} (or {ENV_VARS[1]}, or run `doctl auth init`),"
            " or try --demo to list sample data without an account"
        )
    return token


def _plain_http_off_this_machine(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1")


@contextlib.contextmanager
def _closing(listing: Iterator[object]) -> Iterator[None]:
    # Stopping early (--limit) must stop the walk's page fetches too, not leave them running.
    try:
        yield
    finally:
        close = getattr(listing, "close", None)
        if close is not None:
            close()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
