"""The scheduler of a registry-wide job: which request to send next, across repositories. No I/O.

A job over a whole registry (``docr.usage``, a prune of every repository) is a stream of
requests: the repositories listing (``page_token`` pages, one after another), each repository's
manifest pages (a ``docr._pagination.Walk``: its first page alone, then up to its window) and
the follow-ups its callbacks ask for (manifest bodies, deletes). ``Schedule`` keeps up to
``concurrency`` of them in flight *across* repositories, so a repository waiting for its first
page never leaves a slot idle while another has pages to fetch; the client's rate budget paces
every request sent, so the job runs as fast as the rate limit allows and no faster. Drivers
(``docr._registry_walk``) loop::

    for job in schedule.next_jobs(): send it          # up to `concurrency` in flight
    schedule.run_callbacks()                          # after sending: slots refill first
    schedule.complete(job, result)                    # or schedule.failed(job, error)
    pause = schedule.take_pause()                     # after a 429 the client gave up on

Callbacks (a repository complete, a follow-up answered) are queued by ``complete`` and ``failed``
and run by ``run_callbacks``, so a driver refills the slots an answer freed before spending time
in them (a planner over a whole repository takes milliseconds).

When a slot frees, the next job is, in order: one that met a 429 (again, first), a follow-up, the
next repositories page (while fewer than ``max_open`` names wait), a page of a repository already
open (oldest first, so it finishes and frees its memory), the first page of a new repository.

Nothing is lost or repeated: pages are accepted strictly in order per repository (answers that
come early wait), and a job refused with a 429 that outlived the client's own retries is put back
at the head of the queue, the whole job pausing for the wait the server asked; its answer never
came, so sending it again repeats nothing.

A repository deleted between the repositories listing and its walk answers its first page 404:
it is gone, so it is dropped (counted done, named in ``gone``, never handed to ``on_repository``)
and the job goes on. A 404 on a later page is an error like any other: a repository that
answered its first page does not lose pages while it exists, so the walk cannot tell what the
404 means and does not guess.

Memory: a repository's manifests are kept only while it is open (at most ``max_open``), then
handed to ``on_repository`` and dropped.
"""

from __future__ import annotations

import fnmatch
import functools
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from docr import _names
from docr._errors import DocrError, InvalidArgument, NotFoundError, RateLimitError
from docr._exchange import Call
from docr._models import Manifest
from docr._operations import PageRequest
from docr._pagination import Walk
from docr._token_walk import TokenWalk

__all__ = ["FollowUp", "Job", "RegistryProgress", "RepositoryManifests", "Schedule", "repository_filter"]

MAX_RATE_LIMITED = 8  # 429s in a row for one job (after the client's own retries) before giving up


@dataclass(frozen=True)
class FollowUp:
    """One more request for a registry-wide job to run, within its concurrency and rate budget.

    ``send()`` runs on a worker (``Client``) or as a task (``AsyncClient``: it returns an
    awaitable, e.g. ``functools.partial(client.delete_manifest, registry, repository, digest)``
    works with both). ``done(result)`` and ``failed(error)`` run on the job's own thread, one at a
    time, and may return more follow-ups. Without ``failed``, an error ends the whole job.
    Follow-ups run concurrently: to order two, return the second from the first's ``done``.
    """

    send: Callable[[], Any]
    done: Callable[[Any], Iterable[FollowUp] | None] | None = None
    failed: Callable[[DocrError], Iterable[FollowUp] | None] | None = None


@dataclass(frozen=True)
class RepositoryManifests:
    """A repository walked to its end: every manifest once, in the API's order."""

    registry: str
    name: str
    manifests: list[Manifest]


@dataclass(frozen=True)
class RegistryProgress:
    """Where a registry-wide job stands. ``repositories`` is how many matched so far (final once
    ``listed``); ``requests`` counts answers received (follow-ups included)."""

    repositories_done: int
    repositories: int
    listed: bool
    manifests: int
    requests: int


JobKind = Literal["repositories", "page", "follow_up"]


@dataclass(eq=False)
class Job:
    """One request of the job: a repositories page, a manifest page or a follow-up."""

    kind: JobKind
    call: Call[Any] | None = None
    follow_up: FollowUp | None = None
    repository: _Open | None = None
    result: Any = None
    answered: bool = False
    rate_limited: int = 0


