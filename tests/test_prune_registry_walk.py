"""``retention.plan_registry`` on the registry-wide walk of ``docr usage`` (``docr._registry_walk``).

The oracle is the implementation it replaced, kept here verbatim but for the names: one repository
after another, its listing then its bodies (``read_bodies``), the pure ``_RegistryWalk`` deciding.
Whatever the walk's order, the plans must be the same, byte for byte.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import itertools
import threading
from collections.abc import Callable, Collection, Iterator
from typing import Any

import pytest

import docr
from docr import retention
from docr.retention import Plan
from docr.retention._planning import _RegistryWalk
from docr.retention._reading import Bodies, read_bodies
from docr.testing import FakeRegistry, RecordedRequest
from docr.testing._demo import DEMO_NOW

NOW = DEMO_NOW
REGISTRY = "example"
TOKEN = "dop_v1_" + "9a11e1de" * 8
KINDS = ["sync", "async"]
# Covered and uncovered repositories of both data sets; untagged kept in one, tagged ages in another.
POLICIES = retention.parse_policy_file(
    """
[[policy]]
repositories = ["web/*", "team-0[0-3]/*"]
keep_last = 2
tagged_older_than = "30d"
[[policy]]
repositories = "api"
untagged = "keep"
[[policy]]
repositories = ["tools/*", "team-0[4-6]/*", "big/*"]
"""
)
EVERYTHING = retention.parse_policy_file('[[policy]]\nrepositories = "*"\n')


def sequential_plan_registry(
    client: docr.Client, registry: str, policies: retention.PolicyFile, *, now: dt.datetime, skip: Collection[str] = ()
) -> list[Plan]:
    """``plan_registry`` before the walk (``skip``: repositories taken as deleted before the listing)."""
    walk = _RegistryWalk(policies)
    for name in sorted(repository.name for repository in client.iter_repositories(registry) if repository.name):
        if name in skip:
            continue
        try:
            listing = list(client.iter_manifests(registry, name))
        except docr.NotFoundError:
            continue
        bodies: Bodies = ({}, {})
        if walk.planned(name):
            digests = [manifest.digest for manifest in listing if manifest.digest]
            bodies = read_bodies(client, registry, name, digests, concurrency=8)
        walk.add(name, listing, *bodies)
    return walk.plans(registry, now)


def seed(fake: FakeRegistry, data: str) -> None:
    """``demo``: indexes, referrers, layers shared across repositories, bodies readable.
    ``generated``: listings whose bodies the fake does not hold (plans fail closed for untagged
    manifests), base layers shared across repositories, and one repository of two pages."""
    if data in ("demo", "both"):
        fake.seed_demo(REGISTRY, now=NOW)
    if data in ("generated", "both"):
        fake.generate_repositories(REGISTRY, repositories=12, count=30, seed=3, shared_layers=True)
        fake.generate(REGISTRY, "big/app", count=260, seed=5)  # 200 a page: two pages


def client_kwargs(fake: FakeRegistry, **kwargs: Any) -> dict[str, Any]:
    return {"base_url": fake.url, "oci_base_url": fake.oci_url, **kwargs}


def with_client(fake: FakeRegistry, kind: str, body: Callable[[Any], Any], **kwargs: Any) -> Any:
    """``body(client)`` with a client of ``kind`` (awaited, in one event loop, for async)."""
    if kind == "async":

        async def main() -> Any:
            async with docr.AsyncClient(TOKEN, **client_kwargs(fake, **kwargs)) as client:
                result = body(client)
                return await result if inspect.isawaitable(result) else result

        return asyncio.run(main())
    with docr.Client(TOKEN, **client_kwargs(fake, **kwargs)) as client:
        return body(client)


def planned(kind: str, policies: retention.PolicyFile = POLICIES, **options: Any) -> Callable[[Any], Any]:
    if kind == "async":
        return lambda client: retention.aplan_registry(client, REGISTRY, policies, now=NOW, **options)
    return lambda client: retention.plan_registry(client, REGISTRY, policies, now=NOW, **options)


def oracle(fake: FakeRegistry, policies: retention.PolicyFile = POLICIES, **kwargs: Any) -> list[Plan]:
    with docr.Client(TOKEN, **client_kwargs(fake)) as client:
        return sequential_plan_registry(client, REGISTRY, policies, now=NOW, **kwargs)


def as_json(plans: list[Plan]) -> list[str]:
    return [plan.to_json() for plan in plans]


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        yield fake


# --- the same plans ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("data", ["demo", "generated", "both"])
def test_the_walk_plans_exactly_what_the_sequential_walk_planned(fake: FakeRegistry, data: str, kind: str) -> None:
    seed(fake, data)
    seen: list[str] = []
    plans = with_client(fake, kind, planned(kind, on_repository=seen.append), concurrency=4)
    expected = oracle(fake)
    assert as_json(plans) == as_json(expected)
    assert [p.repository for p in plans] == sorted(p.repository for p in plans)
    assert sorted(seen) == fake.repositories(REGISTRY)  # each repository once, covered or not
    assert any(p.candidates for p in plans)  # the comparison is about something
    if data != "demo":  # shared base layers: some of the candidates' blobs free nothing
        assert any(p.freed_bytes < p.decisions.naive_bytes for p in plans)


def test_every_body_of_a_covered_repository_is_asked_once_and_none_of_the_others(fake: FakeRegistry) -> None:
    seed(fake, "both")
    with_client(fake, "sync", planned("sync"))
    asked = [r for r in fake.requests if r.operation == "oci_manifest" and r.status != 401]  # 401: the challenge
    by_repository: dict[str, list[str]] = {}
    for request in asked:
        repository, digest = request.path.removeprefix(f"/v2/{REGISTRY}/").split("/manifests/")
        by_repository.setdefault(repository, []).append(digest)
    covered = [name for name in fake.repositories(REGISTRY) if POLICIES.for_repository(name) is not None]
    assert sorted(by_repository) == covered
    for name, digests in by_repository.items():
        assert sorted(digests) == sorted(m["digest"] for m in fake.manifests(REGISTRY, name))


def test_credentials_are_fetched_once_and_a_token_once_per_repository(fake: FakeRegistry) -> None:
    # Each repository's first read goes alone, and the walk's very first read before any other.
    seed(fake, "both")
    fake.latency = 0.005
    with_client(fake, "sync", planned("sync", EVERYTHING), concurrency=8)
    operations = [r.operation for r in fake.requests]
    assert operations.count("get_docker_credentials") == 1
    assert operations.count("oci_token") == len(fake.repositories(REGISTRY))


@pytest.mark.parametrize("kind", KINDS)
def test_concurrency_bounds_the_body_reads_in_flight_for_one_repository(fake: FakeRegistry, kind: str) -> None:
    fake.generate(REGISTRY, "big/app", count=30, seed=1)
    fake.latency = 0.05
    with_client(fake, kind, planned(kind, EVERYTHING, concurrency=3), concurrency=8)
    assert fake.max_in_flight == 3  # bounded by the parameter, not by the client's 8


@pytest.mark.parametrize("kind", KINDS)
def test_unreadable_bodies_are_recorded_with_their_reason_and_the_plan_fails_closed(
    fake: FakeRegistry, kind: str
) -> None:
    seed(fake, "demo")
    clean = oracle(fake, EVERYTHING)
    fake.clear_requests()
    fake.fail_next(404, count=3, operation="oci_manifest")  # three reads, of whichever repositories
    plans = with_client(fake, kind, planned(kind, EVERYTHING))
    failed = {r.path.rsplit("/", 1)[1]: r.path for r in fake.requests if r.operation == "oci_manifest" and r.fault}
    assert len(failed) == 3
    for plan in plans:
        mine = [digest for digest, path in failed.items() if f"/{plan.repository}/manifests/" in path]
        if mine:
            assert all(f"{digest} (not found (404))" in " ".join(plan.notes) for digest in mine)
            assert not any(c.rule == "untagged" for c in plan.candidates)  # fail closed
        else:
            assert plan.to_json() == next(p for p in clean if p.repository == plan.repository).to_json()


@pytest.mark.parametrize("kind", KINDS)
def test_once_the_registry_refuses_a_read_no_more_are_sent(fake: FakeRegistry, kind: str) -> None:
    seed(fake, "demo")
    fake.fail_next(403, operation="oci_manifest")
    plans = with_client(fake, kind, planned(kind, EVERYTHING), concurrency=8)
    # The walk's first read goes alone: the refusal is known before any other is sent.
    assert [r.status for r in fake.requests if r.api == "oci"] == [403]
    assert plans and all("could not be read" in " ".join(plan.notes) for plan in plans)
    notes = " ".join(note for plan in plans for note in plan.notes)
    assert "PermissionDenied" in notes and "not read: the registry refused an earlier read (PermissionDenied)" in notes


# --- a repository deleted since the listing --------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_repository_deleted_before_its_walk_is_skipped(fake: FakeRegistry, kind: str) -> None:
    seed(fake, "demo")
    fake.fail_next(404, operation="list_manifests", page=1)  # the first repository walked is gone
    seen: list[str] = []
    plans = with_client(fake, kind, planned(kind, EVERYTHING, on_repository=seen.append))
    (refused,) = [r for r in fake.requests if r.operation == "list_manifests" and r.status == 404]
    gone = next(name for name in fake.repositories(REGISTRY) if f"/repositories/{name}/" in refused.path)
    assert sorted([*seen, gone]) == fake.repositories(REGISTRY)
    assert [p.repository for p in plans] == sorted(seen)  # every other repository planned, this one not
    assert as_json(plans) == as_json(oracle(fake, EVERYTHING, skip={gone}))


# --- at once, under the rate budget ----------------------------------------------------------------


def spans(requests: list[RecordedRequest], names: list[str]) -> dict[str, tuple[int, int]]:
    """Each repository's first and last request (pages and bodies), by arrival."""
    found: dict[str, tuple[int, int]] = {}
    for index, request in enumerate(requests):
        for name in names:
            if f"/{name}/" in request.path:
                first, _ = found.get(name, (index, index))
                found[name] = (first, index)
    return found


