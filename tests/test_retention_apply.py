"""Applying a plan: re-checks before each delete, a journal that resumes after a crash and never
sends a delete twice, and the report."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

import docr
from docr._oci import OCI_INDEX, OCIDescriptor, OCIManifest
from docr.retention import ALREADY_GONE, ApplyReport, Journal, JournalError, Plan, Policy, stale_candidates
from tests.test_retention_planner import DAY, NOW, Blob, Listed, image, sha


def make_plan() -> tuple[Plan, list[Listed]]:
    listing = [
        Listed(sha("latest"), ["latest"], NOW - 2 * DAY, 100, [Blob(sha("base"), 100)]),
        Listed(sha("a"), [], NOW - 5 * DAY, 110, [Blob(sha("base"), 100), Blob(sha("la"), 10)]),
        Listed(sha("b"), [], NOW - 4 * DAY, 120, [Blob(sha("base"), 100), Blob(sha("lb"), 20), Blob(sha("ab"), 5)]),
        Listed(sha("c"), ["v0"], NOW - 40 * DAY, 105, [Blob(sha("ab"), 5), Blob(sha("lc"), 30)]),
    ]
    bodies = {m.digest: image(name) for m, name in zip(listing, ("latest", "a", "b", "c"), strict=True)}
    plan = Plan.create(
        listing,
        registry="example",
        repository="web/app",
        policy=Policy(tagged_older_than=30 * DAY),
        now=NOW,
        oci=bodies,
        unreadable={},
    )
    assert [c.digest for c in plan.candidates] == [sha("c"), sha("a"), sha("b")]
    return plan, listing


class TestStaleCandidates:
    def test_nothing_changed(self) -> None:
        plan, listing = make_plan()
        assert stale_candidates(plan, listing) == {}

    def test_changes_since_the_plan_skip_the_candidate(self) -> None:
        plan, listing = make_plan()
        now = [dataclasses.replace(m) for m in listing]
        now[1].tags = ["v9"]  # a: tagged since
        now[3].tags = []  # c: untagged since
        now[2].updated_at = NOW  # b: updated since
        assert stale_candidates(plan, now) == {
            sha("a"): "tagged v9 since the plan",
            sha("c"): "untagged since the plan (was v0)",
            sha("b"): "updated since the plan (2024-05-28T12:00:00Z -> 2024-06-01T12:00:00Z)",
        }
        now[3].tags = ["v00"]
        assert stale_candidates(plan, now)[sha("c")] == "tagged v00 since the plan"
        now[3].tags = ["v0", "v0"]
        assert sha("c") not in stale_candidates(plan, now)

    def test_a_candidate_that_is_gone_is_already_gone(self) -> None:
        plan, listing = make_plan()
        assert stale_candidates(plan, [m for m in listing if m.digest != sha("a")]) == {sha("a"): ALREADY_GONE}

    def test_naive_times_are_utc(self) -> None:
        plan, listing = make_plan()
        naive = [dataclasses.replace(m, updated_at=m.updated_at and m.updated_at.replace(tzinfo=None)) for m in listing]
        assert stale_candidates(plan, naive) == {}

    def test_a_new_index_that_uses_a_candidate_protects_it(self) -> None:
        plan, listing = make_plan()
        new = Listed(sha("new-index"), ["v2"], NOW)
        body = OCIManifest(sha("new-index"), OCI_INDEX, children=(OCIDescriptor(sha("b"), OCI_INDEX, 1),))
        assert stale_candidates(plan, [*listing, new], oci={new.digest: body}) == {
            sha("b"): f"now a child of {sha('new-index')}, which appeared since the plan"
        }
        assert stale_candidates(plan, [*listing, new], oci={new.digest: image("new-index")}) == {}

    def test_an_unread_new_manifest_fails_closed(self) -> None:
        plan, listing = make_plan()
        stale = stale_candidates(plan, [*listing, Listed(sha("new"), [], NOW)])
        assert set(stale) == {sha("a"), sha("b"), sha("c")}
        assert all("1 manifest(s) appeared since the plan and were not read" in why for why in stale.values())


class TestJournal:
    def test_records_are_lines_after_a_header(self, tmp_path: Path) -> None:
        plan, _ = make_plan()
        path = tmp_path / "prune.journal"
        journal = Journal(path, plan.id)
        journal.record(sha("a"), "attempt")
        journal.record(sha("a"), "deleted", status=202)
        journal.record(sha("b"), "failed", error="503 Service Unavailable")
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert lines == [
            {"format": "docr.retention.journal/1", "plan": plan.id},
            {"digest": sha("a"), "outcome": "attempt"},
            {"digest": sha("a"), "outcome": "deleted", "status": 202},
            {"digest": sha("b"), "outcome": "failed", "error": "503 Service Unavailable"},
        ]
        again = Journal(path, plan.id)
        assert again.done() == {sha("a")} and again.pending() == set()
        assert again.entries() == journal.entries()

    def test_every_record_is_fsynced(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        plan, _ = make_plan()
        journal = Journal(tmp_path / "j", plan.id)
        synced: list[int] = []
        real_fsync = os.fsync
        monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
        journal.record(sha("a"), "attempt")
        journal.record(sha("a"), "deleted")
        assert len(synced) == 2

    def test_another_plans_journal_is_refused(self, tmp_path: Path) -> None:
        plan, _ = make_plan()
        path = tmp_path / "prune.journal"
        Journal(path, plan.id).record(sha("a"), "deleted")
        with pytest.raises(JournalError, match=f"belongs to plan '{plan.id}', not {sha('other')}") as info:
            Journal(path, sha("other"))
        assert isinstance(info.value, docr.InvalidArgument)
        path.write_text("hello\nworld\n")
        with pytest.raises(JournalError, match="is not a docr journal"):
            Journal(path, plan.id)

    def test_a_torn_last_line_is_dropped_and_cut_off(self, tmp_path: Path) -> None:
        plan, _ = make_plan()
        path = tmp_path / "prune.journal"
        Journal(path, plan.id).record(sha("a"), "deleted")
        with path.open("ab") as file:
            file.write(
                b'{"digest": "sha256:6',
            )  # the crash
        journal = Journal(path, plan.id)
        assert journal.done() == {sha("a")}
        journal.record(sha("b"), "deleted")
        assert [json.loads(line)["outcome"] for line in path.read_text().splitlines()[1:]] == ["deleted", "deleted"]
        assert Journal(path, plan.id).done() == {sha("a"), sha("b")}

    def test_zeros_after_a_power_loss_are_dropped(self, tmp_path: Path) -> None:
        plan, _ = make_plan()
        path = tmp_path / "prune.journal"
        Journal(path, plan.id).record(sha("a"), "deleted")
        with path.open("ab") as file:
            file.write(b"\x00" * 40 + b"\n")
        assert Journal(path, plan.id).done() == {sha("a")}
        assert path.read_bytes().endswith(b'"deleted"}\n')

    def test_a_torn_header_starts_over(self, tmp_path: Path) -> None:
        plan, _ = make_plan()
        path = tmp_path / "prune.journal"
        path.write_bytes(b'{"format": "docr.retention.jour')
        assert Journal(path, plan.id).entries() == ()
        assert json.loads(path.read_text()) == {"format": "docr.retention.journal/1", "plan": plan.id}

    def test_damage_before_the_last_line_is_refused(self, tmp_path: Path) -> None:
        plan, _ = make_plan()
        path = tmp_path / "prune.journal"
        journal = Journal(path, plan.id)
        journal.record(sha("a"), "deleted")
        journal.record(sha("b"), "deleted")
        lines = path.read_bytes().split(b"\n")
        lines[1] = lines[1][:10]
        path.write_bytes(b"\n".join(lines))
        with pytest.raises(JournalError, match="line 2 is damaged"):
            Journal(path, plan.id)

    @pytest.mark.parametrize(
        ("digest", "outcome", "details", "argument"),
        [
            ("sha256:nope", "deleted", {}, "digest"),
            (sha("a"), "exploded", {}, "outcome"),
            (sha("a"), "failed", {"error": object()}, "details"),
        ],
    )
    def test_bad_records_are_refused(
        self, tmp_path: Path, digest: str, outcome: str, details: dict[str, object], argument: str
    ) -> None:
        plan, _ = make_plan()
        journal = Journal(tmp_path / "j", plan.id)
        with pytest.raises(docr.InvalidArgument) as info:
            journal.record(digest, outcome, **details)  # type: ignore[arg-type]
        assert info.value.argument == argument
        assert journal.entries() == () and len((tmp_path / "j").read_text().splitlines()) == 1

    def test_a_journal_needs_a_plan_id(self, tmp_path: Path) -> None:
        with pytest.raises(docr.InvalidArgument, match="plan_id"):
            Journal(tmp_path / "j", "my plan")


class Crash(Exception):
    pass


@dataclasses.dataclass
class FakeRegistry:
    listing: list[Listed]
    deletes: list[str] = dataclasses.field(default_factory=list)
    crash_after: int | None = None  # crash once, after this many deletes, before the journal hears of it

    def delete(self, digest: str) -> None:
        self.deletes.append(digest)
        self.listing = [m for m in self.listing if m.digest != digest]
        if self.crash_after is not None and len(self.deletes) == self.crash_after:
            self.crash_after = None
            raise Crash


def apply(plan: Plan, registry: FakeRegistry, path: Path) -> ApplyReport:
    """The apply loop the command will run, on the pure parts."""
    journal = Journal(path, plan.id)
    done = journal.done()
    stale = stale_candidates(plan, registry.listing)
    for candidate in plan.candidates:
        digest = candidate.digest
        if digest in done:
            continue
        if digest in stale:
            gone = stale[digest] == ALREADY_GONE
            journal.record(digest, "already-gone" if gone else "skipped", why=stale[digest])
            continue
        journal.record(digest, "attempt")
        registry.delete(digest)
        journal.record(digest, "deleted")
    return ApplyReport.from_journal(plan, journal)


def test_a_crash_mid_apply_resumes_without_deleting_twice(tmp_path: Path) -> None:
    plan, listing = make_plan()
    registry = FakeRegistry(list(listing), crash_after=2)
    path = tmp_path / "prune.journal"
    with pytest.raises(Crash):
        apply(plan, registry, path)
    interrupted = ApplyReport.from_journal(plan, Journal(path, plan.id))
    assert interrupted.deleted == (sha("c"),) and interrupted.unfinished == (sha("a"), sha("b"))
    assert Journal(path, plan.id).pending() == {sha("a")}  # its DELETE went out; the journal never heard back
    assert not interrupted.complete

    report = apply(plan, registry, path)

    assert registry.deletes == [sha("c"), sha("a"), sha("b")]  # each exactly once
    # a's DELETE went out before the crash: found gone after an attempt, it counts as deleted.
    assert report.deleted == (sha("c"), sha("a"), sha("b")) and report.already_gone == ()
    assert report.complete and report.skipped == {} and report.failed == {}
    assert report.freed_bytes == plan.decisions.freed_bytes == 10 + 20 + 5 + 30
    assert apply(plan, registry, path).deleted == report.deleted  # a third run does nothing
    assert registry.deletes == [sha("c"), sha("a"), sha("b")]


def test_the_report_counts_only_what_was_deleted(tmp_path: Path) -> None:
    plan, listing = make_plan()
    registry = FakeRegistry([dataclasses.replace(m, tags=["pinned"]) if m.digest == sha("b") else m for m in listing])
    journal = Journal(tmp_path / "j", plan.id)
    report = apply(plan, registry, tmp_path / "j")
    assert report.skipped == {sha("b"): "tagged pinned since the plan"}
    assert report.deleted == (sha("c"), sha("a"))
    # "ab" is shared by b (kept now) and c: it is not freed; c's own layer and a's are.
    assert report.freed_bytes == 30 + 10
    journal.record(sha("b"), "failed", error="500 boom")
    failed = ApplyReport.from_journal(plan, Journal(tmp_path / "j", plan.id))
    assert failed.failed == {sha("b"): "500 boom"} and not failed.complete


def test_a_report_needs_the_plans_journal(tmp_path: Path) -> None:
    plan, _ = make_plan()
    with pytest.raises(ValueError, match="belongs to plan"):
        ApplyReport.from_journal(plan, Journal(tmp_path / "j", sha("other")))


def test_manifests_gone_before_the_apply_are_already_gone(tmp_path: Path) -> None:
    plan, listing = make_plan()
    registry = FakeRegistry([m for m in listing if m.digest != sha("a")])  # someone else deleted a
    report = apply(plan, registry, tmp_path / "j")
    assert registry.deletes == [sha("c"), sha("b")]
    assert report.deleted == (sha("c"), sha("b")) and report.already_gone == (sha("a"),)
    assert report.freed_bytes == 30 + 5 + 20  # a's own layer was freed by whoever deleted it
