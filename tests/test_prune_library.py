"""``docr.retention.plan``, ``plan_registry`` and ``apply`` (and their async twins) against the fake.

The helpers here (the seeded fake, clients, DELETE accounting) are shared by the other prune tests.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import docr
from docr import retention
from docr.retention import Plan, Policy
from docr.testing import FakeRegistry, RecordedRequest
from docr.testing._demo import DEMO_NOW

NOW = DEMO_NOW
REGISTRY = "example"
EVERYTHING = retention.parse_policy_file('[[policy]]\nrepositories = "*"\n')


def seeded() -> Iterator[FakeRegistry]:
    """The fake holding the demo registry (``seed_demo``), garbage collections instant."""
    with FakeRegistry() as registry:
        registry.seed_demo(REGISTRY, now=NOW)
        registry.gc_step_seconds = 0
        yield registry


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    yield from seeded()


def client_for(fake: FakeRegistry, *, sleeps: bool = False, **options: Any) -> docr.Client:
    """A client of the fake; unless ``sleeps``, retries and pacing do not wait (fault tests)."""
    client = docr.Client("t", base_url=fake.url, oci_base_url=fake.oci_url, **options)
    if not sleeps:
        client._sleep = lambda seconds: None  # type: ignore[method-assign]
    return client


def digests(fake: FakeRegistry, repository: str) -> set[str]:
    return {m["digest"] for m in fake.manifests(REGISTRY, repository)}


def deleted_digest(request: RecordedRequest) -> str:
    return request.path.rsplit("/", 1)[1]


def acted(request: RecordedRequest) -> bool:
    """A DELETE the registry may have performed: answered 2xx, or its answer lost (performed if it was there)."""
    return request.fault == "lost" or (request.status is not None and 200 <= request.status < 300)


class DeleteCalls:
    """Every ``Client.delete_manifest`` call in this process, and whether its manifest was still there.

    "No delete sent twice": no call starts for a manifest already deleted. (Within one call the
    client may retry after a lost answer; the retry finds it gone, which is how it learns it is done.)
    """

    def __init__(self, fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, bool]] = []
        original = docr.Client.delete_manifest

        def spy(client: docr.Client, registry: str, repository: str, digest: str) -> None:
            self.calls.append((digest, digest in digests(fake, repository)))
            original(client, registry, repository, digest)

        monkeypatch.setattr(docr.Client, "delete_manifest", spy)

    def check(self, fake: FakeRegistry, expected: set[str], called: set[str] | None = None) -> None:
        """``expected`` were deleted and nothing else; ``called``: the digests this process sent (all)."""
        assert [digest for digest, present in self.calls if not present] == []
        assert {digest for digest, _ in self.calls} == (expected if called is None else called)
        first_acts = {deleted_digest(r) for r in fake.requests if r.operation == "delete_manifest" and acted(r)}
        assert first_acts == expected  # nothing else was deleted


@pytest.fixture
def delete_calls(fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> DeleteCalls:
    return DeleteCalls(fake, monkeypatch)


def index_children(fake: FakeRegistry, repository: str) -> dict[str, list[str]]:
    """Each index of the repository (as the fake pushed it) and its children."""
    found = {}
    for digest in digests(fake, repository):
        info = fake.manifest_info(REGISTRY, repository, digest)
        if info is not None and info["kind"] == "index":
            found[digest] = list(info["children"])
    return found


# -- plan -----------------------------------------------------------------------------------------


def test_plan_reads_every_body_once_and_takes_children_only_with_their_index(fake: FakeRegistry) -> None:
    with client_for(fake) as client:
        plan = retention.plan(client, REGISTRY, "web/frontend", Policy(), now=NOW)
    reads = collections.Counter(deleted_digest(r) for r in fake.requests if r.operation == "oci_manifest")
    assert set(reads) == digests(fake, "web/frontend")
    assert sum(reads.values()) == len(reads) + 1  # the first read meets the token challenge once
    indexes = index_children(fake, "web/frontend")
    going = {c.digest for c in plan.candidates}
    assert going and plan.notes == ()
    for parent, children in indexes.items():
        if parent in going:
            assert set(children) <= going  # a stale index takes its children
        else:
            assert not set(children) & going  # a kept one keeps every one of them
    position = {c.digest: n for n, c in enumerate(plan.candidates)}
    assert all(position[p] < position[c] for p, cs in indexes.items() if p in going for c in cs)
    assert plan.created_at == NOW and plan.protected == 24


def test_a_body_that_cannot_be_read_fails_closed(fake: FakeRegistry) -> None:
    fake.add_manifests(
        REGISTRY, "web/frontend", [{"digest": "sha256:" + "ab" * 32, "updated_at": "2026-01-01T00:00:00Z"}]
    )
    with client_for(fake) as client:
        plan = retention.plan(client, REGISTRY, "web/frontend", Policy(), now=NOW)
    assert plan.candidates == ()
    assert plan.decisions.fail_closed
    assert f"sha256:{'ab' * 32} (not found (404))" in plan.notes[0]


def test_bodies_are_read_a_bounded_number_at_a_time(fake: FakeRegistry) -> None:
    fake.latency = 0.01
    with client_for(fake) as client:
        retention.plan(client, REGISTRY, "web/frontend", Policy(), now=NOW, concurrency=3)
    assert 1 < fake.max_in_flight <= 3


def test_arguments_are_checked_before_any_request(fake: FakeRegistry) -> None:
    with client_for(fake) as client:
        with pytest.raises(TypeError, match="Policy"):
            retention.plan(client, REGISTRY, "web/frontend", {"keep_last": 1}, now=NOW)  # type: ignore[arg-type]
        with pytest.raises(docr.InvalidArgument, match="concurrency"):
            retention.plan(client, REGISTRY, "web/frontend", Policy(), concurrency=0)
        with pytest.raises(ValueError, match="timezone-aware"):
            retention.plan(client, REGISTRY, "web/frontend", Policy(), now=NOW.replace(tzinfo=None))
    assert fake.requests == []


def test_plan_registry_plans_what_a_section_matches_and_counts_blobs_registry_wide(fake: FakeRegistry) -> None:
    shared = fake.blob(7_000_000)
    fake.push_image(REGISTRY, "tools/lint", tags=["latest"], layers=[shared, 1000], updated_at=NOW)
    stale = fake.push_image(REGISTRY, "web/old", layers=[shared, 2000], updated_at=NOW.replace(year=2025))
    policies = retention.parse_policy_file(
        '[[policy]]\nrepositories = ["web/*"]\nkeep_last = 2\n[[policy]]\nrepositories = "api"\nuntagged = "keep"\n'
    )
    seen: list[str] = []
    with client_for(fake) as client:
        plans = retention.plan_registry(client, REGISTRY, policies, now=NOW, on_repository=seen.append)
        alone = retention.plan(client, REGISTRY, "web/old", Policy(keep_last=2), now=NOW)
    # Every repository is read (GC is registry-wide), each once; walked at once, they complete in any order.
    assert sorted(seen) == sorted(fake.repositories(REGISTRY)) and len(set(seen)) == len(seen)
    assert [p.repository for p in plans] == ["api", "web/admin", "web/frontend", "web/old"]
    by_name = {p.repository: p for p in plans}
    assert by_name["web/admin"].policy == Policy(keep_last=2)
    assert by_name["api"].policy == Policy(untagged="keep")
    assert [c.digest for c in by_name["web/old"].candidates] == [stale]
    # The shared layer is still used by tools/lint (which no section covers): it frees nothing.
    assert alone.decisions.blob_sizes[shared[0]] == 7_000_000
    assert shared[0] not in by_name["web/old"].decisions.blob_sizes
    assert by_name["web/old"].freed_bytes == alone.freed_bytes - 7_000_000 > 0


def test_plan_registry_reads_a_policy_file_by_path(fake: FakeRegistry, tmp_path: Path) -> None:
    path = tmp_path / "retention.toml"
    path.write_text('[[policy]]\nrepositories = "tools/*"\n')
    with client_for(fake) as client:
        plans = retention.plan_registry(client, REGISTRY, path, now=NOW)
    assert [(p.repository, len(p.candidates)) for p in plans] == [("tools/migrate", 3)]


# -- apply ----------------------------------------------------------------------------------------


def test_apply_deletes_exactly_the_candidates_indexes_before_their_children(
    fake: FakeRegistry, delete_calls: DeleteCalls
) -> None:
    before = digests(fake, "web/frontend")
    indexes = index_children(fake, "web/frontend")
    parents = {child: parent for parent, children in indexes.items() for child in children}
    early: list[str] = []

    def check(request: RecordedRequest) -> None:
        if request.operation == "delete_manifest":
            digest = deleted_digest(request)
            if digest in indexes:
                time.sleep(0.05)  # an index's DELETE is slow: a child sent alongside it would show
            parent = parents.get(digest)
            if parent is not None and parent in digests(fake, "web/frontend"):
                early.append(digest)

    events: list[retention.ApplyEvent] = []
    with client_for(fake) as client:
        plan = retention.plan(client, REGISTRY, "web/frontend", Policy(), now=NOW)
        fake.clear_requests()
        fake.on_request(check)
        report = retention.apply(client, plan, on_progress=events.append)
    going = {c.digest for c in plan.candidates}
    assert digests(fake, "web/frontend") == before - going
    delete_calls.check(fake, going)
    assert len(delete_calls.calls) == len(going)
    assert early == []  # no child's DELETE went out while its index was still there
    assert fake.max_in_flight > 1  # and yet deletes ran concurrently
    assert report.complete and set(report.deleted) == going
    assert report.freed_bytes == plan.freed_bytes
    assert [e.completed for e in events] == list(range(1, len(going) + 1))
    assert {(e.outcome, e.total) for e in events} == {("deleted", len(going))}


def test_apply_journals_every_outcome_and_a_rerun_sends_nothing(fake: FakeRegistry, tmp_path: Path) -> None:
    journal = tmp_path / "prune.journal"
    with client_for(fake) as client:
        plan = retention.plan(client, REGISTRY, "tools/migrate", Policy(), now=NOW)
        first = retention.apply(client, plan, journal=journal)
        fake.clear_requests()
        again = retention.apply(client, plan, journal=journal)
    assert fake.requests == []
    assert again == first and len(first.deleted) == 3
    lines = journal.read_text().splitlines()
    assert len(lines) == 1 + 2 * 3  # the header, then an attempt and an outcome for each


def test_a_journal_of_another_plan_is_refused(fake: FakeRegistry, tmp_path: Path) -> None:
    with client_for(fake) as client:
        plan = retention.plan(client, REGISTRY, "tools/migrate", Policy(), now=NOW)
        other = retention.plan(client, REGISTRY, "web/admin", Policy(), now=NOW)
        retention.apply(client, other, journal=tmp_path / "j")
        with pytest.raises(retention.JournalError, match="belongs to plan"):
            retention.apply(client, plan, journal=tmp_path / "j")
        with pytest.raises(docr.InvalidArgument, match="belongs to plan"):
            retention.apply(client, plan, journal=retention.Journal(None, other.id))


def test_a_saved_plan_applies_from_its_json(fake: FakeRegistry) -> None:
    with client_for(fake) as client:
        text = retention.plan(client, REGISTRY, "web/admin", Policy(), now=NOW).to_json()
        report = retention.apply(client, Plan.from_json(text))
    assert len(report.deleted) == 2 and report.complete


def test_garbage_collection_frees_what_the_registry_wide_plans_estimated(fake: FakeRegistry) -> None:
    with client_for(fake) as client:
        plans = retention.plan_registry(client, REGISTRY, EVERYTHING, now=NOW)
        estimate = sum({b: s for p in plans for b, s in p.decisions.blob_sizes.items()}.values())
        for plan in plans:
            assert retention.apply(client, plan).complete
        started = client.start_garbage_collection(REGISTRY, untagged_manifests=False)
        collection = client.wait_garbage_collection(REGISTRY, started.uuid, poll_interval=0.01)
    assert collection.freed_bytes == estimate > 0


# -- asyncio --------------------------------------------------------------------------------------


def test_aplan_and_aapply_do_what_plan_and_apply_do(fake: FakeRegistry) -> None:
    with client_for(fake) as client:
        expected = retention.plan(client, REGISTRY, "web/frontend", Policy(), now=NOW)
        registry_wide = retention.plan_registry(client, REGISTRY, EVERYTHING, now=NOW)
    before = digests(fake, "web/frontend")

    async def main() -> tuple[Plan, list[Plan], retention.ApplyReport]:
        async with docr.AsyncClient("t", base_url=fake.url, oci_base_url=fake.oci_url) as client:
            plan = await retention.aplan(client, REGISTRY, "web/frontend", Policy(), now=NOW, concurrency=3)
            plans = await retention.aplan_registry(client, REGISTRY, EVERYTHING, now=NOW)
            fake.clear_requests()
            fake.latency = 0.005
            report = await retention.aapply(client, plan, concurrency=3)
        return plan, plans, report

    plan, plans, report = asyncio.run(main())
    assert plan.id == expected.id
    assert [p.id for p in plans] == [p.id for p in registry_wide]
    going = {c.digest for c in plan.candidates}
    assert set(report.deleted) == going and report.complete
    assert digests(fake, "web/frontend") == before - going
    sent = collections.Counter(deleted_digest(r) for r in fake.requests if r.operation == "delete_manifest")
    assert sent == collections.Counter(going)  # no faults: one DELETE each
    assert 1 < fake.max_in_flight <= 3