@dataclass(eq=False)
class _Open:
    name: str
    template: PageRequest
    walk: Walk
    jobs: deque[Job] = field(default_factory=deque)  # committed, in page order, until accepted
    ready: deque[Job] = field(default_factory=deque)  # committed, not sent yet
    manifests: list[Manifest] = field(default_factory=list)
    answered: bool = False  # a page of it was accepted: it existed when the walk reached it


def repository_filter(repositories: str | Sequence[str] | None) -> Callable[[str], bool]:
    """``None``: every repository; a glob (``fnmatch``, case-sensitive) or several: those matching any."""
    if repositories is None:
        return lambda name: True
    globs = (repositories,) if isinstance(repositories, str) else tuple(repositories)
    if not globs or not all(isinstance(glob, str) and glob for glob in globs):
        raise InvalidArgument("repositories", f"must be a glob, a sequence of globs or None, not {repositories!r:.80}")
    return lambda name: any(fnmatch.fnmatchcase(name, glob) for glob in globs)


class Schedule:
    """The state of one registry-wide job; see the module docstring."""

    def __init__(
        self,
        *,
        registry: str,
        listing: TokenWalk,
        listing_call: Callable[[str | None], Call[Any]],
        open_walk: Callable[[str], tuple[PageRequest, Walk]],
        select: Callable[[str], bool],
        on_repository: Callable[[RepositoryManifests], Iterable[FollowUp] | None],
        concurrency: int,
        backlog: int = 0,
        max_open: int | None = None,
        on_progress: Callable[[RegistryProgress], object] | None = None,
        start: Iterable[FollowUp] = (),
        max_wait: float = 3600.0,
    ) -> None:
        self.registry = registry
        self.concurrency = concurrency
        # Jobs handed out beyond the requests a driver sends at once: they wait in its queue, so a
        # sender that finishes starts the next at once, even while callbacks hold the job's thread.
        self.backlog = backlog
        self.max_open = max_open or max(8, 2 * concurrency)
        self.in_flight = 0
        self._listing, self._listing_call = listing, listing_call
        self._listing_busy = False
        self._open_walk, self._select = open_walk, select
        self._on_repository, self._on_progress = on_repository, on_progress
        self._max_wait = max_wait
        self._names: deque[str] = deque()
        self._open: list[_Open] = []
        self._follow_ups: deque[Job] = deque(Job("follow_up", follow_up=f) for f in start)
        self._again: deque[Job] = deque()  # refused with a 429: first in line
        self._callbacks: deque[Callable[[], Iterable[FollowUp] | None]] = deque()
        self._pause = 0.0
        self.found = self.done = self.manifests = self.requests = 0
        self.gone: list[str] = []  # listed, then 404 on the first page: deleted since

    @property
    def finished(self) -> bool:
        """Nothing in flight and nothing left to send."""
        return (
            self.in_flight == 0
            and self._listing.finished
            and not (self._names or self._open or self._follow_ups or self._again or self._callbacks)
        )

    def next_jobs(self) -> list[Job]:
        """The jobs to send now (each counts as in flight until completed or failed): up to
        ``concurrency + backlog``; the driver sends at most ``concurrency`` of them at once."""
        jobs: list[Job] = []
        while self.in_flight < self.concurrency + self.backlog and not self._pause:
            job = self._next()
            if job is None:
                break
            self.in_flight += 1
            jobs.append(job)
        return jobs

    def take_pause(self) -> float:
        """Seconds to wait before sending anything more (once: the driver sleeps it)."""
        pause, self._pause = self._pause, 0.0
        return pause

    def run_callbacks(self) -> bool:
        """Run the callbacks answers have made due (their follow-ups join the queue); whether any ran."""
        if not self._callbacks:
            return False
        while self._callbacks:
            self._add_follow_ups(self._callbacks.popleft()())
        self._progress()
        return True

    def complete(self, job: Job, result: Any) -> None:
        """Take the answer to ``job``; the callbacks it makes due wait for ``run_callbacks``."""
        self.in_flight -= 1
        self.requests += 1
        job.rate_limited = 0
        if job.kind == "repositories":
            self._listing_busy = False
            for repository in self._listing.accept(result):
                name = repository.name
                if name is not None and self._select(name):
                    self._names.append(_listed_name(name))
                    self.found += 1
        elif job.kind == "page":
            job.result, job.answered = result, True
            assert job.repository is not None
            self._accept_pages(job.repository)
        else:
            assert job.follow_up is not None
            if job.follow_up.done is not None:
                self._callbacks.append(functools.partial(job.follow_up.done, result))
        if not self._callbacks:
            self._progress()

    def failed(self, job: Job, error: DocrError) -> None:
        """Take the failure of ``job``: a 429 sends it again later; another error ends the job
        (raised here) unless the follow-up handles it."""
        self.in_flight -= 1
        if isinstance(error, RateLimitError):
            job.rate_limited += 1
            wait = error.retry_after or min(60.0, 0.5 * 2.0 ** (job.rate_limited - 1))
            if job.rate_limited > MAX_RATE_LIMITED or wait > self._max_wait:
                raise error
            self._again.append(job)
            self._pause = max(self._pause, wait)
            return
        repository = job.repository  # a page's
        if isinstance(error, NotFoundError) and repository is not None and not repository.answered:
            self._drop(repository, job)  # deleted since it was listed
            return
        if job.kind == "follow_up" and job.follow_up is not None and job.follow_up.failed is not None:
            self.requests += 1
            self._callbacks.append(functools.partial(job.follow_up.failed, error))
            return
        raise error

    # --- choosing the next job ---------------------------------------------------------------

    def _next(self) -> Job | None:
        if self._again:
            return self._again.popleft()
        if self._follow_ups:
            return self._follow_ups.popleft()
        if not self._listing.finished and not self._listing_busy and len(self._names) < self.max_open:
            self._listing.begin_request()
            self._listing_busy = True
            return Job("repositories", call=self._listing_call(self._listing.token))
        for repository in self._open:
            if not repository.ready:
                self._plan(repository)
            if repository.ready:
                return repository.ready.popleft()
        while self._names and len(self._open) < self.max_open:
            name = self._names.popleft()
            template, walk = self._open_walk(name)
            repository = _Open(name, template, walk)
            self._open.append(repository)
            self._plan(repository)
            if repository.ready:
                return repository.ready.popleft()
            self._close_if_done(repository)  # nothing to ask: an empty walk (cannot happen today)
        return None

    def _plan(self, repository: _Open) -> None:
        walk = repository.walk
        for number in walk.schedule(len(repository.jobs)):
            job = Job("page", call=repository.template.call(number, walk.per_page), repository=repository)
            repository.jobs.append(job)
            repository.ready.append(job)

    # --- answers -----------------------------------------------------------------------------

    def _accept_pages(self, repository: _Open) -> None:
        jobs = repository.jobs
        while jobs and jobs[0].answered:
            page = jobs.popleft().result
            repository.answered = True
            fresh = repository.walk.accept(page)
            repository.manifests.extend(fresh)
            self.manifests += len(fresh)
        self._close_if_done(repository)

    def _close_if_done(self, repository: _Open) -> None:
        if not repository.walk.finished or repository.jobs:
            return
        self._open.remove(repository)
        self.done += 1
        listing = RepositoryManifests(self.registry, repository.name, repository.manifests)
        repository.manifests = []
        self._callbacks.append(functools.partial(self._on_repository, listing))

    def _drop(self, repository: _Open, job: Job) -> None:
        # The first page of a walk is asked alone (``Walk.schedule``): nothing else of it is out.
        assert list(repository.jobs) == [job]
        assert not repository.ready
        self._open.remove(repository)
        self.requests += 1  # an answer, if not a page
        self.done += 1
        self.gone.append(repository.name)
        self._progress()

    def _add_follow_ups(self, follow_ups: Iterable[FollowUp] | None) -> None:
        if follow_ups is not None:
            self._follow_ups.extend(Job("follow_up", follow_up=follow_up) for follow_up in follow_ups)

    def _progress(self) -> None:
        if self._on_progress is not None:
            self._on_progress(
                RegistryProgress(self.done, self.found, self._listing.finished, self.manifests, self.requests)
            )


def _listed_name(name: str) -> str:
    try:
        return _names.repository_name(name)
    except InvalidArgument:
        # A request built from it could name another resource: refuse loudly, never skip quietly.
        raise InvalidArgument(
            "repository_name", f"the registry lists {name!r:.120}, which is not a valid repository name"
        ) from None
