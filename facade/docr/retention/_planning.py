"""Planning against a registry: list, read the bodies, let the pure planner decide.

Usage::

    with docr.Client() as client:
        plan = retention.plan(client, "example", "web/app", retention.Policy(keep_last=10))
        plans = retention.plan_registry(client, "example", "retention.toml")   # every matching repository

    async with docr.AsyncClient() as client:
        plan = await retention.aplan(client, "example", "web/app", retention.Policy())

``plan`` lists the repository and reads the body of every listed manifest (the listing cannot
tell an index from an image) through the registry, ``concurrency`` at a time; a body it cannot
read makes the plan fail closed (see ``docr.retention.decide``).

``plan_registry`` plans each repository the first matching section of the policy file covers,
and lists the others too: garbage collection is registry-wide, so a blob another repository
still references frees nothing, and each plan counts its bytes knowing that. It walks the
registry as ``docr.usage`` does (``docr._registry_walk``: many repositories at once at the rate
limit), reading bodies as the walk's follow-ups (``docr.retention._registry_job``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from docr._errors import InvalidArgument
from docr._oci import OCIManifest
from docr.retention._plan import Plan
from docr.retention._policy import Policy
from docr.retention._policy_file import PolicyFile, load_policy_file
from docr.retention._reading import aread_bodies, check_concurrency, read_bodies
from docr.retention._registry_job import RegistryJob
from docr.retention._types import ManifestLike

if TYPE_CHECKING:
    from docr._async_client import AsyncClient
    from docr._client import Client
    from docr._schedule import Schedule

__all__ = ["aplan", "aplan_registry", "plan", "plan_registry"]

DEFAULT_CONCURRENCY = 8
OnRepository = Callable[[str], object]


def plan(
    client: Client,
    registry: str,
    repository: str,
    policy: Policy,
    *,
    now: dt.datetime | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    external_blobs: Collection[str] = (),
) -> Plan:
    """Plan a prune of one repository (``now``: the time ages are measured from, default now).

    ``external_blobs``: blob digests other repositories reference (they free nothing).
    """
    when = _check(policy, now, concurrency)
    listing = list(client.iter_manifests(registry, repository))
    oci, unreadable = read_bodies(client, registry, repository, _digests(listing), concurrency=concurrency)
    return Plan.create(
        listing,
        registry=registry,
        repository=repository,
        policy=policy,
        now=when,
        oci=oci,
        unreadable=unreadable,
        external_blobs=external_blobs,
    )


async def aplan(
    client: AsyncClient,
    registry: str,
    repository: str,
    policy: Policy,
    *,
    now: dt.datetime | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    external_blobs: Collection[str] = (),
) -> Plan:
    """``plan`` for ``docr.AsyncClient``."""
    when = _check(policy, now, concurrency)
    listing = [manifest async for manifest in client.iter_manifests(registry, repository)]
    oci, unreadable = await aread_bodies(client, registry, repository, _digests(listing), concurrency=concurrency)
    return Plan.create(
        listing,
        registry=registry,
        repository=repository,
        policy=policy,
        now=when,
        oci=oci,
        unreadable=unreadable,
        external_blobs=external_blobs,
    )


def plan_registry(
    client: Client,
    registry: str,
    policy_file: PolicyFile | str | os.PathLike[str],
    *,
    now: dt.datetime | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_repository: OnRepository | None = None,
) -> list[Plan]:
    """A plan for each repository a section of ``policy_file`` matches, by repository name.

    The registry is walked as ``docr.usage`` walks it (``docr._registry_walk``): many
    repositories at once, as many requests in flight as the client allows
    (``docr.Client(concurrency=...)``), each paced by its rate budget, waiting out the 429s the
    client's own retries did not. This ``concurrency`` (1 to 64) bounds the body reads in flight
    for one repository; its first read goes alone (it fetches the token for the repository, which
    the others reuse). A repository deleted since the listing named it is skipped.

    ``on_repository(name)`` is called with each repository's name once its listing is complete,
    before its bodies are read (for progress: repositories complete in no set order).
    """
    from docr._registry_walk import run_sync

    job, schedule = _registry_job(client, registry, policy_file, now, concurrency, on_repository)
    run_sync(client, schedule)
    return job.plans()


async def aplan_registry(
    client: AsyncClient,
    registry: str,
    policy_file: PolicyFile | str | os.PathLike[str],
    *,
    now: dt.datetime | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_repository: OnRepository | None = None,
) -> list[Plan]:
    """``plan_registry`` for ``docr.AsyncClient``."""
    from docr._registry_walk import run_async

    job, schedule = _registry_job(client, registry, policy_file, now, concurrency, on_repository)
    await run_async(client, schedule)
    return job.plans()


def _registry_job(
    client: Client | AsyncClient,
    registry: str,
    policy_file: PolicyFile | str | os.PathLike[str],
    now: dt.datetime | None,
    concurrency: int,
    on_repository: OnRepository | None,
) -> tuple[RegistryJob, Schedule]:
    """The job and its schedule; every argument checked before the first request."""
    from docr._registry_walk import make_schedule  # it loads asyncio: not on ``import docr.retention``

    policies = _policies(policy_file)
    when = _check(None, now, concurrency)
    if on_repository is not None and not callable(on_repository):
        raise InvalidArgument("on_repository", "must be a callable taking a repository name, or None")
    job = RegistryJob(client, _RegistryWalk(policies), when, concurrency, on_repository)
    schedule = make_schedule(client, registry, job.on_repository, backlog=client._settings.concurrency)
    job.registry = schedule.registry
    return job, schedule


@dataclass
class _Listed:
    listing: Sequence[ManifestLike]
    oci: Mapping[str, OCIManifest]
    unreadable: Mapping[str, str]


class _RegistryWalk:
    """What ``plan_registry`` has read, and the plans from it. Pure.

    Which manifests go does not depend on other repositories, only the bytes do; so each
    repository is decided once alone, and then again knowing which blobs the manifests
    every other repository keeps still reference.
    """

    def __init__(self, policies: PolicyFile) -> None:
        self._policies = policies
        self._planned: dict[str, _Listed] = {}
        self._others: dict[str, set[str]] = {}  # blobs of repositories no section covers

    def planned(self, repository: str) -> bool:
        return self._policies.for_repository(repository) is not None

    def add(
        self,
        repository: str,
        listing: Sequence[ManifestLike],
        oci: Mapping[str, OCIManifest],
        unreadable: Mapping[str, str],
    ) -> None:
        if self.planned(repository):
            self._planned[repository] = _Listed(listing, oci, unreadable)
        else:
            self._others[repository] = {blob.digest for m in listing for blob in m.blobs if blob.digest}

    def plans(self, registry: str, now: dt.datetime) -> list[Plan]:
        alone = {name: self._create(registry, name, now, ()) for name in self._planned}
        kept = dict(self._others)
        for name, first in alone.items():
            going = {candidate.digest for candidate in first.candidates}
            listing = self._planned[name].listing
            kept[name] = {b.digest for m in listing if m.digest not in going for b in m.blobs if b.digest}
        plans = []
        for name in sorted(self._planned):
            external = set().union(*(blobs for other, blobs in kept.items() if other != name))
            plans.append(self._create(registry, name, now, external))
        return plans

    def _create(self, registry: str, repository: str, now: dt.datetime, external: Collection[str]) -> Plan:
        found = self._planned[repository]
        policy = self._policies.for_repository(repository)
        assert policy is not None
        return Plan.create(
            found.listing,
            registry=registry,
            repository=repository,
            policy=policy,
            now=now,
            oci=found.oci,
            unreadable=found.unreadable,
            external_blobs=external,
        )


def _policies(policy_file: PolicyFile | str | os.PathLike[str]) -> PolicyFile:
    return policy_file if isinstance(policy_file, PolicyFile) else load_policy_file(os.fspath(policy_file))


def _check(policy: Policy | None, now: dt.datetime | None, concurrency: int) -> dt.datetime:
    """Arguments are checked before the first request, and ``now`` taken before the listing."""
    if policy is not None and not isinstance(policy, Policy):
        raise TypeError(f"policy must be a docr.retention.Policy, not {type(policy).__name__}")
    check_concurrency(concurrency)
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def _digests(listing: Iterable[ManifestLike]) -> list[str]:
    return [manifest.digest for manifest in listing if manifest.digest]
