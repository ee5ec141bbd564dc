"""``docr gc start|status|list|cancel|wait REGISTRY``: a registry's garbage collections.

A garbage collection deletes what nothing needs any more (untagged manifests that no tagged
image index lists, then blobs no manifest names) and frees their storage. The registry is
read-only while one runs: deletes and pushes are refused (``409``), and so is a second start.

``start``, ``status``, ``cancel`` and ``wait`` print one collection (``KEY  value`` lines, or its
JSON object with ``-o json``); ``list`` prints them all in every format ``docr manifests`` has.
``wait`` is in ``_gc_wait``.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from typing import TYPE_CHECKING, TextIO

from docr.cli import _client, _filters
from docr.cli._args import DOCR_HOST, positive_int, seconds
from docr.cli._errors import EXIT_OK, CommandError, UsageError, say
from docr.cli._humanize import UNKNOWN, human_age, human_size, iso_time
from docr.cli._options import add_api_options, add_output_options, add_verbose, output_format
from docr.cli._records import card, json_value, make_writer
from docr.cli._refs import registry_arg
from docr.cli._shapes import gc_dict, gc_shape, gc_type

if TYPE_CHECKING:
    import datetime as dt

    import docr

__all__ = ["DESCRIPTION", "EPILOG", "GC_TYPES", "add_arguments", "gc_card", "print_collection", "run"]

DESCRIPTION = "Start, watch, list or cancel the garbage collections of a registry."
EPILOG = f"""\
REGISTRY is [{DOCR_HOST}/]REGISTRY.
A garbage collection frees the storage of what was deleted: untagged manifests that no tagged
image index lists (--type untagged), blobs that no manifest names any more (--type blobs), or
both (the default). The registry is read-only until it ends.

The token comes from DIGITALOCEAN_TOKEN, then DIGITALOCEAN_ACCESS_TOKEN, then doctl's config
file (the current context, or the one --context names). There is no --token flag.

Exit codes: 0 ok, 1 API or network error (a start while one runs; a collection that failed;
--timeout reached), 2 usage error or no token, 130 interrupted (the collection goes on).

examples:
  docr gc start example --wait
  docr gc status example
  docr gc wait example --timeout 3600
  docr gc list example -o json
  docr gc cancel example
  docr gc status example --demo