def overlapping(found: dict[str, tuple[int, int]]) -> int:
    """Spans that start before the one before them ended (0: one repository after another)."""
    ordered = sorted(found.values())
    return sum(1 for (_, end), (start, _) in itertools.pairwise(ordered) if start < end)


@pytest.mark.parametrize("kind", KINDS)
def test_repositories_are_planned_at_once_under_the_rate_budget_without_a_429(fake: FakeRegistry, kind: str) -> None:
    # The fake enforces both limits on the API (a minute lasting a second; the registry's own reads
    # are not counted); the client paces itself under them.
    fake.generate_repositories(REGISTRY, repositories=40, count=3, seed=9, shared_layers=True)
    fake.push_image(REGISTRY, "web/app", tags=["v1"], layers=[300, 400], updated_at=NOW - dt.timedelta(days=40))
    names = fake.repositories(REGISTRY)
    fake.rate_limit(per_minute=36, per_hour=5000, time_scale=60)
    limits = docr.RateLimits(per_minute=30, per_hour=5000, time_scale=60)
    plans = with_client(fake, kind, planned(kind, EVERYTHING), rate_limits=limits, max_retries=0, concurrency=4)
    assert fake.rate_limited == 0 and not any(r.status == 429 for r in fake.requests)
    assert len([r for r in fake.requests if r.api == "do"]) > 36  # more than a "minute" allows
    assert overlapping(spans(fake.requests, names)) >= 1  # repositories' requests interleave
    fake.rate_limit(None)
    fake.clear_requests()
    expected = oracle(fake, EVERYTHING)
    assert overlapping(spans(fake.requests, names)) == 0  # what the sequential walk shows instead
    assert as_json(plans) == as_json(expected)


