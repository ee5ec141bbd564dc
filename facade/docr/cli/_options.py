"""Options every command shares, so that each reads the same: output (``-o``, ``-q``,
``--no-header``), API (``--api-url``, ``--context``, ``--demo``, ``--per-page``,
``--legacy-endpoint``) and ``-v``; and the token lookup behind ``--context``.

Usage, in a command's ``add_arguments``::

    out = add_output_options(parser, quiet_help="print only full digests, one per line")
    out.add_argument("--full-digest", ...)        # a command's own output flag, in the same group
    add_api_options(parser, items="manifests")

Standard library only (the token lookup imports PyYAML when it reads doctl's config).
"""

from __future__ import annotations

import argparse

from docr.cli._errors import UsageError

TYPE_CHECKING = False  # not typing's: `docr --help` does not import typing (~5 ms)
if TYPE_CHECKING:
    from typing import TextIO

    from docr.cli._token import Token

# _args, _output and _token are imported by the functions that use them: `docr --help` needs
# only add_verbose from here, and stays near bare python's start-up.

__all__ = [
    "VERBOSE_HELP",
    "add_api_options",
    "add_output_options",
    "add_verbose",
    "output_format",
    "token",
]

VERBOSE_HELP = "log each request to stderr (never the token); tracebacks on errors"


def add_verbose(parser: argparse.ArgumentParser) -> None:
    """``-v`` after the command too; SUPPRESS keeps ``docr -v COMMAND`` from being reset."""
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)


def add_output_options(
    parser: argparse.ArgumentParser,
    *,
    quiet_help: str | None,
    formats: tuple[str, ...] | None = None,
    header: bool = True,
) -> argparse._ArgumentGroup:
    """``-o/--output`` (of ``formats``, default every format), ``-q/--quiet`` (unless ``quiet_help``
    is None) and ``--no-header`` (unless ``header`` is False), in an "output" group (returned)."""
    if formats is None:
        from docr.cli._output import FORMATS

        formats = FORMATS

    out = parser.add_argument_group("output")
    listed = {
        "table": "table (default on a terminal)",
        "json": "json (default otherwise: "
        + ("an array of the API's objects)" if "jsonl" in formats else "an object)"),
        "jsonl": "jsonl (one object per line, as pages arrive)",
        "csv": "csv",
    }
    names = [listed[name] for name in formats]
    out.add_argument(
        "-o",
        "--output",
        choices=formats,
        help=", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0],
    )
    if quiet_help is not None:
        out.add_argument("-q", "--quiet", action="store_true", help=quiet_help)
    if header:
        out.add_argument("--no-header", action="store_true", help="table and csv: no header (and no summary line)")
    return out


def add_api_options(
    parser: argparse.ArgumentParser,
    *,
    items: str,
    paged: bool = True,
    legacy: bool = True,
    demo_help: str | None = None,
) -> argparse._ArgumentGroup:
    """``--per-page`` (of ``items``, when ``paged``), ``--legacy-endpoint`` (when ``legacy``: the
    operation has a deprecated twin), ``--api-url``, ``--context``, ``--demo`` (``demo_help``)."""
    from docr.cli._args import per_page

    api = parser.add_argument_group("API")
    if paged:
        api.add_argument("--per-page", metavar="N", type=per_page, help=f"{items} per request, 1-200 (default 200)")
    else:
        parser.set_defaults(per_page=None)
    if legacy:
        api.add_argument(
            "--legacy-endpoint",
            action="store_true",
            help="use the deprecated /v2/registry/... path instead of the current /v2/registries/...",
        )
    else:
        parser.set_defaults(legacy_endpoint=False)
    api.add_argument(
        "--api-url",
        metavar="URL",
        help="API base URL (default $DIGITALOCEAN_API_URL, else https://api.digitalocean.com)",
    )
    api.add_argument("--context", metavar="NAME", help="use the token of this doctl auth context")
    api.add_argument(
        "--demo",
        action="store_true",
        help=demo_help or f"list sample {items} from an embedded fake registry (no token needed)",
    )
    return api


def output_format(args: argparse.Namespace, stdout: TextIO) -> str:
    """``-o``, else ``table`` on a terminal and ``json`` anywhere else."""
    from docr.cli._output import isatty

    chosen: str | None = args.output
    return chosen or ("table" if isatty(stdout) else "json")


def token(context: str | None) -> Token:
    """The API token (``--context``, the environment, doctl's config), or a usage error."""
    from docr.cli._token import ENV_VARS, TokenError, find_token

    try:
        found = find_token(context)
    except TokenError as error:
        raise UsageError(str(error)) from None
    if found is None:
        raise UsageError(
            f"no API token: set {ENV_VARS[0]} (or {ENV_VARS[1]}, or run `doctl auth init`),"
            " or try --demo to list sample data without an account"
        )
    return found
