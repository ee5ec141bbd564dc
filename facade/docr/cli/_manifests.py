"""``docr manifests REF``: list a repository's manifests, filter, sort and print them.

The steps, in order: parse REF (usage error before anything else), find a token (or start the
embedded fake for ``--demo``), build the client (``_client.make_client``, which tests replace),
walk the listing with a progress bar on a terminal, select, print.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

from docr.cli import _client, _filters
from docr.cli._args import DOCR_HOST, RepositoryRef, duration, parse_ref, positive_int
from docr.cli._errors import EXIT_OK, UsageError, explain
from docr.cli._filters import SORT_KEYS, Selection
from docr.cli._options import add_api_options, add_output_options, output_format
from docr.cli._output import Summary, isatty, make_writer, streams
from docr.cli._progress import PageProgress

__all__ = ["DESCRIPTION", "EPILOG", "add_arguments", "run"]

DESCRIPTION = "List the manifests of a repository, every page of them."
EPILOG = f"""\
REF is [{DOCR_HOST}/]REGISTRY/REPOSITORY, without a tag or digest.

The token comes from DIGITALOCEAN_TOKEN, then DIGITALOCEAN_ACCESS_TOKEN, then doctl's config
file (the current context, or the one --context names). There is no --token flag.

Exit codes: 0 ok, 1 API or network error, 2 usage error or no token, 130 interrupted.

examples:
  docr manifests {DOCR_HOST}/example/my/repo
  docr manifests example/my/repo --sort size --limit 10
  docr manifests example/my/repo --untagged --older-than 30d -q
  docr manifests example/my/repo --tag 'v1.*' -o csv > manifests.csv
  docr manifests example/my/repo --demo
"""


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("ref", metavar="REF", help=f"[{DOCR_HOST}/]REGISTRY/REPOSITORY, e.g. example/my/repo")

    out = add_output_options(cmd, quiet_help="print only full digests, one per line")
    out.add_argument("--full-digest", action="store_true", help="table: show whole digests, not sha256:+12 hex")

    pick = cmd.add_argument_group("filters and order (filters combine with AND)")
    tagged = pick.add_mutually_exclusive_group()
    tagged.add_argument("--untagged", action="store_true", help="only manifests without tags")
    tagged.add_argument(
        "--tag",
        metavar="GLOB",
        action="append",
        dest="tags",
        default=[],
        help="only manifests with a tag matching GLOB (fnmatch, e.g. 'v1.*'); repeat for any of several",
    )
    pick.add_argument(
        "--older-than", metavar="AGE", type=duration, help="only manifests updated more than AGE ago (30d, 12h, 2w)"
    )
    pick.add_argument("--newer-than", metavar="AGE", type=duration, help="only manifests updated less than AGE ago")
    pick.add_argument(
        "--sort", choices=SORT_KEYS, help="updated: newest first; size: largest first; digest (default: API order)"
    )
    pick.add_argument("--limit", metavar="N", type=positive_int, help="show at most N manifests (after filters)")

    add_api_options(cmd, items="manifests")


def run(args: argparse.Namespace) -> int:
    from docr._errors import DocrError
    from docr.cli._demo import demo_registry

    stdout, stderr = sys.stdout, sys.stderr
    ref = _repository(args)
    output = output_format(args, stdout)
    clock = _filters.now()
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
    streaming_to_tty = streams(output, quiet=args.quiet) and selection.streams and isatty(stdout)

    with contextlib.ExitStack() as stack:
        connection = _client.connect(args, stack, stderr, demo=lambda: demo_registry(ref, now=clock))
        progress = stack.enter_context(
            PageProgress(stderr, enabled=not streaming_to_tty, label=str(ref), expected=selection.fetch_limit)
        )
        shown = compressed = 0
        try:
            client = stack.enter_context(
                _client.make_client(args, token=connection.token.value, base_url=connection.base_url)
            )
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
            token_source = connection.token.source
            raise explain(error, target=str(ref), token_source=token_source, api_url=connection.api_url) from error
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
    _client.check_demo(args)
    return ref


@contextlib.contextmanager
def _closing(listing: Iterator[object]) -> Iterator[None]:
    # Stopping early (--limit) must stop the walk's page fetches too, not leave them running.
    try:
        yield
    finally:
        close = getattr(listing, "close", None)
        if close is not None:
            close()
