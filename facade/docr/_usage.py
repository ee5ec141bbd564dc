"""``docr.usage``: where a registry's storage goes, repository by repository, walked at the rate limit.

Usage::

    with docr.Client() as client:
        report = docr.usage(client, "example", repositories="web/*")
        for row in report.repositories:
            print(row.name, row.unique_bytes, row.shared_bytes, row.reclaimable_bytes)
        print(report.totals.unique_bytes + report.totals.shared_bytes, "of", report.storage_usage_bytes)

    report = await docr.usage(async_client, "example")        # with an AsyncClient
    docr.usage(client, "example", policy=retention.load_policy_file("retention.toml"))

Every repository is walked by ``docr._registry_walk`` (many at once, within the client's
``concurrency`` and rate budget); as each one completes, its counts and its set of blobs are
kept (``docr._blob_ledger``: 17 bytes a blob) and its manifests dropped, so memory grows with the
repositories and their distinct blobs, not with the manifests listed. The registry itself and
the subscription are read alongside.

Reclaimable bytes are what ``docr.retention.decide`` frees under ``policy`` (a ``Policy``, a
``PolicyFile``, or ``None`` for ``Policy()``, ``docr prune``'s default). The planner needs each
manifest's body to see indexes and referrers; reading every body would cost one request per
manifest, so usage reads only what can change the answer:

- nothing at all in a repository where the policy deletes nothing even if no manifest
  referenced another (references only ever keep more: that count is an upper bound);
- otherwise the bodies of the manifests the listing shows without blobs: the possible indexes
  (an index names no blobs of its own), whose children a kept index protects. Bodies that cannot
  be read make that repository fail closed, as ``docr prune`` does (no untagged manifest counted);
- every other manifest is taken as a plain image. The one case this can overcount: an OCI 1.1
  referrer (a signature or an SBOM naming its image as ``subject``) whose image is kept, outside
  any index, past the policy's grace: its own few KB count as reclaimable though ``docr prune``,
  which reads every body, keeps it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import TYPE_CHECKING, Any, overload

from docr._base_client import ITER_PER_PAGE
from docr._blob_ledger import BlobLedger, blob_key
from docr._errors import (
    AuthenticationError,
    ConfigurationError,
    DocrError,
    InvalidArgument,
    NotFoundError,
    PermissionDenied,
)
from docr._oci import OCI_MANIFEST, OCIManifest
from docr._registry_walk import make_schedule, run_async, run_sync
from docr._resources import Registry, Subscription
from docr._schedule import FollowUp, RegistryProgress, RepositoryManifests
from docr._usage_models import RepositoryUsage, Usage, UsageTotals

if TYPE_CHECKING:
    from docr._async_client import AsyncClient
    from docr._client import Client
    from docr._models import Manifest
    from docr.retention import Decisions, Policy, PolicyFile

__all__ = ["measure", "usage"]

OnProgress = Callable[[RegistryProgress], object]


@overload
def usage(
    client: Client,
    registry: str,
    *,
    repositories: str | Sequence[str] | None = None,
    policy: Policy | PolicyFile | None = None,
    on_progress: OnProgress | None = None,
    now: dt.datetime | None = None,
) -> Usage: ...
@overload
def usage(
    client: AsyncClient,
    registry: str,
    *,
    repositories: str | Sequence[str] | None = None,
    policy: Policy | PolicyFile | None = None,
    on_progress: OnProgress | None = None,
    now: dt.datetime | None = None,
) -> Coroutine[Any, Any, Usage]: ...
def usage(
    client: Client | AsyncClient,
    registry: str,
    *,
    repositories: str | Sequence[str] | None = None,
    policy: Policy | PolicyFile | None = None,
    on_progress: OnProgress | None = None,
    now: dt.datetime | None = None,
) -> Usage | Coroutine[Any, Any, Usage]:
    """Where ``registry``'s storage goes: per repository (``repositories``: a glob or several),
    and in total beside the registry's ``storage_usage_bytes`` and the plan's included storage.

    ``on_progress`` is called with a ``docr.RegistryProgress`` after each answer; ``now`` is the
    moment the policy's ages count from (default: the current time). With an ``AsyncClient``
    this returns a coroutine.
    """
    report: Usage | Coroutine[Any, Any, Usage] = measure(
        client, registry, repositories=repositories, policy=policy, on_progress=on_progress, now=now
    )
    return report


def measure(
    client: Client | AsyncClient,
    registry: str,
    *,
    repositories: str | Sequence[str] | None = None,
    policy: Policy | PolicyFile | None = None,
    on_progress: OnProgress | None = None,
    now: dt.datetime | None = None,
    per_page: int = ITER_PER_PAGE,
) -> Any:
    """``usage`` with the listings' page size (``docr usage --per-page``)."""
    from docr._async_client import AsyncClient

    if now is None:
        now = dt.datetime.now(dt.UTC)
    elif not isinstance(now, dt.datetime) or now.tzinfo is None:
        raise InvalidArgument("now", f"must be a timezone-aware datetime, not {now!r:.80}")
    job = _UsageJob(client, _policy_source(policy), now)
    schedule = make_schedule(
        client,
        registry,
        job.on_repository,
        repositories,
        on_progress,
        start=job.start(registry),
        per_page=per_page,
        backlog=client._settings.concurrency,
    )
    job.registry = schedule.registry
    if isinstance(client, AsyncClient):
        return _result_after(run_async(client, schedule), job)
    run_sync(client, schedule)
    return job.result()


