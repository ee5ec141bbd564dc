"""``docr tags REF``: list a repository's tags and the manifest each names."""

from __future__ import annotations

import argparse
import contextlib
import sys

from docr.cli import _client, _filters
from docr.cli._args import DOCR_HOST
from docr.cli._errors import EXIT_OK
from docr.cli._humanize import human_size
from docr.cli._options import add_api_options, add_output_options, output_format
from docr.cli._records import make_writer
from docr.cli._refs import repository_arg
from docr.cli._shapes import tag_shape

__all__ = ["DESCRIPTION", "EPILOG", "add_arguments", "run"]

DESCRIPTION = "List the tags of a repository, every page of them, and the manifest each names."
EPILOG = f"""\
REF is [{DOCR_HOST}/]REGISTRY/REPOSITORY, without a tag or digest. Untagged manifests have no
row here: `docr manifests REF --untagged` lists them.

The token comes from DIGITALOCEAN_TOKEN, then DIGITALOCEAN_ACCESS_TOKEN, then doctl's config
file (the current context, or the one --context names). There is no --token flag.

Exit codes: 0 ok, 1 API or network error, 2 usage error or no token, 130 interrupted.

examples:
  docr tags {DOCR_HOST}/example/web/frontend
  docr tags example/web/frontend -q
  docr tags example/web/frontend -o json | jq -r '.[] | select(.tag | startswith("v1.")) | .manifest_digest'
  docr tags example/web/frontend --demo
"""


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("ref", metavar="REF", help=f"[{DOCR_HOST}/]REGISTRY/REPOSITORY, e.g. example/my/repo")
    out = add_output_options(cmd, quiet_help="print only tag names, one per line")
    out.add_argument("--full-digest", action="store_true", help="table: show whole digests, not sha256:+12 hex")
    add_api_options(cmd, items="tags")


def run(args: argparse.Namespace) -> int:
    from docr.cli._demo import demo_registry

    ref = repository_arg(args.ref)
    _client.check_demo(args)
    stdout, stderr = sys.stdout, sys.stderr
    clock = _filters.now()
    shape = tag_shape(clock, full_digest=args.full_digest)
    writer = make_writer(shape, output_format(args, stdout), stdout, quiet=args.quiet, header=not args.no_header)
    with contextlib.ExitStack() as stack:
        connection = _client.connect(args, stack, stderr, demo=lambda: demo_registry(ref, now=clock))
        shown = compressed = 0
        digests: set[str] = set()
        with _client.api_errors(connection, target=str(ref)):
            client = _client.open_client(args, stack, connection)
            paging = {} if args.per_page is None else {"per_page": args.per_page}
            for tag in client.iter_tags(ref.registry, ref.repository, **paging):
                writer.add(tag)
                shown += 1
                if tag.manifest_digest not in digests:  # two tags of one manifest take its space once
                    digests.add(tag.manifest_digest or "")
                    compressed += tag.compressed_size_bytes or 0
        writer.finish(f"{shape.count(shown)} of {len(digests):,} manifests, {human_size(compressed)} compressed")
    return EXIT_OK
