"""``docr repos REGISTRY``: list a registry's repositories with their counts and latest push."""

from __future__ import annotations

import argparse
import contextlib
import sys

from docr.cli import _client, _filters
from docr.cli._args import DOCR_HOST
from docr.cli._errors import EXIT_OK
from docr.cli._options import add_api_options, add_output_options, output_format
from docr.cli._records import make_writer
from docr.cli._refs import registry_arg
from docr.cli._shapes import repository_shape

__all__ = ["DESCRIPTION", "EPILOG", "add_arguments", "run"]

DESCRIPTION = "List the repositories of a registry: manifests, tags and the latest push of each."
EPILOG = f"""\
REGISTRY is [{DOCR_HOST}/]REGISTRY. Latest Push and Latest Tags describe the newest manifest
(often an untagged attestation or signature pushed with a release).

The token comes from DIGITALOCEAN_TOKEN, then DIGITALOCEAN_ACCESS_TOKEN, then doctl's config
file (the current context, or the one --context names). There is no --token flag.

Exit codes: 0 ok, 1 API or network error, 2 usage error or no token, 130 interrupted.

examples:
  docr repos example
  docr repos example -q
  docr repos example -o csv > repositories.csv
  docr repos example --demo
"""


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("registry", metavar="REGISTRY", help=f"[{DOCR_HOST}/]REGISTRY, e.g. example")
    add_output_options(cmd, quiet_help="print only repository names, one per line")
    add_api_options(cmd, items="repositories", legacy=False)


def run(args: argparse.Namespace) -> int:
    from docr.cli._demo import demo_fake

    registry = registry_arg(args.registry)
    _client.check_demo(args)
    stdout, stderr = sys.stdout, sys.stderr
    clock = _filters.now()
    shape = repository_shape(clock)
    writer = make_writer(shape, output_format(args, stdout), stdout, quiet=args.quiet, header=not args.no_header)
    with contextlib.ExitStack() as stack:
        connection = _client.connect(args, stack, stderr, demo=lambda: demo_fake(registry, now=clock))
        shown = manifests = 0
        with _client.api_errors(connection, target=registry, what="registry"):
            client = _client.open_client(args, stack, connection)
            paging = {} if args.per_page is None else {"per_page": args.per_page}
            for repository in client.iter_repositories(registry, **paging):
                writer.add(repository)
                shown += 1
                manifests += repository.manifest_count or 0
        writer.finish(f"{shape.count(shown)}, {manifests:,} manifests")
    return EXIT_OK