async def _result_after(run: Coroutine[Any, Any, None], job: _UsageJob) -> Usage:
    await run
    return job.result()


class _NotAsked(DocrError):
    """A body not requested: the registry already refused this job's credentials."""


class _UsageJob:
    """The callbacks of one usage walk (run one at a time on the caller's thread) and what they keep."""

    def __init__(self, client: Client | AsyncClient, policy_for: Callable[[str], Policy | None], now: dt.datetime):
        self._client = client
        self._policy_for = policy_for
        self._now = now
        self.registry = ""
        self._ledger = BlobLedger()
        self._rows: list[tuple[str, int, int, int, int, int]] = []  # name, counts, compressed sum, unreadable
        self._registry: Registry | None = None
        self._subscription: Subscription | None = None
        self._refused: str | None = None  # why the registry refused a body: ask for no more

    def start(self, registry: str) -> list[FollowUp]:
        client = self._client
        return [
            FollowUp(functools.partial(client.get_registry, registry), done=self._got_registry),
            FollowUp(client.get_subscription, done=self._got_subscription, failed=self._no_subscription),
        ]

    def _got_registry(self, registry: Registry) -> None:
        self._registry = registry

    def _got_subscription(self, subscription: Subscription) -> None:
        self._subscription = subscription

    def _no_subscription(self, error: DocrError) -> None:
        if not isinstance(error, NotFoundError):  # an account without a plan: no included storage
            raise error

    # --- one repository ----------------------------------------------------------------------

    def on_repository(self, listing: RepositoryManifests) -> list[FollowUp] | None:
        manifests = listing.manifests
        counts, blobs, holders = _tally(manifests)
        policy = self._policy_for(listing.name)
        if policy is None or (policy.untagged == "keep" and policy.tagged_older_than is None):
            # No section of the policy file applies, or the policy deletes nothing by any rule.
            self._record(listing.name, counts, blobs, (), 0)
            return None
        # The planner decides which manifests go; the bytes they free are counted here, on the
        # blob keys already at hand (so the planner is given the manifests without their blobs).
        listed = [_Listed(manifest) for manifest in manifests]
        # Stand-ins by digest (an invalid one is the planner's to note; reading it fails, closed).
        plain = {item.digest: _plain_image(item.digest) for item in listed if isinstance(item.digest, str)}
        first = _decide(listed, policy, self._now, plain, {})
        indexes = [m.digest for m in manifests if not m._data.get("blobs") and m.digest in plain]
        if not first.candidates or not indexes:
            self._record(listing.name, counts, blobs, _freeable(manifests, first, holders), 0)
            return None
        return self._read_indexes(listing, policy, counts, blobs, holders, listed, plain, indexes)

    def _read_indexes(
        self,
        listing: RepositoryManifests,
        policy: Policy,
        counts: tuple[int, int, int, int],
        blobs: dict[int, int],
        holders: dict[int, int],
        listed: list[_Listed],
        plain: dict[str, OCIManifest],
        indexes: list[str],
    ) -> list[FollowUp]:
        waiting = set(indexes)
        unreadable: dict[str, str] = {}

        def answered(digest: str) -> None:
            waiting.discard(digest)
            if not waiting:
                bodies = {d: body for d, body in plain.items() if d not in unreadable}
                decisions = _decide(listed, policy, self._now, bodies, unreadable)
                freeable = _freeable(listing.manifests, decisions, holders)
                self._record(listing.name, counts, blobs, freeable, len(unreadable))

        def done(digest: str, body: OCIManifest) -> None:
            plain[digest] = body
            answered(digest)

        def failed(digest: str, error: DocrError) -> None:
            if isinstance(error, AuthenticationError | PermissionDenied | ConfigurationError):
                self._refused = self._refused or type(error).__name__
            unreadable[digest] = _why(error)
            answered(digest)

        def send(digest: str) -> Any:
            if self._refused is not None:
                raise _NotAsked(f"not read: the registry refused an earlier read ({self._refused})")
            return self._client.get_oci_manifest(listing.registry, listing.name, digest)

        return [
            FollowUp(
                functools.partial(send, digest),
                done=functools.partial(done, digest),
                failed=functools.partial(failed, digest),
            )
            for digest in indexes
        ]

    def _record(
        self,
        name: str,
        counts: tuple[int, int, int, int],
        blobs: dict[int, int],
        freeable: Iterable[int],
        unreadable: int,
    ) -> None:
        self._ledger.add(blobs, freeable)
        self._rows.append((name, *counts, unreadable))

    # --- the end -----------------------------------------------------------------------------

    def result(self) -> Usage:
        settled = self._ledger.settle()
        rows = sorted(
            (
                RepositoryUsage(
                    name=name,
                    manifests=manifests,
                    tagged=tagged,
                    untagged=untagged,
                    compressed_bytes_sum=compressed,
                    unique_bytes=settled.unique[index],
                    shared_bytes=settled.shared[index],
                    reclaimable_bytes=settled.reclaimable[index],
                    unreadable=unreadable,
                )
                for index, (name, manifests, tagged, untagged, compressed, unreadable) in enumerate(self._rows)
            ),
            key=lambda row: row.name,
        )
        totals = UsageTotals(
            manifests=sum(row.manifests for row in rows),
            tagged=sum(row.tagged for row in rows),
            untagged=sum(row.untagged for row in rows),
            compressed_bytes_sum=sum(row.compressed_bytes_sum for row in rows),
            unique_bytes=sum(settled.unique),
            shared_bytes=settled.shared_total,
            reclaimable_bytes=settled.reclaimable_total,
        )
        return Usage(
            registry=self.registry,
            repositories=tuple(rows),
            totals=totals,
            storage_usage_bytes=None if self._registry is None else self._registry.storage_usage_bytes,
            included_storage_bytes=None if self._subscription is None else self._subscription.included_storage_bytes,
        )


