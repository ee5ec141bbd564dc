"""Asking before a destructive step: ``[y/N]`` on a terminal, ``--yes`` for scripts.

Usage, in a command that deletes::

    require_confirmation_source(args.yes, sys.stdin)   # first thing: no terminal, no --yes -> exit 2
    ...show what goes...
    if not args.yes and not confirm("Delete example/my/repo:v1?", sys.stdin, sys.stderr):
        raise CommandError("nothing deleted")

Standard library only.
"""

from __future__ import annotations

from typing import TextIO

from docr.cli._errors import UsageError
from docr.cli._output import isatty
from docr.cli._sanitize import LINE_LIMIT, one_line

__all__ = ["YES", "confirm", "require_confirmation_source"]

YES = frozenset({"y", "yes"})


def require_confirmation_source(yes: bool, stdin: TextIO) -> None:
    """Refuse (a usage error) when nobody can be asked: no ``--yes`` and stdin is not a terminal."""
    if not yes and not isatty(stdin):
        raise UsageError("refusing to delete without confirmation: stdin is not a terminal; pass --yes to delete")


def confirm(question: str, stdin: TextIO, stderr: TextIO) -> bool:
    """Ask ``question [y/N]`` on ``stderr`` and read the answer from ``stdin``: only y or yes
    (any case) is a yes; an empty answer or end of input is a no."""
    stderr.write(f"{one_line(question, LINE_LIMIT)} [y/N] ")
    stderr.flush()
    answer = stdin.readline()
    if not answer.endswith("\n"):
        stderr.write("\n")  # end of input (Ctrl-D): end the prompt's line
    return answer.strip().lower() in YES
