"""Applying under faults (issue 12, section 5): lost answers, 429 bursts, crashes at any point and
resumes from the journal, pushes during an apply. Whatever happens, the registry ends with exactly
the plan applied, nothing else deleted, and no delete sent twice."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import docr
from docr import retention
from docr.retention import Plan, Policy
from docr.testing import FakeRegistry, RecordedRequest
from tests.test_prune_library import (
    EVERYTHING,
    NOW,
    REGISTRY,
    DeleteCalls,
    client_for,
    deleted_digest,
    digests,
    seeded,
)

REPOSITORY = "web/frontend"


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    yield from seeded()


@pytest.fixture
def delete_calls(fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> DeleteCalls:
    return DeleteCalls(fake, monkeypatch)


class Crash(Exception):
    """Raised from on_progress: the process "dies" between two outcomes."""


def planned(fake: FakeRegistry, repository: str = REPOSITORY) -> Plan:
    with client_for(fake) as client:
        plan = retention.plan(client, REGISTRY, repository, Policy(), now=NOW)
    fake.clear_requests()
    return plan


def test_lost_answers_count_as_deleted_and_are_not_resent(delete_calls: DeleteCalls, fake: FakeRegistry) -> None:
    plan = planned(fake)
    fake.fail_next("lost", count=4, operation="delete_manifest")
    with client_for(fake, max_retries=4) as client:
        report = retention.apply(client, plan)
    going = {c.digest for c in plan.candidates}
    assert fake.faults_injected == 4
    assert report.complete and set(report.deleted) == going
    delete_calls.check(fake, going)


def test_a_burst_of_429s_is_waited_out(delete_calls: DeleteCalls, fake: FakeRegistry) -> None:
    plan = planned(fake)
    fake.fail_next(429, count=6, operation="delete_manifest", retry_after=1)
    with client_for(fake, max_retries=8) as client:
        report = retention.apply(client, plan, concurrency=2)
    assert report.complete and not report.failed
    delete_calls.check(fake, {c.digest for c in plan.candidates})


def test_a_delete_that_keeps_failing_is_reported_and_holds_its_children_back(fake: FakeRegistry) -> None:
    plan = planned(fake)
    first = plan.candidates[0].digest  # an index
    fake.fail_next(503, count=4, operation="delete_manifest")  # every attempt of the first delete
    with client_for(fake, max_retries=3) as client:
        report = retention.apply(client, plan, concurrency=1)
    assert list(report.failed) == [first]
    assert "ServerError" in report.failed[first]
    children = {c.digest for c in plan.candidates if c.via == first}
    assert children and set(report.skipped) == children
    assert all(why == f"kept with {first}, which could not be deleted" for why in report.skipped.values())
    assert first in digests(fake, REPOSITORY) and children <= digests(fake, REPOSITORY)
    with client_for(fake) as client:  # a rerun (no journal: planned afresh) finishes the job
        assert retention.apply(client, planned(fake)).complete


@pytest.mark.parametrize("seed", range(6))
def test_random_faults_and_a_crash_at_a_random_point_then_resume(
    delete_calls: DeleteCalls, fake: FakeRegistry, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    with client_for(fake) as client:
        plans = [p for p in retention.plan_registry(client, REGISTRY, EVERYTHING, now=NOW) if p.candidates]
    before = {name: digests(fake, name) for name in fake.repositories(REGISTRY)}
    fake.clear_requests()
    fake.fail_randomly(
        0.25, kinds=(429, 500, 503, "reset", "lost", "truncated"), seed=seed, operation="delete_manifest"
    )
    crashes = 0
    for plan in plans:
        journal = tmp_path / f"{plan.repository.replace('/', '_')}.journal"
        for _ in range(40):
            crash_after = rng.randrange(1, len(plan.candidates) + 1)

            def crash(event: retention.ApplyEvent, limit: int = crash_after) -> None:
                if event.completed >= limit and rng.random() < 0.5:
                    raise Crash

            try:
                with client_for(fake, max_retries=2) as client:
                    report = retention.apply(client, plan, journal=journal, on_progress=crash, concurrency=4)
            except Crash:
                crashes += 1
                continue
            if report.complete:
                break
        else:
            pytest.fail(f"{plan.repository} never completed")
        assert len(report.deleted) == len(plan.candidates)
    assert crashes > 0
    expected = {c.digest for plan in plans for c in plan.candidates}
    delete_calls.check(fake, expected)
    for name, had in before.items():
        gone = {c.digest for plan in plans if plan.repository == name for c in plan.candidates}
        assert digests(fake, name) == had - gone


def test_a_crash_with_deletes_in_flight_resumes_from_the_listing(fake: FakeRegistry, tmp_path: Path) -> None:
    """The journal says ``attempt`` and nothing more: gone means deleted (no DELETE); there means send it."""
    plan = planned(fake, "tools/migrate")
    landed, lost = plan.candidates[0].digest, plan.candidates[1].digest
    journal = retention.Journal(tmp_path / "j", plan.id)
    journal.record(landed, "attempt")
    journal.record(lost, "attempt")
    fake.delete_manifests(REGISTRY, "tools/migrate", [landed])  # the first DELETE had gone out
    with client_for(fake) as client:
        report = retention.apply(client, plan, journal=tmp_path / "j")
    assert report.complete
    assert set(report.deleted) == {c.digest for c in plan.candidates}  # the landed one counts as deleted
    sent = [deleted_digest(r) for r in fake.requests if r.operation == "delete_manifest"]
    assert sorted(sent) == sorted(c.digest for c in plan.candidates[1:])


CHILD = """
import sys
import docr
from docr import retention

