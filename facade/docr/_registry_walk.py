"""``walk_registry``: every manifest of every repository of a registry, walked at the rate limit.

The scheduling is ``docr._schedule`` (pure); here are the two drivers that send its jobs, on
daemon worker threads for ``Client`` and as tasks for ``AsyncClient``, and sleep its pauses.

Usage::

    def on_repository(repository: RepositoryManifests) -> list[FollowUp]:
        print(repository.name, len(repository.manifests))
        return [FollowUp(functools.partial(client.delete_manifest, registry, repository.name, digest))
                for digest in doomed(repository.manifests)]       # deletes, in the same budget

    stats = walk_registry(client, "example", repositories="team-*/*", on_repository=on_repository)
    stats = await walk_registry(async_client, "example", on_repository=on_repository)

Callbacks (``on_repository``, ``on_progress``, follow-ups' ``done`` and ``failed``) run one at a
time on the caller's thread (or task): they need no lock. Up to ``client``'s ``concurrency``
requests are in flight at once across repositories, each paced by the client's rate budget.
An exception from a callback, or an error no follow-up handles, stops the walk: nothing new is
sent, and requests in flight are abandoned. A repository deleted since the listing named it (404
on its first page) is skipped: it counts as walked, and ``on_repository`` never sees it.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from docr import _operations
from docr._base_client import ITER_PER_PAGE
from docr._errors import DocrError, InvalidArgument
from docr._schedule import FollowUp, Job, RegistryProgress, RepositoryManifests, Schedule, repository_filter

if TYPE_CHECKING:
    from docr._async_client import AsyncClient
    from docr._client import Client

__all__ = ["FollowUp", "RegistryProgress", "RepositoryManifests", "WalkStats", "make_schedule", "walk_registry"]

OnRepository = Callable[[RepositoryManifests], Iterable[FollowUp] | None]
OnProgress = Callable[[RegistryProgress], object]


@dataclass(frozen=True)
class WalkStats:
    """What a registry walk did: repositories walked, manifests seen (each once), answers received."""

    repositories: int
    manifests: int
    requests: int


@overload
def walk_registry(
    client: Client,
    registry: str,
    *,
    on_repository: OnRepository,
    repositories: str | Sequence[str] | None = None,
    on_progress: OnProgress | None = None,
    start: Iterable[FollowUp] = (),
    per_page: int = ITER_PER_PAGE,
) -> WalkStats: ...
@overload
def walk_registry(
    client: AsyncClient,
    registry: str,
    *,
    on_repository: OnRepository,
    repositories: str | Sequence[str] | None = None,
    on_progress: OnProgress | None = None,
    start: Iterable[FollowUp] = (),
    per_page: int = ITER_PER_PAGE,
) -> Coroutine[Any, Any, WalkStats]: ...
def walk_registry(
    client: Client | AsyncClient,
    registry: str,
    *,
    on_repository: OnRepository,
    repositories: str | Sequence[str] | None = None,
    on_progress: OnProgress | None = None,
    start: Iterable[FollowUp] = (),
    per_page: int = ITER_PER_PAGE,
) -> WalkStats | Coroutine[Any, Any, WalkStats]:
    """Walk every repository of ``registry`` (those matching ``repositories``: a glob or several),
    handing each, with all its manifests, to ``on_repository`` as soon as it is complete.

    ``start`` are follow-ups to run from the beginning (e.g. ``get_registry``). With an
    ``AsyncClient`` this returns a coroutine.
    """
    schedule = make_schedule(
        client,
        registry,
        on_repository,
        repositories,
        on_progress,
        start,
        per_page,
        backlog=client._settings.concurrency,
    )
    from docr._async_client import AsyncClient

    if isinstance(client, AsyncClient):
        return _stats_after(run_async(client, schedule), schedule)
    run_sync(client, schedule)
    return _stats(schedule)


def make_schedule(
    client: Client | AsyncClient,
    registry: str,
    on_repository: OnRepository,
    repositories: str | Sequence[str] | None = None,
    on_progress: OnProgress | None = None,
    start: Iterable[FollowUp] = (),
    per_page: int = ITER_PER_PAGE,
    *,
    backlog: int = 0,
) -> Schedule:
    """The schedule of a registry walk over ``client``'s settings (arguments checked here, before any request)."""
    if not callable(on_repository):
        raise InvalidArgument("on_repository", "must be a callable taking a RepositoryManifests")
    if on_progress is not None and not callable(on_progress):
        raise InvalidArgument("on_progress", "must be a callable taking a RegistryProgress, or None")
    select = repository_filter(repositories)
    name, listing = client._repositories_walk(registry, per_page)
    size = listing.per_page

    def open_walk(repository: str) -> Any:
        return client._walk(name, repository, per_page=size, start_page=1)

    return Schedule(
        registry=name,
        listing=listing,
        listing_call=lambda token: _operations.repositories_page(name, size, token),
        open_walk=open_walk,
        select=select,
        on_repository=on_repository,
        on_progress=on_progress,
        concurrency=client._settings.concurrency,
        backlog=backlog,
        start=list(start),
        max_wait=client.rate_limits.hour,
    )


