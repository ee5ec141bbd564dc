"""The registry-wide scheduler: many repositories at once under one budget, every page once, resumed after 429s.

The first half drives ``docr._schedule.Schedule`` by hand (no server: answers are made up and
given in any order); the second half runs ``walk_registry`` against the fake, sync and async.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import docr
from docr._models import Manifest, ManifestPage
from docr._operations import RepositoryPage
from docr._registry_walk import FollowUp, RepositoryManifests, make_schedule, walk_registry
from docr._resources import Repository
from docr._schedule import MAX_RATE_LIMITED, Job, Schedule
from docr.testing import FakeRegistry

TOKEN = "dop_v1_" + "5c4ed01e" * 8


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def page(numbers: range, *, total: int, number: int, per_page: int) -> ManifestPage:
    manifests = [Manifest.from_dict({"digest": digest(n), "tags": []}) for n in numbers]
    return ManifestPage(manifests=manifests, total=total, page=number, per_page=per_page)


def repositories(*names: str, next_token: str | None = None) -> RepositoryPage:
    return RepositoryPage([Repository(name=name) for name in names], total=len(names), next_token=next_token)


def rate_limited(retry_after: float | None) -> docr.RateLimitError:
    error = docr.RateLimitError(status_code=429, error_id="too_many_requests", message="slow down")
    error.retry_after = retry_after
    return error


class Seen:
    """What the callbacks of a schedule were handed."""

    def __init__(self) -> None:
        self.repositories: list[RepositoryManifests] = []

    def __call__(self, repository: RepositoryManifests) -> None:
        self.repositories.append(repository)


@pytest.fixture
def client() -> Iterator[docr.Client]:
    # Only its settings and call builders are used: nothing is sent.
    with docr.Client(TOKEN, base_url="http://127.0.0.1:9", concurrency=4) as client:
        yield client


def schedule_for(client: docr.Client, seen: Callable[[RepositoryManifests], Any], **kwargs: Any) -> Schedule:
    return make_schedule(client, "example", seen, per_page=kwargs.pop("per_page", 2), **kwargs)


def page_number(job: Job) -> int:
    assert job.call is not None and job.call.params is not None
    return int(job.call.params["page"])


def settle(schedule: Schedule) -> None:
    schedule.run_callbacks()


# --- the schedule, by hand ---------------------------------------------------------------------


def test_the_listing_goes_first_then_first_pages_of_as_many_repositories_as_slots(client: docr.Client) -> None:
    seen = Seen()
    schedule = schedule_for(client, seen)
    first = schedule.next_jobs()
    assert [job.kind for job in first] == ["repositories"]  # nothing else is known yet
    schedule.complete(first[0], repositories("a", "b", "c", "d", "e", "f"))
    jobs = schedule.next_jobs()
    # Four slots, four repositories: not one repository at a time.
    assert [(job.repository.name if job.repository else None, page_number(job)) for job in jobs] == [
        ("a", 1),
        ("b", 1),
        ("c", 1),
        ("d", 1),
    ]
    assert schedule.in_flight == 4 and schedule.next_jobs() == []


def test_pages_answered_out_of_order_are_taken_in_order_and_each_manifest_once(client: docr.Client) -> None:
    seen = Seen()
    schedule = schedule_for(client, seen)
    (listing,) = schedule.next_jobs()
    schedule.complete(listing, repositories("app"))
    (first,) = schedule.next_jobs()
    schedule.complete(first, page(range(2), total=6, number=1, per_page=2))
    second, third = schedule.next_jobs()
    assert (page_number(second), page_number(third)) == (2, 3)
    schedule.complete(third, page(range(4, 6), total=6, number=3, per_page=2))
    settle(schedule)
    assert seen.repositories == []  # page 3 waits for page 2
    schedule.complete(second, page(range(2, 4), total=6, number=2, per_page=2))
    settle(schedule)
    (done,) = seen.repositories
    assert (done.registry, done.name) == ("example", "app")
    assert [m.digest for m in done.manifests] == [digest(n) for n in range(6)]
    assert schedule.finished


def test_a_429_sends_the_same_job_again_first_after_the_wait_asked(client: docr.Client) -> None:
    seen = Seen()
    schedule = schedule_for(client, seen)
    (listing,) = schedule.next_jobs()
    schedule.complete(listing, repositories("a", "b"))
    a, b = schedule.next_jobs()
    schedule.failed(a, rate_limited(2.5))
    assert schedule.next_jobs() == []  # paused: nothing goes before the wait is slept
    assert schedule.take_pause() == 2.5
    assert schedule.take_pause() == 0.0  # taken once
    again = schedule.next_jobs()
    assert again[0] is a  # the refused job first, then nothing new beyond the slots
    schedule.complete(a, page(range(1), total=1, number=1, per_page=2))
    schedule.complete(b, page(range(1, 2), total=1, number=1, per_page=2))
    settle(schedule)
    assert sorted((r.name, len(r.manifests)) for r in seen.repositories) == [("a", 1), ("b", 1)]
    assert schedule.finished and schedule.requests == 3  # the refused attempt is not an answer


def test_a_429_without_a_wait_backs_off_and_many_in_a_row_give_up(client: docr.Client) -> None:
    schedule = schedule_for(client, Seen())
    (listing,) = schedule.next_jobs()
    waits = []
    for _ in range(MAX_RATE_LIMITED):
        schedule.failed(listing, rate_limited(None))
        waits.append(schedule.take_pause())
        assert schedule.next_jobs() == [listing]
    assert waits[:3] == [0.5, 1.0, 2.0] and max(waits) == 60.0
    error = rate_limited(None)
    with pytest.raises(docr.RateLimitError) as raised:
        schedule.failed(listing, error)
    assert raised.value is error


def test_a_wait_longer_than_the_hour_window_is_not_slept(client: docr.Client) -> None:
    schedule = schedule_for(client, Seen())
    (listing,) = schedule.next_jobs()
    with pytest.raises(docr.RateLimitError):
        schedule.failed(listing, rate_limited(client.rate_limits.hour + 1))


def not_found() -> docr.NotFoundError:
    return docr.NotFoundError(
        status_code=404, error_id="not_found", message="The resource you were accessing could not be found."
    )


def test_a_404_on_a_first_page_drops_the_repository_as_deleted_since_the_listing(client: docr.Client) -> None:
    seen = Seen()
    progress: list[docr.RegistryProgress] = []
    schedule = schedule_for(client, seen, on_progress=progress.append)
    (listing,) = schedule.next_jobs()
    schedule.complete(listing, repositories("a", "b"))
    a, b = schedule.next_jobs()
    schedule.failed(a, not_found())  # no raise: the job goes on
    schedule.complete(b, page(range(1), total=1, number=1, per_page=2))
    settle(schedule)
    assert [r.name for r in seen.repositories] == ["b"]  # "a" never handed on
    assert schedule.gone == ["a"] and schedule.finished
    assert (schedule.done, schedule.found, schedule.requests) == (2, 2, 3)
    assert (progress[-1].repositories_done, progress[-1].repositories) == (2, 2)


def test_a_404_on_a_first_page_sent_again_after_a_429_still_drops_the_repository(client: docr.Client) -> None:
    seen = Seen()
    schedule = schedule_for(client, seen)
    (listing,) = schedule.next_jobs()
    schedule.complete(listing, repositories("a"))
    (first,) = schedule.next_jobs()
    schedule.failed(first, rate_limited(1.0))
    schedule.take_pause()
    assert schedule.next_jobs() == [first]
    schedule.failed(first, not_found())
    assert schedule.gone == ["a"] and schedule.finished and seen.repositories == []


def test_a_404_on_a_later_page_ends_the_job(client: docr.Client) -> None:
    # A repository that answered its first page: the walk cannot tell what the 404 means.
    schedule = schedule_for(client, Seen())
    (listing,) = schedule.next_jobs()
    schedule.complete(listing, repositories("app"))
    (first,) = schedule.next_jobs()
    schedule.complete(first, page(range(2), total=6, number=1, per_page=2))
    second, _third = schedule.next_jobs()
    error = not_found()
    with pytest.raises(docr.NotFoundError) as raised:
        schedule.failed(second, error)
    assert raised.value is error and schedule.gone == []


def test_other_errors_end_the_job_unless_a_follow_up_handles_them(client: docr.Client) -> None:
    handled: list[docr.DocrError] = []
    boom = docr.ServerError(status_code=503, error_id="unavailable", message="down")
    follow_ups = [FollowUp(lambda: None, failed=handled.append), FollowUp(lambda: None)]
    schedule = schedule_for(client, Seen(), start=follow_ups)
    jobs = schedule.next_jobs()
    assert [job.kind for job in jobs] == ["follow_up", "follow_up", "repositories"]
    schedule.failed(jobs[0], boom)
    settle(schedule)
    assert handled == [boom]
    with pytest.raises(docr.ServerError):
        schedule.failed(jobs[1], boom)


def test_follow_ups_and_their_follow_ups_run_within_the_slots(client: docr.Client) -> None:
    order: list[str] = []

    def later(name: str, result: object) -> list[FollowUp]:
        order.append(name)
        return [FollowUp(lambda: None, done=lambda _: order.append(f"{name}+"))] if name == "x" else []

    def on_repository(repository: RepositoryManifests) -> list[FollowUp]:
        return [FollowUp(lambda: None, done=functools.partial(later, name)) for name in ("x", "y")]

    schedule = schedule_for(client, on_repository)
    (listing,) = schedule.next_jobs()
    schedule.complete(listing, repositories("app"))
    (first,) = schedule.next_jobs()
    schedule.complete(first, page(range(1), total=1, number=1, per_page=2))
    assert schedule.run_callbacks()
    x, y = schedule.next_jobs()
    schedule.complete(x, None)
    schedule.complete(y, None)
    settle(schedule)
    (x_plus,) = schedule.next_jobs()
    schedule.complete(x_plus, None)
    settle(schedule)
    assert order == ["x", "y", "x+"] and schedule.finished


def test_repositories_are_chosen_by_glob(client: docr.Client) -> None:
    seen = Seen()
    schedule = schedule_for(client, seen, repositories=["web/*", "api"])
    (listing,) = schedule.next_jobs()
    schedule.complete(listing, repositories("web/a", "web/b", "api", "apis", "tools/web/c"))
    assert sorted(job.repository.name for job in schedule.next_jobs() if job.repository) == ["api", "web/a", "web/b"]


@pytest.mark.parametrize("bad", ["", [], [""], [3]])
def test_a_bad_repositories_filter_is_refused_before_any_request(client: docr.Client, bad: Any) -> None:
    with pytest.raises(docr.InvalidArgument, match="repositories"):
        schedule_for(client, Seen(), repositories=bad)


def test_a_listed_name_that_is_no_repository_name_is_refused_not_skipped(client: docr.Client) -> None:
    schedule = schedule_for(client, Seen())
    (listing,) = schedule.next_jobs()
    with pytest.raises(docr.InvalidArgument, match=r"lists '\.\./x\\x1b'"):
        schedule.complete(listing, repositories("ok", "../x\x1b"))


# --- against the fake --------------------------------------------------------------------------


def run(client: docr.Client | docr.AsyncClient, on_repository: Any, **kwargs: Any) -> Any:
    """walk_registry: its result, or (AsyncClient) its coroutine."""
    return walk_registry(client, "example", on_repository=on_repository, **kwargs)


def with_client(fake: FakeRegistry, kind: str, body: Callable[[Any], Any], **kwargs: Any) -> Any:
    """``body(client)`` with a client of ``kind`` (awaited, in one event loop, for async)."""
    if kind == "async":

        async def main() -> Any:
            async with docr.AsyncClient(TOKEN, base_url=fake.url, oci_base_url=fake.oci_url, **kwargs) as client:
                result = body(client)
                return await result if inspect.isawaitable(result) else result

        return asyncio.run(main())
    with docr.Client(TOKEN, base_url=fake.url, oci_base_url=fake.oci_url, **kwargs) as client:
        return body(client)


KINDS = ["sync", "async"]


def listed(fake: FakeRegistry) -> dict[str, list[str]]:
    return {name: [m["digest"] for m in fake.manifests("example", name)] for name in fake.repositories("example")}


@pytest.mark.parametrize("kind", KINDS)
def test_every_manifest_of_every_repository_once(kind: str) -> None:
    with FakeRegistry() as fake:
        fake.generate_repositories("example", repositories=13, count=45, seed=3)
        seen = Seen()
        stats = with_client(fake, kind, lambda client: run(client, seen, per_page=10))
        expected = listed(fake)
        got = {r.name: [m.digest for m in r.manifests] for r in seen.repositories}
        assert got == expected
        assert (stats.repositories, stats.manifests) == (13, 13 * 45)
        pages = Counter((r.path, r.query.get("page")) for r in fake.requests if r.operation == "list_manifests")
        assert len(pages) == 13 * 5 and set(pages.values()) == {1}  # each page asked for once


@pytest.mark.parametrize("kind", KINDS)
def test_requests_of_many_repositories_are_in_flight_at_once_never_more_than_concurrency(kind: str) -> None:
    # One page per repository: walking one repository at a time would never have two in flight.
    with FakeRegistry(latency=0.2) as fake:
        fake.generate_repositories("example", repositories=8, count=3, seed=1)
        with_client(fake, kind, lambda client: run(client, Seen()), concurrency=4)
        assert fake.max_in_flight == 4


@pytest.mark.parametrize("kind", KINDS)
def test_under_the_fakes_limits_on_a_fast_clock_no_request_meets_a_429(kind: str) -> None:
    # 4 a minute, a minute lasting 2 s: 9 requests (the listing, 8 pages) span three "minutes".
    # (A slower clock than it could be: the budget's margin must cover a busy machine's delays.)
    scale = 30.0
    limits = docr.RateLimits(per_minute=4, per_hour=5000, time_scale=scale)
    with FakeRegistry() as fake:
        fake.rate_limit(per_minute=4, per_hour=5000, time_scale=scale)
        fake.generate_repositories("example", repositories=8, count=2, seed=5)
        seen = Seen()
        started = time.monotonic()
        stats = with_client(fake, kind, lambda client: run(client, seen), rate_limits=limits)
        elapsed = time.monotonic() - started
        assert fake.rate_limited == 0 and not any(r.status == 429 for r in fake.requests)
        assert stats.manifests == 16 and {r.name for r in seen.repositories} == set(fake.repositories("example"))
    assert elapsed >= 2 * limits.minute  # it did wait for the windows (rather than meet no limit)


@pytest.mark.parametrize("kind", KINDS)
def test_a_burst_of_429s_mid_walk_is_waited_out_without_losing_or_repeating_work(kind: str) -> None:
    with FakeRegistry() as fake:
        fake.generate_repositories("example", repositories=10, count=30, seed=7)
        injected = threading.Event()
        slept: list[float] = []

        def progress(state: docr.RegistryProgress) -> None:
            if state.requests >= 12 and not injected.is_set():
                injected.set()
                fake.fail_next(429, count=5, retry_after=3)  # the next five answers, whoever asks

        def body(client: Any) -> Any:
            client._sleep = _recorder(slept, kind)  # no real waits; the waits asked are recorded
            return run(client, seen, per_page=10, on_progress=progress)

        seen = Seen()
        stats = with_client(fake, kind, body, max_retries=0)  # every 429 reaches the scheduler
        assert injected.is_set() and fake.faults_injected == 5
        assert slept and all(wait == 3 for wait in slept)
        assert {r.name: [m.digest for m in r.manifests] for r in seen.repositories} == listed(fake)
        answered = Counter(
            (r.path, r.query.get("page")) for r in fake.requests if r.operation == "list_manifests" and r.status == 200
        )
        assert len(answered) == 10 * 3 and set(answered.values()) == {1}  # none lost, none twice
        assert stats.manifests == 300


def _recorder(slept: list[float], kind: str) -> Any:
    if kind == "async":

        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        return sleep
    return slept.append


@pytest.mark.parametrize("kind", KINDS)
def test_follow_ups_delete_within_the_same_walk(kind: str) -> None:
    with FakeRegistry() as fake:
        fake.generate_repositories("example", repositories=6, count=20, seed=2)
        before = listed(fake)
        deleted: list[str] = []

        def body(client: Any) -> Any:
            def on_repository(repository: RepositoryManifests) -> list[FollowUp]:
                doomed = [m.digest for m in repository.manifests if not m.tags][:2]
                return [
                    FollowUp(
                        functools.partial(client.delete_manifest, "example", repository.name, d),
                        done=lambda _, d=d: deleted.append(d),
                    )
                    for d in doomed
                ]

            return run(client, on_repository)

        with_client(fake, kind, body)
        after = listed(fake)
        assert len(deleted) == 12 == len(set(deleted))
        assert {d for digests in before.values() for d in digests} - {d for v in after.values() for d in v} == set(
            deleted
        )


@pytest.mark.parametrize("kind", KINDS)
def test_a_callback_that_raises_stops_the_walk(kind: str) -> None:
    with FakeRegistry() as fake:
        fake.generate_repositories("example", repositories=30, count=3, seed=2)

        def explode(repository: RepositoryManifests) -> None:
            raise LookupError("stop")

        with pytest.raises(LookupError):
            with_client(fake, kind, lambda client: run(client, explode))
        assert sum(1 for r in fake.requests if r.operation == "list_manifests") < 30


@pytest.mark.parametrize("kind", KINDS)
def test_a_repository_deleted_since_the_listing_is_skipped_and_the_walk_goes_on(kind: str) -> None:
    with FakeRegistry() as fake:
        fake.generate_repositories("example", repositories=6, count=25, seed=4)
        fake.fail_next(404, operation="list_manifests", page=1)  # the first repository opened is gone
        seen = Seen()
        stats = with_client(fake, kind, lambda client: run(client, seen, per_page=10))
        (refused,) = [r for r in fake.requests if r.status == 404]
        gone = next(name for name in fake.repositories("example") if f"/repositories/{name}/" in refused.path)
        expected = {name: digests for name, digests in listed(fake).items() if name != gone}
        assert {r.name: [m.digest for m in r.manifests] for r in seen.repositories} == expected
        assert (stats.repositories, stats.manifests) == (6, 5 * 25)  # counted as walked
        assert [r for r in fake.requests if f"/{gone}/" in r.path] == [refused]  # nothing more asked of it


@pytest.mark.parametrize("kind", KINDS)
def test_a_404_on_a_later_page_stops_the_walk(kind: str) -> None:
    with FakeRegistry() as fake:
        fake.generate_repositories("example", repositories=3, count=25, seed=4)
        fake.fail_next(404, operation="list_manifests", page=2)
        with pytest.raises(docr.NotFoundError):
            with_client(fake, kind, lambda client: run(client, Seen(), per_page=10))


def test_unknown_registry_is_a_not_found_error() -> None:
    with FakeRegistry() as fake:
        fake.generate_repositories("example", repositories=1, count=1, seed=2)
        with docr.Client(TOKEN, base_url=fake.url) as client, pytest.raises(docr.NotFoundError):
            walk_registry(client, "nowhere", on_repository=Seen())


def test_bad_callbacks_are_refused_before_any_request() -> None:
    with docr.Client(TOKEN, base_url="http://127.0.0.1:9") as client:
        with pytest.raises(docr.InvalidArgument, match="on_repository"):
            walk_registry(client, "example", on_repository=3)  # type: ignore[arg-type]
        with pytest.raises(docr.InvalidArgument, match="on_progress"):
            walk_registry(client, "example", on_repository=Seen(), on_progress=3)  # type: ignore[arg-type]
