"""The callbacks of ``plan_registry``'s walk: each repository's listing in, its bodies read as follow-ups.

Usage (by ``docr.retention._planning``)::

    job = RegistryJob(client, walk, now, concurrency, on_repository)
    schedule = make_schedule(client, registry, job.on_repository, backlog=...)
    job.registry = schedule.registry
    run_sync(client, schedule)                       # or: await run_async(client, schedule)
    plans = job.plans()

A repository no section of the policy file covers only gives its blobs (garbage collection is
registry-wide). For one a section covers, the body of every listed manifest is read, as
``read_bodies`` reads them: valid digests only, each once; one that cannot be read is kept with
``reason(error)``, so the planner fails closed. The reads are follow-ups of the walk, so they
share its concurrency and rate budget; a 429 the client's retries did not absorb is waited out
by the walk (the read is sent again), never taken for an unreadable body.

Reads are spread so that credentials are fetched once: the walk's very first read goes alone
(it fetches the short-lived docker credentials every later read reuses), then each repository's
first read goes alone (it fetches the token for that repository's scope), then up to
``concurrency`` of that repository's reads at a time. Once the registry refuses a read
(authentication, permission, configuration), no more are sent: the rest are unreadable, "not read".

Callbacks run one at a time on the walk's own thread (or task): the state here needs no lock.
Only ``_send`` runs on a worker, and it reads one attribute.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from docr._errors import AuthenticationError, ClientClosedError, ConfigurationError, DocrError, PermissionDenied
from docr._oci import OCIManifest
from docr._schedule import FollowUp, RepositoryManifests
from docr._usage_repository import NotAsked
from docr.retention._reading import _valid, reason

if TYPE_CHECKING:
    from docr._async_client import AsyncClient
    from docr._client import Client
    from docr.retention._plan import Plan
    from docr.retention._planning import _RegistryWalk

__all__ = ["RegistryJob"]


class RegistryJob:
    """What one ``plan_registry`` walk has read, and the plans from it at the end."""

    def __init__(
        self,
        client: Client | AsyncClient,
        walk: _RegistryWalk,
        now: dt.datetime,
        concurrency: int,
        on_repository: Callable[[str], object] | None,
    ) -> None:
        self.client = client
        self.walk = walk
        self.now = now
        self.concurrency = concurrency
        self.registry = ""
        self._on_repository = on_repository
        self.refused: str | None = None  # why the registry refused a read: send no more
        self.primed = False  # a read has been answered: the docker credentials are in hand
        self._first_out = False  # the walk's first read is in flight
        self._held: list[_Bodies] = []  # repositories waiting for it to be answered

    def on_repository(self, listing: RepositoryManifests) -> list[FollowUp]:
        if self._on_repository is not None:
            self._on_repository(listing.name)
        if not self.walk.planned(listing.name):
            self.walk.add(listing.name, listing.manifests, {}, {})
            return []
        return _Bodies(self, listing).start()

    def plans(self) -> list[Plan]:
        return self.walk.plans(self.registry, self.now)

    def first_read(self, bodies: _Bodies) -> list[FollowUp]:
        """A repository's first read: now, unless the walk's very first read is still out."""
        if self.primed or not self._first_out:
            self._first_out = True
            return [bodies.read_next()]
        self._held.append(bodies)
        return []

    def prime(self) -> list[FollowUp]:
        """The walk's first read was answered: the repositories that waited for it may start."""
        self.primed = True
        held, self._held = self._held, []
        return [bodies.read_next() for bodies in held]


class _Bodies:
    """One planned repository's bodies, read as the walk's follow-ups."""

    def __init__(self, job: RegistryJob, listing: RepositoryManifests) -> None:
        self._job = job
        self._listing = listing
        self._waiting = deque(_valid(manifest.digest for manifest in listing.manifests if manifest.digest))
        self._in_flight = 0
        self._oci: dict[str, OCIManifest] = {}
        self._unreadable: dict[str, str] = {}

    def start(self) -> list[FollowUp]:
        if not self._waiting:
            self._finish()
            return []
        return self._job.first_read(self)

    def read_next(self) -> FollowUp:
        digest = self._waiting.popleft()
        self._in_flight += 1
        return FollowUp(
            functools.partial(self._send, digest),
            done=functools.partial(self._done, digest),
            failed=functools.partial(self._failed, digest),
        )

    def _send(self, digest: str) -> Any:
        """On a worker thread (``Client``), or returning a coroutine (``AsyncClient``)."""
        if self._job.refused is not None:
            raise NotAsked(self._job.refused)
        return self._job.client.get_oci_manifest(self._listing.registry, self._listing.name, digest)

    def _done(self, digest: str, body: OCIManifest) -> list[FollowUp]:
        self._oci[digest] = body
        return self._answered()

    def _failed(self, digest: str, error: DocrError) -> list[FollowUp]:
        if isinstance(error, ClientClosedError):
            raise error
        if isinstance(error, NotAsked):
            self._unreadable[digest] = str(error)
        else:
            if isinstance(error, AuthenticationError | PermissionDenied | ConfigurationError):
                self._job.refused = self._job.refused or _not_read(error)
            self._unreadable[digest] = reason(error)
        return self._answered()

    def _answered(self) -> list[FollowUp]:
        self._in_flight -= 1
        job = self._job
        follow_ups = [] if job.primed else job.prime()
        if job.refused is not None:
            while self._waiting:
                self._unreadable[self._waiting.popleft()] = job.refused
        while self._waiting and self._in_flight < job.concurrency:
            follow_ups.append(self.read_next())
        if not self._waiting and not self._in_flight:
            self._finish()
        return follow_ups

    def _finish(self) -> None:
        self._job.walk.add(self._listing.name, self._listing.manifests, self._oci, self._unreadable)


def _not_read(error: DocrError) -> str:
    return f"not read: the registry refused an earlier read ({type(error).__name__})"
