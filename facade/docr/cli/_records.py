"""Lists of records other than manifests (repositories, tags, garbage collections) in every
output format, and single records (a registry, one collection) as ``KEY  value`` lines.

A command describes its records once, as a ``Shape``: the table's columns, the JSON object, the
csv row and what ``-q`` prints. ``make_writer`` then gives the ``RecordWriter`` for ``-o``/``-q``,
with the policy of ``_output`` for what the server sent: escaped (``visible``) in the table, csv
and card, faithful in ``json``/``jsonl`` (``json_text``), refused by ``-q`` when it holds a
control character. Every cell goes through here, so no command can forget it.

Usage::

    writer = make_writer(REPOSITORIES, "table", sys.stdout, quiet=False, header=True)
    for repository in client.iter_repositories("example"):
        writer.add(repository)
    writer.finish(footer="5 repositories")

The table itself is drawn by ``_table.render`` (``rich``, imported only for a table).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TextIO, TypeVar

from docr.cli._errors import CommandError
from docr.cli._sanitize import is_clean, json_text, visible

__all__ = ["Column", "RecordWriter", "Shape", "card", "json_value", "make_writer"]

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


@dataclass(frozen=True)
class Column(Generic[T]):
    """One table column: its header and how to show a record's value there (plain text)."""

    header: str
    cell: Callable[[T], str]
    right: bool = False  # numbers and sizes line up on the right
    fold: bool = False  # a list (tags) may fold onto more lines; anything else never wraps
    style: str | None = None


@dataclass(frozen=True)
class Shape(Generic[T]):
    """How one kind of record prints, in every format."""

    singular: str
    plural: str
    columns: tuple[Column[T], ...]
    to_dict: Callable[[T], dict[str, Any]]  # json, jsonl: the API's object
    csv_fields: tuple[str, ...]
    csv_row: Callable[[T], Sequence[object]]
    key: Callable[[T], str | None]  # -q: one per line
    dim: Callable[[T], bool] = field(default=lambda record: False)  # table: a row to play down

    def count(self, number: int) -> str:
        """``1 repository``, ``5 repositories``."""
        return f"{number} {self.singular if number == 1 else self.plural}"


class RecordWriter(Protocol[T_contra]):
    def add(self, record: T_contra) -> None: ...
    def finish(self, footer: str | None = None) -> None: ...


class _Quiet(Generic[T]):
    """``-q``: each record's key on its own line, exactly as the API sent it, or refused."""

    def __init__(self, shape: Shape[T], out: TextIO) -> None:
        self._shape, self._out = shape, out
        self.refused = 0

    def add(self, record: T) -> None:
        key = self._shape.key(record)
        if not key:
            return
        if not is_clean(key):
            self.refused += 1
            return
        self._out.write(key + "\n")
        self._out.flush()

    def finish(self, footer: str | None = None) -> None:
        self._out.flush()
        if self.refused:
            noun = self._shape.singular if self.refused == 1 else self._shape.plural
            raise CommandError(
                f"refused {self.refused} {noun} whose name holds control characters"
                " (not printed with -q; -o json shows them escaped)"
            )


class _JsonLines(Generic[T]):
    def __init__(self, shape: Shape[T], out: TextIO) -> None:
        self._shape, self._out = shape, out

    def add(self, record: T) -> None:
        self._out.write(json_value(self._shape.to_dict(record), indent=None) + "\n")
        self._out.flush()

    def finish(self, footer: str | None = None) -> None:
        self._out.flush()


class _Json(Generic[T]):
    def __init__(self, shape: Shape[T], out: TextIO) -> None:
        self._shape, self._out = shape, out
        self._items: list[dict[str, Any]] = []

    def add(self, record: T) -> None:
        self._items.append(self._shape.to_dict(record))

    def finish(self, footer: str | None = None) -> None:
        self._out.write(json_value(self._items) + "\n")
        self._out.flush()


class _Csv(Generic[T]):
    def __init__(self, shape: Shape[T], out: TextIO, *, header: bool) -> None:
        self._shape, self._out = shape, out
        self._csv = csv.writer(out, lineterminator="\n")
        if header:
            self._csv.writerow(shape.csv_fields)

    def add(self, record: T) -> None:
        row = self._shape.csv_row(record)
        self._csv.writerow(
            ["" if value is None else visible(value) if isinstance(value, str) else value for value in row]
        )
        self._out.flush()

    def finish(self, footer: str | None = None) -> None:
        self._out.flush()


class _Table(Generic[T]):
    def __init__(self, shape: Shape[T], out: TextIO, *, header: bool, width: int | None) -> None:
        self._shape, self._out, self._header, self._width = shape, out, header, width
        self._rows: list[tuple[tuple[str, ...], bool]] = []

    def add(self, record: T) -> None:
        cells = tuple(visible(column.cell(record)) for column in self._shape.columns)
        self._rows.append((cells, self._shape.dim(record)))

    def finish(self, footer: str | None = None) -> None:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        from docr.cli._table import render

        table = Table(
            box=box.SIMPLE_HEAD if self._header else None,
            show_header=self._header,
            show_edge=False,
            pad_edge=False,
            header_style="bold",
        )
        for column in self._shape.columns:
            table.add_column(
                column.header,
                justify="right" if column.right else "left",
                no_wrap=not column.fold,
                overflow="fold",
                style=column.style,
            )
        for cells, dim in self._rows:
            table.add_row(*map(Text, cells), style="dim" if dim else None)
        render(self._out, table, footer if self._header else None, width=self._width)


def make_writer(
    shape: Shape[T], output: str, out: TextIO, *, quiet: bool = False, header: bool = True, width: int | None = None
) -> RecordWriter[T]:
    """The writer for ``-o OUTPUT`` (``-q`` wins over any ``-o``)."""
    if quiet:
        return _Quiet(shape, out)
    if output == "table":
        return _Table(shape, out, header=header, width=width)
    if output == "json":
        return _Json(shape, out)
    if output == "jsonl":
        return _JsonLines(shape, out)
    if output == "csv":
        return _Csv(shape, out, header=header)
    raise ValueError(f"unknown output format {output!r}")


def json_value(value: object, *, indent: int | None = 2) -> str:
    """``value`` as JSON safe for a terminal: exact, with every unsafe character escaped."""
    return json_text(json.dumps(value, indent=indent, ensure_ascii=False))


def card(out: TextIO, lines: Sequence[tuple[str, str]]) -> None:
    """One record as aligned ``KEY  value`` lines, each value escaped and kept on its line."""
    width = max((len(key) for key, _ in lines), default=0)
    for key, value in lines:
        out.write(f"{key:<{width}}  {visible(value)}".rstrip() + "\n")
    out.flush()