"""

# --type -> (untagged_manifests, unreferenced_blobs)
GC_TYPES = {"both": (True, True), "untagged": (True, False), "blobs": (False, True)}
_UUID = re.compile(r"[0-9a-fA-F-]{1,64}")

_ACTIONS = {
    "start": "start a garbage collection (one at a time per registry)",
    "status": "show the garbage collection running now, if any",
    "list": "list the registry's garbage collections, newest first",
    "cancel": "cancel the running garbage collection (or --uuid's)",
    "wait": "wait until the running garbage collection (or --uuid's) ends, showing its progress",
}


def _uuid(text: str) -> str:
    if not _UUID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"not a garbage collection's UUID: {text[:80]!r}")
    return text


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    actions = cmd.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in _ACTIONS.items():
        sub = actions.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        sub.add_argument("registry", metavar="REGISTRY", help=f"[{DOCR_HOST}/]REGISTRY, e.g. example")
        if name == "list":
            add_output_options(sub, quiet_help="print only UUIDs, one per line")
        else:
            add_output_options(sub, quiet_help=None, formats=("table", "json"), header=False)
        if name == "start":
            sub.add_argument(
                "--type",
                choices=GC_TYPES,
                default="both",
                help="untagged: untagged manifests no tagged index lists; blobs: unreferenced blobs; both (default)",
            )
            sub.add_argument("--wait", action="store_true", help="then wait until it ends, as `docr gc wait`")
        if name in ("cancel", "wait"):
            sub.add_argument("--uuid", type=_uuid, help="the collection's UUID (default: the one running now)")
        if name in ("start", "wait"):
            sub.add_argument("--poll", metavar="SECONDS", type=seconds, help="seconds between checks (default 10)")
            sub.add_argument("--timeout", metavar="SECONDS", type=seconds, help="stop waiting after SECONDS (exit 1)")
        add_api_options(
            sub,
            items="garbage collections",
            paged=name == "list",
            legacy=False,
            demo_help="use an embedded fake registry holding sample data (no token needed)",
        )
        if name == "list":
            sub.add_argument("--limit", metavar="N", type=positive_int, help="show at most N (the newest)")
        add_verbose(sub)


def run(args: argparse.Namespace) -> int:
    from docr.cli._demo import demo_fake

    registry = registry_arg(args.registry)
    _client.check_demo(args)
    if args.action == "start" and not args.wait and (args.poll or args.timeout):
        raise UsageError("--poll and --timeout are for waiting: add --wait")
    stdout, stderr = sys.stdout, sys.stderr
    output = output_format(args, stdout)
    now = _filters.now()
    running = args.action != "start"  # the demo has one under way, but for `start` to start

    with contextlib.ExitStack() as stack:
        connection = _client.connect(args, stack, stderr, demo=lambda: demo_fake(registry, now=now, gc_running=running))
        client = _client.open_client(args, stack, connection)
        if args.action == "list":
            return _list(client, connection, args, registry, now, output, stdout)
        if args.action == "status":
            with _client.api_errors(connection, target=registry, what="registry"):
                active = client.get_garbage_collection(registry)
            if active is None:
                print("null" if output == "json" else f"no garbage collection is running on {registry}", file=stdout)
            else:
                print_collection(active, output, now, stdout)
            return EXIT_OK
        if args.action == "start":
            return _start(client, connection, args, registry, now, output, stdout, stderr)
        uuid = args.uuid or _active_uuid(client, connection, registry, args.action)
        if args.action == "cancel":
            with _client.api_errors(connection, target=f"{uuid} of {registry}", what="garbage collection"):
                cancelled = client.cancel_garbage_collection(registry, uuid)
            _demo_note(args, stderr, "cancelled")
            print_collection(cancelled, output, now, stdout)
            return EXIT_OK
        from docr.cli._gc_wait import wait

        return wait(client, connection, args, registry, uuid, now, output, stdout, stderr)


def _start(
    client: docr.Client,
    connection: _client.Connection,
    args: argparse.Namespace,
    registry: str,
    now: dt.datetime,
    output: str,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    from docr._errors import ConflictError

    untagged, blobs = GC_TYPES[args.type]
    try:
        with _client.api_errors(connection, target=registry, what="registry", needs="write access to the registry"):
            started = client.start_garbage_collection(registry, untagged_manifests=untagged, unreferenced_blobs=blobs)
    except CommandError as error:
        if isinstance(error.__cause__, ConflictError):
            raise CommandError(f"cannot start: {error.message}; `docr gc status {registry}` shows it") from error
        raise
    _demo_note(args, stderr, "started")
    if args.wait and started.uuid and not started.finished:
        from docr.cli._gc_wait import wait

        return wait(client, connection, args, registry, started.uuid, now, output, stdout, stderr)
    print_collection(started, output, now, stdout)
    if output == "table" and not started.finished:
        say(f"the registry is read-only until it ends; `docr gc wait {registry}` waits for it", stderr)
    return EXIT_OK


def _list(
    client: docr.Client,
    connection: _client.Connection,
    args: argparse.Namespace,
    registry: str,
    now: dt.datetime,
    output: str,
    stdout: TextIO,
) -> int:
    shape = gc_shape(now)
    writer = make_writer(shape, output, stdout, quiet=args.quiet, header=not args.no_header)
    shown = 0
    with _client.api_errors(connection, target=registry, what="registry"):
        paging = {} if args.per_page is None else {"per_page": args.per_page}
        with client.iter_garbage_collections(registry, **paging) as collections:
            for collection in collections:
                if args.limit is not None and shown >= args.limit:
                    break
                writer.add(collection)
                shown += 1
    writer.finish(shape.count(shown))
    return EXIT_OK


def _active_uuid(client: docr.Client, connection: _client.Connection, registry: str, action: str) -> str:
    with _client.api_errors(connection, target=registry, what="registry"):
        active = client.get_garbage_collection(registry)
    if active is None or not active.uuid:
        what = "nothing to cancel" if action == "cancel" else "nothing to wait for"
        raise CommandError(f"no garbage collection is running on {registry}: {what} (--uuid names an earlier one)")
    return active.uuid


def _demo_note(args: argparse.Namespace, stderr: TextIO, done: str) -> None:
    if args.demo:
        say(f"demo: {done} in the embedded fake registry only, not on DigitalOcean", stderr)


def gc_card(collection: docr.GarbageCollection, now: dt.datetime) -> list[tuple[str, str]]:
    """One collection as ``KEY  value`` lines."""

    def when(moment: dt.datetime | None) -> str:
        return f"{iso_time(moment)} ({human_age(moment, now)})" if moment is not None else UNKNOWN

    deleted = collection.blobs_deleted
    return [
        ("UUID", collection.uuid or UNKNOWN),
        ("Registry", collection.registry_name or UNKNOWN),
        ("Status", collection.status or UNKNOWN),
        ("Type", gc_type(collection) or UNKNOWN),
        ("Started", when(collection.created_at)),
        ("Updated", when(collection.updated_at)),
        ("Blobs deleted", UNKNOWN if deleted is None else f"{deleted:,}"),
        ("Freed", human_size(collection.freed_bytes)),
    ]


def print_collection(collection: docr.GarbageCollection, output: str, now: dt.datetime, stdout: TextIO) -> None:
    if output == "json":
        print(json_value(gc_dict(collection)), file=stdout)
    else:
        card(stdout, gc_card(collection, now))
