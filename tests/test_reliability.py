"""Reliability under faults: every manifest exactly once, in order; with a retry budget that
covers the faults, always; with a short one, or a loud docr error after a correct prefix.

Runs docr.Client against docr.testing.FakeRegistry (a real HTTP server on loopback) over a
repository of 2,000 manifests while the fake injects faults: 429s with and without
retry-after, 500/502/503, HTML error pages, connection resets, truncated JSON and answers
slower than the client's timeout, spread over every page. The tally of each mix is printed
at the end of the pytest run (see conftest.py) so the README can quote it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import docr
from docr.testing import FakeRegistry
from tests.tally import RELIABILITY_TALLY

REPO = ("example", "my/repo")
COUNT = 2000


# max_retries -> the outcome of each fault-mix run, summed up in the tally at the end.
OUTCOMES: dict[int, list[str]] = {}


@pytest.fixture(scope="module")
def fake() -> Any:
    with FakeRegistry() as fake:
        fake.generate(*REPO, count=COUNT, seed=11)
        yield fake
    for max_retries, outcomes in sorted(OUTCOMES.items()):
        complete = outcomes.count("complete")
        RELIABILITY_TALLY.append(
            f"max_retries={max_retries}: {complete} of {len(outcomes)} runs yielded all {COUNT} manifests once and"
            f" in order; {len(outcomes) - complete} raised a docr error after a correct prefix"
        )


@pytest.fixture(autouse=True)
def calm(fake: FakeRegistry) -> Any:
    yield
    fake.fail_randomly(0)
    fake.on_request(None)
    fake.latency = 0.0


def client_for(fake: FakeRegistry, **kwargs: Any) -> docr.Client:
    client = docr.Client("reliability-token", base_url=fake.url, **kwargs)
    client._sleep = lambda seconds: None  # the waits are tested in test_retry.py; here, only outcomes
    return client


MIXES: dict[str, tuple[float, tuple[Any, ...]]] = {
    "rate-limits": (0.15, (429,)),
    "server-errors": (0.15, (500, 502, 503)),
    "html-and-empty-pages": (0.15, (502, 520)),
    "resets": (0.1, ("reset",)),
    "truncated-json": (0.1, ("truncated",)),
    "everything": (0.25, (429, 500, 502, 503, 520, "reset", "truncated")),
}
# A retry budget that covers every mix: a page fails for good only if it draws a fault 13 times
# in a row, about 1.5e-8 at the highest rate (25%), so about 3e-5 over the 1,800 pages of these
# runs. With it, every run must yield every manifest: an error is a failure, not a pass.
COVERING = 12
# A short budget: a page may draw four faults in a row, and the run may end in an error. That is
# allowed only as a loud docr error after a correct prefix, never as a short or repeated list.
SHORT = 3


@pytest.mark.parametrize("mix", sorted(MIXES))
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("max_retries", [SHORT, COVERING])
def test_fault_mix_yields_everything_once_in_order(fake: FakeRegistry, mix: str, seed: int, max_retries: int) -> None:
    fraction, kinds = MIXES[mix]
    expected = [m["digest"] for m in fake.manifests(*REPO)]
    fake.clear_requests()
    before = fake.faults_injected
    fake.fail_randomly(fraction, kinds=kinds, seed=seed)
    got: list[str | None] = []
    outcome = "complete"
    error: docr.DocrError | None = None
    try:
        with client_for(fake, max_retries=max_retries) as client:
            for manifest in client.iter_manifests(*REPO, per_page=20):
                got.append(manifest.digest)
    except docr.DocrError as exc:
        outcome, error = f"raised {type(exc).__name__}", exc
    faults = fake.faults_injected - before
    requests = len(fake.requests)
    pages = -(-len(got) // 20)
    line = (
        f"{mix:<21} seed={seed} max_retries={max_retries:<2}: {faults:3d} faults injected, {requests:3d} requests"
        f" for {pages:3d} pages delivered ({requests - pages} retried or in flight), {len(got):4d} manifests, {outcome}"
    )
    RELIABILITY_TALLY.append(line)
    OUTCOMES.setdefault(max_retries, []).append(outcome)
    assert faults > 0
    if max_retries == COVERING:
        assert error is None, f"the retries should have rescued this run: {line}"
    if error is not None:
        assert isinstance(error, docr.APIError | docr.TransportError)
        assert got == expected[: len(got)]  # what came before the error was right
        assert len(got) < COUNT
    else:
        assert got == expected


def test_high_retry_budget_survives_a_quarter_of_requests_failing(fake: FakeRegistry) -> None:
    fake.fail_randomly(0.25, kinds=(429, 500, 502, 503, 520, "reset", "truncated"), seed=99)
    with client_for(fake, max_retries=10) as client:
        got = [m.digest for m in client.iter_manifests(*REPO, per_page=20)]
    assert got == [m["digest"] for m in fake.manifests(*REPO)]


def test_answers_slower_than_the_timeout_are_retried(fake: FakeRegistry) -> None:
    for page in (2, 5):
        fake.fail_next("slow", delay=1.0, page=page)
    with client_for(fake, timeout=0.3) as client:
        got = [m.digest for m in client.iter_manifests(*REPO, per_page=200)]
    assert got == [m["digest"] for m in fake.manifests(*REPO)]
    assert fake.faults_injected >= 2


def test_a_page_that_always_times_out_raises_timeout_error(fake: FakeRegistry) -> None:
    fake.fail_next("slow", delay=1.0, page=3, count=3)
    with client_for(fake, timeout=0.2, max_retries=2) as client, pytest.raises(docr.TimeoutError):
        list(client.iter_manifests(*REPO, per_page=200))


def test_async_client_under_faults(fake: FakeRegistry) -> None:
    fake.fail_randomly(0.2, kinds=(429, 500, 502, "reset", "truncated"), seed=5)

    async def run() -> list[str | None]:
        client = docr.AsyncClient("reliability-token", base_url=fake.url, max_retries=10)

        async def no_sleep(seconds: float) -> None:
            return None

        client._sleep = no_sleep
        async with client:
            return [m.digest async for m in client.iter_manifests(*REPO, per_page=20)]

    assert asyncio.run(run()) == [m["digest"] for m in fake.manifests(*REPO)]


# --- listing while the repository changes -------------------------------------------------------


def _walk_with_writes(fake: FakeRegistry, write: Any, **kwargs: Any) -> tuple[list[str | None], set[str]]:
    """Walk while `write(page_number)` runs before each page is answered."""
    before = {m["digest"] for m in fake.manifests(*REPO)}

    def on_request(request: Any) -> None:
        write(int(request.query.get("page", "1")))

    fake.on_request(on_request)
    with client_for(fake, **kwargs) as client:
        got = [m.digest for m in client.iter_manifests(*REPO, per_page=50)]
    fake.on_request(None)
    stayed = before & {m["digest"] for m in fake.manifests(*REPO)}
    return got, stayed


@pytest.mark.parametrize("concurrency", [1, 4])
def test_pushes_during_the_walk(fake: FakeRegistry, concurrency: int) -> None:
    pushed = iter(range(10))
    pending = {3, 7, 20}  # push once before each of these pages is first answered

    def push(page: int) -> None:
        if page in pending:
            pending.discard(page)
            fake.generate(*REPO, count=1, seed=10_000 + next(pushed) + 100 * concurrency)

    got, stayed = _walk_with_writes(fake, push, concurrency=concurrency)
    assert len(got) == len(set(got))
    assert stayed <= set(got)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_deletes_during_the_walk(fake: FakeRegistry, concurrency: int) -> None:
    pending = {4, 9, 15}

    def delete(page: int) -> None:
        if page in pending:
            pending.discard(page)
            current = fake.manifests(*REPO)
            fake.delete_manifests(*REPO, [current[1]["digest"], current[len(current) // 2]["digest"]])

    got, stayed = _walk_with_writes(fake, delete, concurrency=concurrency)
    assert len(got) == len(set(got))
    assert stayed <= set(got)


def test_pushes_and_deletes_that_never_stop_raise_listing_changed(fake: FakeRegistry) -> None:
    pushed = iter(range(20_000, 30_000))

    def churn(page: int) -> None:
        fake.generate(*REPO, count=1, seed=next(pushed))

    with pytest.raises(docr.ListingChangedError):
        _walk_with_writes(fake, churn)
