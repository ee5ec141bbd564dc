"""The ``docr`` command line: ``docr manifests REF`` and ``docr fake-server``.

Usage::

    docr manifests registry.digitalocean.com/example/my/repo          # a table on a terminal
    docr manifests example/my/repo --untagged --older-than 30d -q     # digests to clean up
    docr manifests example/my/repo --demo                             # no account needed
    docr fake-server --port 8080                                      # a local fake API

This module only builds the parser and runs a command; everything heavier (httpx, rich, yaml,
the client) is imported by the command that needs it, so ``docr --help`` starts fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from docr._version import __version__
from docr.cli._args import DOCR_HOST, duration, per_page, positive_int
from docr.cli._errors import EXIT_API, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CommandError
from docr.cli._filters import SORT_KEYS
from docr.cli._output import FORMATS

__all__ = ["build_parser", "main"]

FAKE_SERVER = "fake-server"
VERBOSE_HELP = "log each request to stderr (never the token); tracebacks on errors"
INTERRUPT_GRACE = 1.0  # seconds Ctrl-C waits for the listing to unwind before exiting anyway

_MANIFESTS_EPILOG = f"""\
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


def build_parser(*, fake_server_options: bool = False) -> argparse.ArgumentParser:
    """The parser; ``fake_server_options`` adds ``fake-server``'s own flags (imports the fake)."""
    parser = argparse.ArgumentParser(
        prog="docr",
        description="List the manifests of a DigitalOcean Container Registry repository.",
    )
    parser.add_argument("--version", action="version", version=f"docr {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_manifests(commands)
    fake = commands.add_parser(
        FAKE_SERVER,
        help="serve a local fake of the DigitalOcean registry API (for tests and demos)",
        description="Serve a local fake of the DigitalOcean registry API until Ctrl-C.",
    )
    if fake_server_options:
        from docr.testing._serve import add_arguments

        add_arguments(fake)
    return parser


def _add_manifests(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = commands.add_parser(
        "manifests",
        help="list the manifests of a repository",
        description="List the manifests of a repository, every page of them.",
        epilog=_MANIFESTS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("ref", metavar="REF", help=f"[{DOCR_HOST}/]REGISTRY/REPOSITORY, e.g. example/my/repo")

    out = cmd.add_argument_group("output")
    out.add_argument(
        "-o",
        "--output",
        choices=FORMATS,
        help="table (default on a terminal), json (default otherwise: an array of the API's objects),"
        " jsonl (one object per line, as pages arrive) or csv",
    )
    out.add_argument("-q", "--quiet", action="store_true", help="print only full digests, one per line")
    out.add_argument("--no-header", action="store_true", help="table and csv: no header (and no summary line)")
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

    api = cmd.add_argument_group("API")
    api.add_argument("--per-page", metavar="N", type=per_page, help="manifests per request, 1-200 (default 200)")
    api.add_argument(
        "--registries-endpoint",
        action="store_true",
        help="use the current /v2/registries/... path instead of the deprecated /v2/registry/...",
    )
    api.add_argument(
        "--api-url",
        metavar="URL",
        help="API base URL (default $DIGITALOCEAN_API_URL, else https://api.digitalocean.com)",
    )
    api.add_argument("--context", metavar="NAME", help="use the token of this doctl auth context")
    api.add_argument(
        "--demo", action="store_true", help="list sample data from an embedded fake registry (no token needed)"
    )
    # Also accepted after the command; SUPPRESS keeps a `docr -v manifests` from being reset.
    cmd.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``docr`` with ``argv`` and return the exit code.

    Without ``argv`` (the console script) it reads ``sys.argv[1:]`` and, on Ctrl-C, ends the
    process with 130 within a second rather than wait for requests still in flight.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    verbose = False
    try:
        parser = build_parser(fake_server_options=_wants_fake_server(args_list))
        try:
            args = parser.parse_args(args_list)
        except SystemExit as exit_:
            return _exit_code(exit_.code)
        verbose = bool(getattr(args, "verbose", False))
        with _verbose_logging(verbose):
            return _run(args, console=argv is None)
    except KeyboardInterrupt:
        if argv is None:  # the console script: do not wait for worker threads at exit either
            _exit_now(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except CommandError as error:
        _report(error.message, verbose)
        return error.exit_code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except Exception as error:  # a bug: say so in one line, traceback with -v
        _report(f"unexpected error: {type(error).__name__}: {error}", verbose, hint=True)
        return EXIT_API


def _run(args: argparse.Namespace, *, console: bool) -> int:
    if args.command == FAKE_SERVER:
        from docr.testing._serve import run

        return run(args)
    if console:
        _exit_soon_after_ctrl_c()
    from docr.cli import _manifests

    return _manifests.run(args)


def _wants_fake_server(argv: Sequence[str]) -> bool:
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    return command == FAKE_SERVER


def _exit_code(code: object) -> int:
    if code is None:
        return EXIT_OK
    return code if isinstance(code, int) else EXIT_USAGE


def _report(message: str, verbose: bool, *, hint: bool = False) -> None:
    if verbose:
        traceback.print_exc(file=sys.stderr)
    elif hint:
        message += " (run with -v for the traceback)"
    print(f"docr: {message}", file=sys.stderr)


class _verbose_logging:
    """With ``-v``: the ``docr`` logger at DEBUG on stderr (request metadata, never the token)."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._handler: logging.Handler | None = None
        self._level = logging.NOTSET

    def __enter__(self) -> None:
        if not self._enabled:
            return
        logger = logging.getLogger("docr")
        self._handler = logging.StreamHandler(sys.stderr)
        self._handler.setFormatter(logging.Formatter("docr: debug: %(message)s"))
        self._level = logger.level
        logger.addHandler(self._handler)
        logger.setLevel(logging.DEBUG)

    def __exit__(self, *exc_info: object) -> None:
        if self._handler is not None:
            logger = logging.getLogger("docr")
            logger.removeHandler(self._handler)
            logger.setLevel(self._level)


def _exit_soon_after_ctrl_c() -> None:
    """Make Ctrl-C end the command within ``INTERRUPT_GRACE`` seconds, whatever is in flight.

    Ctrl-C raises KeyboardInterrupt as usual, so the listing unwinds and the progress bar is
    removed; but closing a listing waits for the requests already sent, which a slow API can
    keep for the whole 30 s timeout. A timer ends the process if unwinding takes longer.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, frame: object) -> None:
        timer = threading.Timer(INTERRUPT_GRACE, _exit_now, args=(EXIT_INTERRUPTED,))
        timer.daemon = True
        timer.start()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)


def _exit_now(code: int) -> None:
    import contextlib
    import os

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        if sys.stderr.isatty():
            sys.stderr.write("\x1b[?25h")  # a progress bar cut short leaves the cursor hidden
            sys.stderr.flush()
    os._exit(code)


def _silence_stdout() -> None:
    # The reader went away (`docr ... | head`): point stdout at devnull so the interpreter's
    # final flush does not print a second BrokenPipeError.
    import contextlib
    import os

    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
