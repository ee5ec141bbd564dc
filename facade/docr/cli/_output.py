"""How the command line prints manifests: ``table``, ``json``, ``jsonl``, ``csv`` and ``-q``.

Every format is a ``Writer``: ``add()`` for each manifest, then ``finish()`` once the listing is
complete. The line formats (``jsonl``, ``csv``, ``-q``) write each manifest as it arrives, so a
pipe sees results while later pages load; ``json`` and ``table`` write once, at the end.

The table lives in ``_table`` (with ``rich``), imported only when a table is asked for.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from docr.cli._filters import ManifestLike
from docr.cli._humanize import iso_time

__all__ = ["FORMATS", "DictManifest", "Summary", "Writer", "make_writer", "streams"]

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
