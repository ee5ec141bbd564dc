"""The ``table`` format: doctl's columns, rendered by ``rich`` (imported with this module, which
``make_writer`` imports only when a table is asked for)."""

from __future__ import annotations

import datetime as dt
import io
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from docr.cli._humanize import human_age, human_size, short_digest
from docr.cli._output import DictManifest, Summary, isatty
from docr.cli._sanitize import visible

__all__ = ["PIPE_WIDTH", "TableWriter", "render", "summary_line"]

UNTAGGED = "<none>"
# Wide enough that a piped table never wraps, even with full digests and many tags.
PIPE_WIDTH = 1000


class TableWriter:
    """``table``: doctl's columns with human sizes and ages, then a summary line.

    On a terminal rich sizes the table to the window and may colour it; anywhere else it is
    plain text with no trailing spaces, as wide as its content (``width`` overrides both).
    Every cell is a ``Text`` of ``visible`` characters: never markup, never a control.
    """

    def __init__(
        self,
        out: TextIO,
        *,
        now: dt.datetime,
        full_digest: bool = False,
        header: bool = True,
        width: int | None = None,
    ) -> None:
        self._out = out
        self._now = now
        self._full_digest = full_digest
        self._header = header
        self._width = width
        self._rows: list[tuple[str, str, str, str, str]] = []

    def add(self, manifest: DictManifest) -> None:
        self._rows.append(
            (
                visible(short_digest(manifest.digest, full=self._full_digest)),
                human_size(manifest.compressed_size_bytes),
                human_size(manifest.size_bytes),
                human_age(manifest.updated_at, self._now),
                ", ".join(visible(tag) for tag in manifest.tags) or UNTAGGED,
            )
        )

    def finish(self, summary: Summary) -> None:
        table = Table(
            box=box.SIMPLE_HEAD if self._header else None,
            show_header=self._header,
            show_edge=False,
            pad_edge=False,
            header_style="bold",
        )
        # On a narrow terminal the size headers wrap ("Compressed / Size") and tags fold at
        # commas, before any value is cut; a full digest folds rather than push the rest out.
        table.add_column("Digest", no_wrap=not self._full_digest, overflow="fold", style="cyan")
        table.add_column("Compressed Size", justify="right", min_width=10)
        table.add_column("Uncompressed Size", justify="right", min_width=10)
        table.add_column("Updated At", no_wrap=True)
        table.add_column("Tags", overflow="fold", min_width=7)
        for row in self._rows:
            table.add_row(*map(Text, row), style="dim" if row[4] == UNTAGGED else None)
        render(self._out, table, summary_line(summary) if self._header else None, width=self._width)


def render(out: TextIO, table: Table, footer: str | None, *, width: int | None = None) -> None:
    """Print ``table`` and its ``footer`` line: sized to the window on a terminal (the footer
    dim), else plain text as wide as its content (``width`` overrides both), no trailing spaces."""
    if isatty(out) and width is None:
        console = _console(out, width=None)
        console.print(table)
        if footer is not None:
            console.print(Text(footer), style="dim")
        return
    buffer = io.StringIO()
    console = _console(buffer, width=width or PIPE_WIDTH, plain=True)
    console.print(table)
    if footer is not None:
        console.print(Text(footer))
    out.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))
    out.flush()


def _console(out: TextIO, *, width: int | None, plain: bool = False) -> Console:
    if plain:
        return Console(file=out, width=width, no_color=True, color_system=None, highlight=False, emoji=False)
    return Console(file=out, width=width, highlight=False, emoji=False)


def summary_line(summary: Summary) -> str:
    """``15 of 60 manifests, 560.70 MiB compressed`` (the size of those shown)."""
    noun = "manifest" if summary.shown == 1 else "manifests"
    count = f"{summary.shown} {noun}"
    if summary.total is not None and summary.total != summary.shown:
        count = f"{summary.shown} of {summary.total} {'manifest' if summary.total == 1 else 'manifests'}"
    return f"{count}, {human_size(summary.compressed_bytes)} compressed"
