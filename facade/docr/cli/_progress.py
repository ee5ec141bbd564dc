"""The progress bar on stderr while pages load.

Shown only when stderr is a terminal and the listing spans more than one page, so pipes, CI
logs and tests never see it; it disappears once the listing is complete. ``rich`` is imported
only when the bar is actually shown. The label is text (``one_line``: escaped, one line), never markup.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TextIO

from docr.cli._output import isatty
from docr.cli._sanitize import one_line

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["PageProgress", "manifest_bar"]


class PageLike(Protocol):
    """The fields of ``docr.ManifestPage`` the bar reads."""

    @property
    def total(self) -> int: ...
    @property
    def per_page(self) -> int: ...
    @property
    def manifests(self) -> Sequence[object]: ...


class PageProgress:
    """``on_page`` for ``Client.iter_manifests``: counts pages and draws the bar when useful.

    ``total`` is the repository's manifest count as the first page reported it (``None`` before
    any page arrives); ``expected`` caps the bar when the listing stops early (``--limit``).
    """

    def __init__(self, stream: TextIO, *, enabled: bool, label: str, expected: int | None = None) -> None:
        self._stream = stream
        self._enabled = enabled and isatty(stream)
        self._label = one_line(label)
        self._expected = expected
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self.total: int | None = None
        self.pages = 0
        self.received = 0

    @property
    def shown(self) -> bool:
        """Whether the bar was ever drawn."""
        return self._progress is not None

    def on_page(self, page: PageLike) -> None:
        with self._lock:
            self.pages += 1
            self.received += len(page.manifests)
            if self.total is None:
                self.total = page.total
            if not self._enabled:
                return
            goal = page.total if self._expected is None else min(page.total, self._expected)
            if self._progress is None:
                if goal <= page.per_page:
                    return  # one page: done before a bar would help
                self._start(goal, min(self.received, goal))
            assert self._progress is not None
            assert self._task is not None
            self._progress.update(self._task, completed=min(self.received, goal), total=goal)

    def _start(self, goal: int, completed: int) -> None:
        self._progress = manifest_bar(self._stream)
        self._task = self._progress.add_task(f"Listing {self._label}", total=goal, completed=completed)
        self._progress.start()

    def close(self) -> None:
        """Remove the bar (idempotent); call before printing the results."""
        with self._lock:
            if self._progress is not None:
                self._progress.stop()
                self._enabled = False

    def __enter__(self) -> PageProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def manifest_bar(stream: TextIO) -> Progress:
    """The bar of a command counting manifests (listed, deleted) on ``stream``: removed when it
    stops, never touching stdout, descriptions printed as text (they hold server names)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("manifests"),
        TimeElapsedColumn(),
        console=Console(file=stream),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )
