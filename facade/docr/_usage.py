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

- nothing at all in a repository where the policy deletes nothing even with every manifest taken
  for a plain image: references only make fewer manifests deletable in their own right, and
  everything a prune deletes starts from one of those;
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
from docr._blob_ledger import BlobLedger
from docr._errors import (
    AuthenticationError,
    ConfigurationError,
    DocrError,
    InvalidArgument,
    NotFoundError,
    PermissionDenied,
)
from docr._oci import OCIManifest
from docr._registry_walk import make_schedule, run_async, run_sync
from docr._resources import Registry, Subscription
from docr._schedule import FollowUp, RegistryProgress, RepositoryManifests
from docr._usage_models import RepositoryUsage, Usage, UsageTotals
from docr._usage_repository import Listed, NotAsked, decide, freeable, plain_image, policy_source, tally, why

if TYPE_CHECKING:
    from docr._async_client import AsyncClient
    from docr._client import Client
    from docr.retention import Policy, PolicyFile

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
    job = _UsageJob(client, policy_source(policy), now)
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
        counts, blobs, holders = tally(manifests)
        policy = self._policy_for(listing.name)
        if policy is None or (policy.untagged == "keep" and policy.tagged_older_than is None):
            # No section of the policy file applies, or the policy deletes nothing by any rule.
            self._record(listing.name, counts, blobs, (), 0)
            return None
        # The planner decides which manifests go; the bytes they free are counted here, on the
        # blob keys already at hand (so the planner is given the manifests without their blobs).
        listed = [Listed(manifest) for manifest in manifests]
        # Stand-ins by digest (an invalid one is the planner's to note; reading it fails, closed).
        plain = {item.digest: plain_image(item.digest) for item in listed if isinstance(item.digest, str)}
        first = decide(listed, policy, self._now, plain, {})
        indexes = [m.digest for m in manifests if not m._data.get("blobs") and m.digest in plain]
        if not first.candidates or not indexes:
            self._record(listing.name, counts, blobs, freeable(manifests, first, holders), 0)
            return None
        return self._read_indexes(listing, policy, counts, blobs, holders, listed, plain, indexes)

    def _read_indexes(
        self,
        listing: RepositoryManifests,
        policy: Policy,
        counts: tuple[int, int, int, int],
        blobs: dict[int, int],
        holders: dict[int, int],
        listed: list[Listed],
        plain: dict[str, OCIManifest],
        indexes: list[str],
    ) -> list[FollowUp]:
        waiting = set(indexes)
        unreadable: dict[str, str] = {}

        def answered(digest: str) -> None:
            waiting.discard(digest)
            if not waiting:
                bodies = {d: body for d, body in plain.items() if d not in unreadable}
                decisions = decide(listed, policy, self._now, bodies, unreadable)
                freed = freeable(listing.manifests, decisions, holders)
                self._record(listing.name, counts, blobs, freed, len(unreadable))

        def done(digest: str, body: OCIManifest) -> None:
            plain[digest] = body
            answered(digest)

        def failed(digest: str, error: DocrError) -> None:
            if isinstance(error, AuthenticationError | PermissionDenied | ConfigurationError):
                self._refused = self._refused or type(error).__name__
            unreadable[digest] = why(error)
            answered(digest)

        def send(digest: str) -> Any:
            if self._refused is not None:
                raise NotAsked(f"not read: the registry refused an earlier read ({self._refused})")
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
