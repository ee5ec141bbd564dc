"""What ``docr gc wait`` shows while a garbage collection runs.

Each new status is a line on stderr (``docr: garbage collection UUID: scanning manifests``), on a
terminal or not, so CI logs show how it went. On a terminal a spinner below those lines also
shows the current status and the time waited; it disappears when the wait ends. ``rich`` is
imported only for the spinner; every status is text from the server, so it is escaped
(``one_line``) and never read as markup.

Usage::

    with StatusProgress(sys.stderr, uuid=uuid, spinner=isatty(sys.stderr)) as progress:
        client.wait_garbage_collection(registry, uuid, on_status=progress.on_status)
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TextIO

from docr.cli._errors import say
from docr.cli._sanitize import one_line

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["StatusProgress"]


class CollectionLike(Protocol):
    @property
    def status(self) -> str | None: ...
    @property
    def finished(self) -> bool: ...


class StatusProgress:
    """``on_status`` for ``Client.wait_garbage_collection``: a line per status, and a spinner."""

    def __init__(self, stream: TextIO, *, uuid: str, spinner: bool) -> None:
        self._stream = stream
        self._label = f"garbage collection {one_line(uuid, 80)}"
        self._spinner = spinner
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self.statuses: list[str] = []

    def on_status(self, collection: CollectionLike) -> None:
        status = one_line(collection.status or "unknown status", 200)
        self.statuses.append(status)
        if self._progress is not None:
            self._progress.console.print(
                f"docr: {self._label}: {status}", markup=False, highlight=False, soft_wrap=True
            )
        else:
            say(f"{self._label}: {status}", self._stream)
        if self._spinner and not collection.finished:
            self._show(status)

    def _show(self, status: str) -> None:
        if self._progress is None:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                TimeElapsedColumn(),
                console=Console(file=self._stream),
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = self._progress.add_task(f"waiting: {status}", total=None)
            self._progress.start()
            return
        assert self._task is not None
        self._progress.update(self._task, description=f"waiting: {status}")

    def close(self) -> None:
        """Remove the spinner (idempotent)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        self._spinner = False

    def __enter__(self) -> StatusProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
