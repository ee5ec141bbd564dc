"""Daemon worker threads for one walk: requests run ahead of the consumer, and never hold it up.

``concurrent.futures.ThreadPoolExecutor`` joins its threads at interpreter exit and on
``shutdown``, so a walk abandoned on Ctrl-C would keep the process alive until requests in
flight finish their retries. These workers are daemons that check the walk's cancel event
before every attempt: once the walk is closed nothing new starts, and what is in flight is
simply abandoned (its answer is dropped when it comes).

Each job's future is a ``_Job``: a ``Future`` completed once, by its worker, that signals with a
single lock instead of a ``Condition`` (an ``RLock``, a waiter lock per wait, a deque): at
``per_page`` 1 that hand-off is per request, and the lighter one saves ~6% of docr's CPU a request.
"""

from __future__ import annotations

import _thread
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

__all__ = ["Cancelled", "Workers"]

T = TypeVar("T")


class Cancelled(Exception):
    """The walk was closed before this job started."""


_PENDING: Any = object()


class _Job(Future[T], Generic[T]):
    """The future of one job: set once by the worker that runs it, never cancelled through it.

    ``result`` and ``exception`` (with their timeouts) and ``done`` behave as ``Future``'s, without
    its ``Condition``: ``_finished`` is a lock held from creation until the outcome is in, and
    waiting is acquiring it (then releasing it for the next waiter). A job is never cancelled
    through its future (``Workers.cancel`` stops jobs before they start), and takes no callbacks.
    """

    def __init__(self) -> None:  # no Future.__init__: its Condition is what this replaces
        self._finished = _thread.allocate_lock()
        self._finished.acquire()
        self._outcome: Any = _PENDING
        self._error: BaseException | None = None

    def set_running_or_notify_cancel(self) -> bool:
        return True

    def set_result(self, result: T) -> None:
        self._outcome = result
        self._finish()

    def set_exception(self, exception: BaseException | None) -> None:
        self._error = exception
        self._outcome = None
        self._finish()

    def _finish(self) -> None:
        self._finished.release()

    def _wait(self, timeout: float | None) -> None:
        if self._outcome is _PENDING:
            if not self._finished.acquire(timeout=-1 if timeout is None else timeout):
                raise TimeoutError
            self._finished.release()

    def result(self, timeout: float | None = None) -> T:
        self._wait(timeout)
        if self._error is not None:
            raise self._error
        result: T = self._outcome
        return result

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._wait(timeout)
        return self._error

    def done(self) -> bool:
        return self._outcome is not _PENDING

    def running(self) -> bool:
        return self._outcome is _PENDING  # queued or running: a worker picks jobs up at once

    def cancel(self) -> bool:
        return False

    def cancelled(self) -> bool:
        return False

    def add_done_callback(self, fn: Callable[[Future[T]], object]) -> None:
        raise NotImplementedError("a docr page job takes no callbacks; wait with result()")

    def __repr__(self) -> str:
        return f"<_Job {'finished' if self.done() else 'pending'}>"


class Workers:
    """Up to ``size`` daemon threads running submitted jobs; ``cancel`` stops them all.

    ``waitable``: jobs return standard ``Future`` objects, for callers that wait on several with
    ``concurrent.futures.wait`` (a ``_Job`` has no ``Condition`` for it to wait on).
    """

    def __init__(self, size: int, name: str = "docr-page", *, waitable: bool = False) -> None:
        self.cancelled = threading.Event()
        self._size = size
        self._name = name
        self._future: Callable[[], Future[Any]] = Future if waitable else _Job
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = self._future()
        self._jobs.put((future, function, args))
        with self._lock:
            if self._idle == 0 and len(self._threads) < self._size:
                thread = threading.Thread(target=self._work, name=self._name, daemon=True)
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= 1
        return future

    def cancel(self) -> None:
        """Start nothing new; let each thread end after its current job (without waiting for it)."""
        self.cancelled.set()
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None or self.cancelled.is_set():
                if job is not None:
                    job[0].set_exception(Cancelled())
                return
            future, function, args = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(*args))
                except BaseException as error:  # handed to the consumer, which re-raises it
                    future.set_exception(error)
            with self._lock:
                self._idle += 1
