"""The ``docr`` command line: parse, run one command, report its failure as one line on stderr.

Usage::

    docr manifests registry.digitalocean.com/example/my/repo          # a table on a terminal
    docr manifests example/my/repo --untagged --older-than 30d -q     # digests to clean up
    docr manifests example/my/repo --demo                             # no account needed
    docr delete example/my/repo:old-tag                                # shows what goes, asks first
    docr gc start example --wait                                       # frees the storage of deletes
    docr fake-server --port 8080                                      # a local fake API

This module only builds the parser and runs a command. The commands are listed in
``_commands``, each in its own module, imported only when it runs (or its ``--help`` is shown);
everything heavier (httpx, rich, yaml, the client) is imported by the command that needs it, so
``docr --help`` starts fast and works without the 'cli' extra.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from docr._version import __version__
from docr.cli._commands import COMMANDS, EXTRA_MESSAGE, EXTRA_MODULES, extra_installed
from docr.cli._errors import EXIT_API, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CommandError, say
from docr.cli._options import VERBOSE_HELP, add_verbose
from docr.cli._sanitize import LINE_LIMIT, one_line, visible

TYPE_CHECKING = False  # not typing's: `docr --help` does not import typing (~5 ms)
if TYPE_CHECKING:
    import logging
    from typing import NoReturn

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse quotes what was typed; a pasted escape sequence is shown, not run.
        super().error(one_line(message, LINE_LIMIT))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command name, with the options of ``command`` (imports its module)."""
    parser = _Parser(
        prog="docr",
        description="Work with a DigitalOcean Container Registry: list repositories, tags and manifests,"
        " delete, collect garbage, show storage; serve a local fake API.",
    )
    parser.add_argument("--version", action="version", version=f"docr {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, spec in COMMANDS.items():
        if name != command:
            commands.add_parser(name, help=spec.help)  # its options are never parsed in this run
            continue
        module = spec.load()
        sub = commands.add_parser(
            name,
            help=spec.help,
            description=module.DESCRIPTION,
            epilog=module.EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        add_verbose(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``docr`` with ``argv`` and return the exit code.

    Without ``argv`` (the console script) it reads ``sys.argv[1:]``. Ctrl-C returns 130: the
    listing stops at once (requests in flight are abandoned on daemon threads, not waited
    for), the progress bar is removed and the cursor shown again, and nothing is printed.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    verbose = False
    try:
        name = _command_name(args_list)
        parser = build_parser(name)
        try:
            args = parser.parse_args(args_list)
        except SystemExit as exit_:
            return _exit_code(exit_.code)
        verbose = bool(getattr(args, "verbose", False))
        command = COMMANDS[args.command]
        if command.needs_extra and not extra_installed():
            say(EXTRA_MESSAGE, sys.stderr)
            return EXIT_USAGE
        with _verbose_logging(verbose):
            return command.load().run(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CommandError as error:
        _report(error.message, verbose)
        return error.exit_code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except Exception as error:  # a bug: say so in one line, traceback with -v
        if isinstance(error, ModuleNotFoundError) and (error.name or "").partition(".")[0] in EXTRA_MODULES:
            _report(EXTRA_MESSAGE, verbose)  # the extra was found, but part of it cannot be imported
            return EXIT_USAGE
        _report(f"unexpected error: {type(error).__name__}: {one_line(str(error))}", verbose, hint=True)
        return EXIT_API


def _command_name(argv: Sequence[str]) -> str | None:
    """The command asked for: the first word not an option (docr's own options take no value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def _exit_code(code: object) -> int:
    if code is None:
        return EXIT_OK
    return code if isinstance(code, int) else EXIT_USAGE


def _report(message: str, verbose: bool, *, hint: bool = False) -> None:
    if verbose:
        import traceback

        for line in traceback.format_exc().splitlines():  # may quote the server, so: bounded, visible
            print(visible(line[:LINE_LIMIT]), file=sys.stderr)
    elif hint:
        message = f"{one_line(message, LINE_LIMIT - 40)} (run with -v for the traceback)"
    say(message, sys.stderr)


class _verbose_logging:
    """With ``-v``: the ``docr`` logger at DEBUG on stderr (request metadata, never the token).

    ``logging`` is imported only then: ``docr --help`` stays near bare python's start-up.
    """

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._handler: logging.Handler | None = None
        self._level = 0  # logging.NOTSET

    def __enter__(self) -> None:
        if not self._enabled:
            return
        import logging

        class _OneLineFormatter(logging.Formatter):
            """``docr: debug: MESSAGE``, one safe line (a log record may quote the server)."""

            def format(self, record: logging.LogRecord) -> str:
                return f"docr: debug: {one_line(record.getMessage(), LINE_LIMIT)}"

        logger = logging.getLogger("docr")
        self._handler = logging.StreamHandler(sys.stderr)
        self._handler.setFormatter(_OneLineFormatter())
        self._level = logger.level
        logger.addHandler(self._handler)
        logger.setLevel(logging.DEBUG)

    def __exit__(self, *exc_info: object) -> None:
        if self._handler is not None:
            import logging

            logger = logging.getLogger("docr")
            logger.removeHandler(self._handler)
            logger.setLevel(self._level)


def _silence_stdout() -> None:
    # The reader went away (`docr ... | head`): point stdout at devnull so the interpreter's
    # final flush does not print a second BrokenPipeError.
    import contextlib
    import os

    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