def _recorder(slept: list[float], kind: str) -> Any:
    if kind == "async":

        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        return sleep
    return slept.append


@pytest.mark.parametrize("kind", KINDS)
def test_a_burst_of_429s_mid_walk_is_waited_out_with_the_same_plans(fake: FakeRegistry, kind: str) -> None:
    seed(fake, "both")
    expected = oracle(fake)
    fake.clear_requests()
    injected = threading.Event()
    slept: list[float] = []

    def progress(name: str) -> None:
        if not injected.is_set():  # a repository is complete: pages and bodies of others are in flight
            injected.set()
            fake.fail_next(429, count=5, retry_after=3)  # the next five answers, whoever asks

    def body(client: Any) -> Any:
        client._sleep = _recorder(slept, kind)  # no real waits; the waits asked are recorded
        return planned(kind, on_repository=progress)(client)

    plans = with_client(fake, kind, body, max_retries=0, concurrency=4)  # every 429 reaches the walk
    assert fake.faults_injected == 5 and slept and all(wait == 3 for wait in slept)
    assert as_json(plans) == as_json(expected)
    answered = [(r.path, r.query.get("page")) for r in fake.requests if r.status == 200 and r.operation != "oci_token"]
    assert len(answered) == len(set(answered))  # nothing asked twice once answered


# --- arguments and callbacks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"concurrency": 0}, docr.InvalidArgument, "concurrency"),
        ({"concurrency": 65}, docr.InvalidArgument, "concurrency"),
        ({"now": NOW.replace(tzinfo=None)}, ValueError, "timezone-aware"),
        ({"on_repository": 3}, docr.InvalidArgument, "on_repository"),
    ],
)
def test_arguments_are_checked_before_any_request(
    fake: FakeRegistry, options: dict[str, Any], error: type[Exception], match: str
) -> None:
    seed(fake, "demo")
    with docr.Client(TOKEN, **client_kwargs(fake)) as client, pytest.raises(error, match=match):
        retention.plan_registry(client, REGISTRY, POLICIES, **options)
    assert fake.requests == []


@pytest.mark.parametrize("kind", KINDS)
def test_an_exception_from_on_repository_stops_the_walk(fake: FakeRegistry, kind: str) -> None:
    fake.generate_repositories(REGISTRY, repositories=30, count=3, seed=2)

    def stop(name: str) -> None:
        raise LookupError(name)

    with pytest.raises(LookupError):
        with_client(fake, kind, planned(kind, EVERYTHING, on_repository=stop))
    assert sum(1 for r in fake.requests if r.operation == "list_manifests") < 30
