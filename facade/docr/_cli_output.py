"""How the command line prints manifests: ``table``, ``json``, ``jsonl``, ``csv`` and ``-q``.

Every format is a ``Writer``: ``add()`` for each manifest, then ``finish()`` once the listing is
complete. The line formats (``jsonl``, ``csv``, ``-q``) write each manifest as it arrives, so a
pipe sees results while later pages load; ``json`` and ``table`` write once, at the end.

``rich`` is imported only when a table is printed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from docr._cli_filters import ManifestLike

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["FORMATS", "Summary", "Writer", "human_age", "human_size", "make_writer", "short_digest"]

FORMATS = ("table", "json", "jsonl", "csv")
UNTAGGED = "<none>"
UNKNOWN = "-"
CSV_FIELDS = ("digest", "compressed_size_bytes", "size_bytes", "updated_at", "tags")
# Wide enough that a piped table never wraps, even with full digests and many tags.
PIPE_WIDTH = 1000


class DictManifest(ManifestLike, Protocol):
    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Summary:
    """What the table's last line reports: ``shown`` manifests out of ``total`` in the repository."""

    shown: int
    compressed_bytes: int
    total: int | None = None


class Writer(Protocol):
    def add(self, manifest: DictManifest) -> None: ...
    def finish(self, summary: Summary) -> None: ...


# -- humanising --------------------------------------------------------------------------------


def human_size(size: int | None) -> str:
    """Binary units with two decimals, as doctl prints them: ``512 B``, ``2.69 MiB``."""
    if size is None:
        return UNKNOWN
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024 or unit == "PiB":
            break
    return f"{value:.2f} {unit}"


def human_age(when: dt.datetime | None, now: dt.datetime) -> str:
    """``just now``, ``5 minutes ago``, ``3 days ago``, ``2 months ago``... (``-`` when unknown)."""
    if when is None:
        return UNKNOWN
    seconds = (now - when).total_seconds()
    if seconds < -60:
        return when.astimezone(dt.UTC).strftime("%Y-%m-%d")  # clock skew or a future date
    if seconds < 60:
        return "just now"
    for limit, size, unit in (
        (3600, 60, "minute"),
        (86400, 3600, "hour"),
        (14 * 86400, 86400, "day"),
        (60 * 86400, 7 * 86400, "week"),
        (365 * 86400, 30 * 86400, "month"),
        (float("inf"), 365 * 86400, "year"),
    ):
        if seconds < limit:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    raise AssertionError("unreachable")  # pragma: no cover


def short_digest(digest: str | None, *, full: bool = False) -> str:
    """``sha256:`` and the first 12 hex digits, unless ``full``."""
    if not digest:
        return UNKNOWN
    if full:
        return digest
    algorithm, sep, hexdigits = digest.partition(":")
    return f"{algorithm}:{hexdigits[:12]}" if sep else digest[:12]


def iso_time(when: dt.datetime | None) -> str:
    if when is None:
        return ""
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def summary_line(summary: Summary) -> str:
    noun = "manifest" if summary.shown == 1 else "manifests"
    count = f"{summary.shown} {noun}"
    if summary.total is not None and summary.total != summary.shown:
        count = f"{summary.shown} of {summary.total} {'manifest' if summary.total == 1 else 'manifests'}"
    return f"{count}, {human_size(summary.compressed_bytes)} compressed"


# -- writers -----------------------------------------------------------------------------------


class QuietWriter:
    """``-q``: one full digest per line."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def add(self, manifest: DictManifest) -> None:
        if manifest.digest:
            self._out.write(manifest.digest + "\n")
            self._out.flush()

    def finish(self, summary: Summary) -> None:
        self._out.flush()


class JsonLinesWriter:
    """``jsonl``: the API's object for each manifest, one per line."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def add(self, manifest: DictManifest) -> None:
        self._out.write(json.dumps(manifest.to_dict(), ensure_ascii=False) + "\n")
        self._out.flush()

    def finish(self, summary: Summary) -> None:
        self._out.flush()


class JsonWriter:
    """``json``: one indented JSON array of the API's manifest objects."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._items: list[dict[str, Any]] = []

    def add(self, manifest: DictManifest) -> None:
        self._items.append(manifest.to_dict())

    def finish(self, summary: Summary) -> None:
        self._out.write(json.dumps(self._items, indent=2, ensure_ascii=False) + "\n")
        self._out.flush()


class CsvWriter:
    """``csv``: a header, then one row per manifest; tags joined with ``;``, times in UTC ISO 8601."""

    def __init__(self, out: TextIO, *, header: bool = True) -> None:
        self._out = out
        self._csv = csv.writer(out, lineterminator="\n")
        if header:
            self._csv.writerow(CSV_FIELDS)

    def add(self, manifest: DictManifest) -> None:
        self._csv.writerow(
            (
                manifest.digest or "",
                "" if manifest.compressed_size_bytes is None else manifest.compressed_size_bytes,
                "" if manifest.size_bytes is None else manifest.size_bytes,
                iso_time(manifest.updated_at),
                ";".join(manifest.tags),
            )
        )
        self._out.flush()

    def finish(self, summary: Summary) -> None:
        self._out.flush()


class TableWriter:
    """``table``: doctl's columns with human sizes and ages, then a summary line.

    On a terminal rich sizes the table to the window and may colour it; anywhere else it is
    plain text with no trailing spaces, as wide as its content (``width`` overrides both).
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
                short_digest(manifest.digest, full=self._full_digest),
                human_size(manifest.compressed_size_bytes),
                human_size(manifest.size_bytes),
                human_age(manifest.updated_at, self._now),
                ", ".join(manifest.tags) or UNTAGGED,
            )
        )

    def finish(self, summary: Summary) -> None:
        from rich import box
        from rich.table import Table

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
            table.add_row(*row[:4], row[4], style="dim" if row[4] == UNTAGGED else None)
        tty = _isatty(self._out)
        if tty and self._width is None:
            console = _console(self._out, width=None)
            console.print(table)
            if self._header:
                console.print(summary_line(summary), style="dim")
            return
        buffer = io.StringIO()
        console = _console(buffer, width=self._width or PIPE_WIDTH, plain=True)
        console.print(table)
        if self._header:
            console.print(summary_line(summary))
        self._out.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))
        self._out.flush()


def _console(out: TextIO, *, width: int | None, plain: bool = False) -> Console:
    from rich.console import Console

    if plain:
        return Console(file=out, width=width, no_color=True, color_system=None, highlight=False, emoji=False)
    return Console(file=out, width=width, highlight=False, emoji=False)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def make_writer(
    output: str,
    out: TextIO,
    *,
    now: dt.datetime,
    quiet: bool = False,
    full_digest: bool = False,
    header: bool = True,
    width: int | None = None,
) -> Writer:
    """The writer for ``-o OUTPUT`` (``-q`` wins over any ``-o``)."""
    if quiet:
        return QuietWriter(out)
    if output == "table":
        return TableWriter(out, now=now, full_digest=full_digest, header=header, width=width)
    if output == "json":
        return JsonWriter(out)
    if output == "jsonl":
        return JsonLinesWriter(out)
    if output == "csv":
        return CsvWriter(out, header=header)
    raise ValueError(f"unknown output format {output!r}; expected one of {', '.join(FORMATS)}")


def streams(output: str, *, quiet: bool) -> bool:
    """Whether this format writes each manifest as it arrives."""
    return quiet or output in ("jsonl", "csv")