def run_sync(client: Client, schedule: Schedule) -> None:
    """Send the schedule's jobs on ``concurrency`` daemon threads until it is finished."""
    pool = _Pool(client, schedule.concurrency)
    try:
        while True:
            pause = schedule.take_pause()
            if pause > 0:
                pool.gate.clear()  # jobs already queued wait too
                client._sleep(pause)
                pool.gate.set()
            for job in schedule.next_jobs():
                pool.submit(job)
            if schedule.run_callbacks():
                continue  # send what they asked for
            if schedule.in_flight == 0:
                if schedule.finished:
                    return
                raise AssertionError(f"the walk of registry {schedule.registry} stalled")  # pragma: no cover
            job, error, result = pool.answers.get()
            _settle(schedule, job, error, result)
            del job, error, result  # hold no page while waiting for the next answer
    finally:
        pool.close()


class _Pool:
    """Daemon threads sending jobs; answers come back on ``answers`` as (job, error, result).

    Like ``docr._workers.Workers`` (daemons: an abandoned walk never keeps the process alive), but
    a thread holds nothing between jobs, so the pages of a long walk are freed as soon as they
    are taken.
    """

    def __init__(self, client: Client, size: int) -> None:
        self._client = client
        self._size = size
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.cancelled = threading.Event()
        self.gate = threading.Event()  # cleared while the walk pauses after a 429
        self.gate.set()
        self.answers: queue.SimpleQueue[tuple[Job, BaseException | None, Any]] = queue.SimpleQueue()

    def submit(self, job: Job) -> None:
        self._jobs.put(job)
        with self._lock:
            if self._idle == 0 and len(self._threads) < self._size:
                thread = threading.Thread(target=self._work, name="docr-registry", daemon=True)
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= 1

    def close(self) -> None:
        """Start nothing new; each thread ends after its current job (nobody waits for it)."""
        self.cancelled.set()
        self.gate.set()
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        cancelled = self.cancelled.is_set
        while True:
            job = self._jobs.get()
            self.gate.wait()
            if job is None or cancelled():
                return
            answer: tuple[Job, BaseException | None, Any]
            try:
                if job.follow_up is not None:
                    answer = (job, None, job.follow_up.send())
                else:
                    assert job.call is not None
                    answer = (job, None, self._client._call(job.call, cancelled))
            except BaseException as error:  # handed to the walk's thread, which raises it
                answer = (job, error, None)
            self.answers.put(answer)
            del job, answer
            with self._lock:
                self._idle += 1


async def run_async(client: AsyncClient, schedule: Schedule) -> None:
    """Send the schedule's jobs as tasks until it is finished."""

    slots = asyncio.Semaphore(schedule.concurrency)  # the backlog waits here
    gate = asyncio.Event()  # cleared while the walk pauses after a 429
    gate.set()

    async def send(job: Job) -> Any:
        async with slots:
            await gate.wait()
            if job.follow_up is not None:
                return await job.follow_up.send()
            assert job.call is not None
            return await client._call(job.call)

    tasks: dict[asyncio.Task[Any], Job] = {}
    try:
        while True:
            pause = schedule.take_pause()
            if pause > 0:
                gate.clear()
                await client._sleep(pause)
                gate.set()
            for job in schedule.next_jobs():
                tasks[asyncio.ensure_future(send(job))] = job
            if schedule.run_callbacks():
                continue  # send what they asked for
            if not tasks:
                if schedule.finished:
                    return
                raise AssertionError(f"the walk of registry {schedule.registry} stalled")  # pragma: no cover
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                job = tasks.pop(task)
                error = task.exception()
                _settle(schedule, job, error, None if error is not None else task.result())
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _settle(schedule: Schedule, job: Job, error: BaseException | None, result: Any) -> None:
    if error is None:
        schedule.complete(job, result)
    elif isinstance(error, DocrError):
        schedule.failed(job, error)
    else:
        raise error


def _stats(schedule: Schedule) -> WalkStats:
    return WalkStats(schedule.done, schedule.manifests, schedule.requests)


async def _stats_after(run: Coroutine[Any, Any, None], schedule: Schedule) -> WalkStats:
    await run
    return _stats(schedule)