def _tally(manifests: Sequence[Manifest]) -> tuple[tuple[int, int, int, int], dict[int, int], dict[int, int]]:
    """(manifests, tagged, untagged, compressed sum); the blobs, key to size, each once; and how
    many times the listing names each (to tell, later, the blobs only deleted manifests name)."""
    tagged = compressed = 0
    blobs: dict[int, int] = {}
    holders: dict[int, int] = {}
    for manifest in manifests:
        # The checked JSON behind the properties: a walk of 100,000 manifests names ~550,000
        # blobs, and building a Blob for each would double the time this takes.
        data = manifest._data
        if data.get("tags"):
            tagged += 1
        compressed += data.get("compressed_size_bytes") or 0
        for blob in data.get("blobs") or ():
            digest = blob.get("digest")
            if isinstance(digest, str):
                key = blob_key(digest)
                size = blob.get("compressed_size_bytes") or 0
                if size > blobs.get(key, -1):
                    blobs[key] = size
                holders[key] = holders.get(key, 0) + 1
    return (len(manifests), tagged, len(manifests) - tagged, compressed), blobs, holders


class _Listed:
    """What the planner reads of a listed manifest, without its blobs (see ``on_repository``)."""

    __slots__ = ("compressed_size_bytes", "digest", "tags", "updated_at")
    blobs: tuple[()] = ()

    def __init__(self, manifest: Manifest) -> None:
        data = manifest._data
        self.digest: str | None = data.get("digest")
        self.tags: list[str] = data.get("tags") or []
        self.updated_at = manifest.updated_at
        self.compressed_size_bytes: int | None = data.get("compressed_size_bytes")


def _freeable(manifests: Sequence[Manifest], decisions: Decisions, holders: dict[int, int]) -> set[int]:
    """The keys of the blobs that only the planner's deletion candidates name (``holders``: how
    many times the whole listing names each)."""
    doomed = {candidate.digest for candidate in decisions.candidates}
    if not doomed:
        return set()
    named: dict[int, int] = {}
    for manifest in manifests:
        data = manifest._data
        if data.get("digest") in doomed:
            for blob in data.get("blobs") or ():
                digest = blob.get("digest")
                if isinstance(digest, str):
                    key = blob_key(digest)
                    named[key] = named.get(key, 0) + 1
    return {key for key, count in named.items() if count == holders[key]}


def _plain_image(digest: str) -> OCIManifest:
    """A stand-in body: an image manifest naming no other manifest."""
    return OCIManifest(digest=digest, media_type=OCI_MANIFEST)


def _decide(
    manifests: Sequence[_Listed],
    policy: Policy,
    now: dt.datetime,
    oci: dict[str, OCIManifest],
    unreadable: dict[str, str],
) -> Decisions:
    from docr.retention import decide

    return decide(manifests, policy=policy, now=now, oci=oci, unreadable=unreadable)


def _why(error: DocrError) -> str:
    if isinstance(error, _NotAsked):
        return str(error)
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}" + (f" ({status})" if status else "")


def _policy_source(policy: object) -> Callable[[str], Policy | None]:
    from docr.retention import Policy, PolicyFile

    if policy is None:
        default = Policy()
        return lambda name: default
    if isinstance(policy, Policy):
        return lambda name: policy
    if isinstance(policy, PolicyFile):
        return policy.for_repository
    raise InvalidArgument(
        "policy", f"must be a docr.retention.Policy, a PolicyFile or None, not {type(policy).__name__}"
    )