plan = retention.Plan.from_json(open(sys.argv[1]).read())
with docr.Client("t", base_url=sys.argv[3], oci_base_url=sys.argv[4]) as client:
    retention.apply(client, plan, journal=sys.argv[2], concurrency=3)
"""


@pytest.mark.parametrize("kill_at", [1, 4, 9])
def test_a_killed_process_resumes_from_its_journal(
    delete_calls: DeleteCalls, fake: FakeRegistry, tmp_path: Path, kill_at: int
) -> None:
    plan = planned(fake)
    (tmp_path / "plan.json").write_text(plan.to_json())
    before = digests(fake, REPOSITORY)
    child: subprocess.Popen[bytes] | None = None
    seen = 0

    def kill(request: RecordedRequest) -> None:
        nonlocal seen
        if request.operation == "delete_manifest":
            seen += 1
            if seen == kill_at and child is not None:
                os.kill(child.pid, signal.SIGKILL)  # mid-request: this DELETE lands, its answer does not

    fake.on_request(kill)
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    args = [sys.executable, str(script), str(tmp_path / "plan.json"), str(tmp_path / "j"), fake.url, fake.oci_url]
    child = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    assert child.wait(timeout=60) == -signal.SIGKILL
    fake.on_request(None)
    while fake.in_flight:  # the dead process's requests already sent are still being answered
        time.sleep(0.01)
    journal = retention.Journal(tmp_path / "j", plan.id)
    assert journal.pending()  # it died with deletes in flight
    with client_for(fake) as client:
        report = retention.apply(client, plan, journal=tmp_path / "j")
    going = {c.digest for c in plan.candidates}
    assert report.complete and set(report.deleted) == going
    assert digests(fake, REPOSITORY) == before - going
    # The process that resumed sent a DELETE only for what was still there; the killed one's landed.
    resent = {digest for digest, _ in delete_calls.calls}
    assert resent and resent < going
    delete_calls.check(fake, going, called=resent)


# -- changes during an apply ----------------------------------------------------------------------


def test_a_candidate_tagged_during_the_apply_is_skipped_with_its_children(fake: FakeRegistry) -> None:
    plan = planned(fake)
    index = plan.candidates[0]
    entry = next(m for m in fake.manifests(REGISTRY, REPOSITORY) if m["digest"] == index.digest)

    def tag_it(request: RecordedRequest) -> None:
        if request.operation == "list_manifests":  # the apply's re-read: someone tags it just now
            fake.on_request(None)
            fake.add_manifests(REGISTRY, REPOSITORY, [{**entry, "tags": ["hotfix"]}])

    fake.on_request(tag_it)
    with client_for(fake) as client:
        report = retention.apply(client, plan)
    children = {c.digest for c in plan.candidates if c.via == index.digest}
    assert report.skipped == {
        index.digest: "tagged hotfix since the plan",
        **{child: f"kept with {index.digest}, which is skipped" for child in children},
    }
    rest = {c.digest for c in plan.candidates} - children - {index.digest}
    assert set(report.deleted) == rest and report.complete
    assert {index.digest, *children} <= digests(fake, REPOSITORY)
    sent = {deleted_digest(r) for r in fake.requests if r.operation == "delete_manifest"}
    assert sent == rest


def test_a_push_during_the_apply_that_uses_a_candidate_protects_it(fake: FakeRegistry) -> None:
    plan = planned(fake)
    loose = next(c for c in plan.candidates if c.rule == "index-child")
    pushed: list[str] = []

    def push(request: RecordedRequest) -> None:
        if request.operation == "list_manifests" and not pushed:
            # A new manifest the listing shows but whose body nobody can read yet: any candidate may be its child.
            pushed.append("sha256:" + "c" * 64)
            fake.add_manifests(REGISTRY, REPOSITORY, [{"digest": pushed[0], "updated_at": "2026-05-01T12:00:00Z"}])

    fake.on_request(push)
    with client_for(fake) as client:
        report = retention.apply(client, plan)
    assert report.deleted == () and set(report.skipped) == {c.digest for c in plan.candidates}
    assert "appeared since the plan and were not read" in report.skipped[loose.digest]
    assert not [r for r in fake.requests if r.operation == "delete_manifest"]


def test_a_normal_run_meets_no_429_under_the_rate_limit(fake: FakeRegistry) -> None:
    """The fake enforces DigitalOcean's two limits, a minute lasting a second; the client paces
    itself a little under them (arrival times jitter on a busy machine) and never meets a 429."""
    for day in range(60):  # stale builds: 60 more deletes
        fake.push_image(REGISTRY, "scratch", layers=[100 + day], updated_at=NOW - dt.timedelta(days=30 + day))
    fake.rate_limit(per_minute=36, per_hour=5000, time_scale=60)
    limits = docr.RateLimits(per_minute=30, per_hour=5000, time_scale=60)
    with client_for(fake, sleeps=True, rate_limits=limits, max_retries=0) as client:
        plans = retention.plan_registry(client, REGISTRY, EVERYTHING, now=NOW)
        reports = [retention.apply(client, plan) for plan in plans]
    api_requests = [r for r in fake.requests if r.api == "do"]
    assert len(api_requests) > 2 * 36  # enough to cross the per-minute limit twice over
    assert fake.rate_limited == 0
    assert all(report.complete for report in reports)
