"""``docr gc wait`` (and ``docr gc start --wait``): poll a garbage collection until it ends,
showing each status, then print what it freed.

Exit 0 when it succeeded or was cancelled, 1 when it failed or ``--timeout`` passed first (the
collection goes on: waiting again picks it up).
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, TextIO

from docr.cli import _client
from docr.cli._errors import EXIT_OK, CommandError
from docr.cli._gc_progress import StatusProgress
from docr.cli._output import isatty
from docr.cli._sanitize import one_line

if TYPE_CHECKING:
    import docr

__all__ = ["DEFAULT_POLL", "wait"]

DEFAULT_POLL = 10.0  # seconds, as the library's default: a collection takes minutes


def wait(
    client: docr.Client,
    connection: _client.Connection,
    args: argparse.Namespace,
    registry: str,
    uuid: str,
    now: dt.datetime,
    output: str,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    from docr._steps import UnknownGarbageCollection, WaitTimedOut
    from docr.cli._demo import DEMO_POLL
    from docr.cli._gc import print_collection

    poll = args.poll or (DEMO_POLL if args.demo else DEFAULT_POLL)
    with StatusProgress(stderr, uuid=uuid, spinner=isatty(stderr)) as progress:
        try:
            with _client.api_errors(connection, target=f"{uuid} of {registry}", what="garbage collection"):
                try:
                    done = client.wait_garbage_collection(
                        registry, uuid, poll_interval=poll, timeout=args.timeout, on_status=progress.on_status
                    )
                except WaitTimedOut as error:  # the wait's --timeout, not a request's
                    raise _WaitTimedOut(str(error)) from None
                except UnknownGarbageCollection as error:
                    raise CommandError(one_line(error.message)) from error
        except _WaitTimedOut as timed_out:
            raise CommandError(
                f"{one_line(str(timed_out))}; it goes on: `docr gc wait {registry} --uuid {uuid}` waits again"
            ) from None
    print_collection(done, output, _later(now), stdout)
    if done.status == "failed":
        raise CommandError(f"garbage collection {uuid} of {registry} failed")
    return EXIT_OK


class _WaitTimedOut(Exception):
    """The wait's own --timeout (the library says so with an ``APITimeoutError``, as for a request)."""


def _later(now: dt.datetime) -> dt.datetime:
    # Ages in the result are measured from when it ended, not from when the command started.
    from docr.cli import _filters

    return max(now, _filters.now())
