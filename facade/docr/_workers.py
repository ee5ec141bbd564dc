"""Daemon worker threads for one walk: requests run ahead of the consumer, and never hold it up.

``concurrent.futures.ThreadPoolExecutor`` joins its threads at interpreter exit and on
``shutdown``, so a walk abandoned on Ctrl-C would keep the process alive until requests in
flight finish their retries. These workers are daemons that check the walk's cancel event
before every attempt: once the walk is closed nothing new starts, and what is in flight is
simply abandoned (its answer is dropped when it comes).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["Cancelled", "Workers"]

T = TypeVar("T")


class Cancelled(Exception):
    """The walk was closed before this job started."""


class Workers:
    """Up to ``size`` daemon threads running submitted jobs; ``cancel`` stops them all."""

    def __init__(self, size: int, name: str = "docr-page") -> None:
        self.cancelled = threading.Event()
        self._size = size
        self._name = name
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
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
