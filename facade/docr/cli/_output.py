"""How the command line prints manifests: ``table``, ``json``, ``jsonl``, ``csv`` and ``-q``.

Every format is a ``Writer``: ``add()`` for each manifest, then ``finish()`` once the listing is
complete. The line formats (``jsonl``, ``csv``, ``-q``) write each manifest as it arrives, so a
pipe sees results while later pages load; ``json`` and ``table`` write once, at the end.

The table lives in ``_table`` (with ``rich``), imported only when a table is asked for.

No raw control character from the server reaches the terminal, in any format. The characters
(``_sanitize.UNSAFE``: C0 and C1 controls, DEL, bidi overrides and marks, line separators,
lone surrogates) are handled per format:

- ``table`` and ``csv``: written as their escapes, ``\x1b``, ``\x9b``, ``\u202e`` (the four or
  six characters), so they are seen and do nothing. This is for reading, not a faithful copy:
  a value that held the text ``\x1b`` reads the same. Table cells are never read as rich markup.
- ``json`` and ``jsonl``: faithful. ``json.dumps`` escapes C0 itself; DEL, C1, bidi, separators
  and lone surrogates, which it writes raw, become ``\\uXXXX`` escapes too: the same JSON value.
- ``-q``: a digest holding one of them is refused, not escaped: every line a script reads is a
  digest exactly as the API sent it (a CR or LF could otherwise smuggle in another digest).
  The others print; then the command fails (exit 1) with one line saying how many it refused.
- Messages on stderr (errors, warnings, progress labels, ``-v`` logs): escaped the same way,
  flattened to one line and bounded (``_errors.say``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from docr.cli._errors import CommandError
from docr.cli._filters import ManifestLike
from docr.cli._humanize import iso_time
from docr.cli._sanitize import is_clean, json_text, visible

__all__ = ["FORMATS", "DictManifest", "Summary", "Writer", "isatty", "make_writer", "streams"]

FORMATS = ("table", "json", "jsonl", "csv")
CSV_FIELDS = ("digest", "compressed_size_bytes", "size_bytes", "updated_at", "tags")


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


class QuietWriter:
    """``-q``: one full digest per line; a digest holding a control character is refused."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.refused = 0

    def add(self, manifest: DictManifest) -> None:
        if not manifest.digest:
            return
        if not is_clean(manifest.digest):
            self.refused += 1
            return
        self._out.write(manifest.digest + "\n")
        self._out.flush()

    def finish(self, summary: Summary) -> None:
        self._out.flush()
        if self.refused:
            noun = "manifest" if self.refused == 1 else "manifests"
            raise CommandError(
                f"refused {self.refused} {noun} whose digest holds control characters"
                " (not printed with -q; -o json shows them escaped)"
            )


class JsonLinesWriter:
    """``jsonl``: the API's object for each manifest, one per line."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def add(self, manifest: DictManifest) -> None:
        self._out.write(json_text(json.dumps(manifest.to_dict(), ensure_ascii=False)) + "\n")
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
        self._out.write(json_text(json.dumps(self._items, indent=2, ensure_ascii=False)) + "\n")
        self._out.flush()


class CsvWriter:
    """``csv``: a header, then one row per manifest; tags joined with ``;``, times in UTC ISO 8601,
    control characters escaped (``visible``)."""

    def __init__(self, out: TextIO, *, header: bool = True) -> None:
        self._out = out
        self._csv = csv.writer(out, lineterminator="\n")
        if header:
            self._csv.writerow(CSV_FIELDS)

    def add(self, manifest: DictManifest) -> None:
        self._csv.writerow(
            (
                visible(manifest.digest or ""),
                "" if manifest.compressed_size_bytes is None else manifest.compressed_size_bytes,
                "" if manifest.size_bytes is None else manifest.size_bytes,
                iso_time(manifest.updated_at),
                ";".join(visible(tag) for tag in manifest.tags),
            )
        )
        self._out.flush()

    def finish(self, summary: Summary) -> None:
        self._out.flush()


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
        from docr.cli._table import TableWriter

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


def isatty(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (``False`` for a closed or unusual stream)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
