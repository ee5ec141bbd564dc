"""The apply's schedule over plain data (no server): order, hold-backs, fail closed, resume."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docr.retention import Plan, Policy
from docr.retention._schedule import Event, Schedule
from tests.test_retention_planner import DAY, NOW, Listed, image, index, referrer, sha

# Two stale untagged indexes (old-1 and old-2) share a child; old-1 has an attestation; a
# signature names old-2; "loose" is a plain untagged image; "latest" stays.
LISTING = [
    Listed(sha("latest"), ["latest"], NOW - DAY),
    Listed(sha("old-1"), [], NOW - 9 * DAY),
    Listed(sha("old-2"), [], NOW - 8 * DAY),
    Listed(sha("amd"), [], NOW - 9 * DAY),
    Listed(sha("arm"), [], NOW - 9 * DAY),
    Listed(sha("att"), [], NOW - 9 * DAY),
    Listed(sha("shared"), [], NOW - 9 * DAY),
    Listed(sha("sig"), [], NOW - 8 * DAY),
    Listed(sha("loose"), [], NOW - 7 * DAY),
]
BODIES = {
    body.digest: body
    for body in (
        image("latest"),
        index("old-1", "amd", "shared", attestations=[("att", "amd")]),
        index("old-2", "arm", "shared"),
        image("amd"),
        image("arm"),
        image("att"),
        image("shared"),
        referrer("sig", "old-2"),
        image("loose"),
    )
}
NAMES = {sha(name): name for name in ("latest", "old-1", "old-2", "amd", "arm", "att", "shared", "sig", "loose")}


def make_plan() -> Plan:
    plan = Plan.create(
        LISTING, registry="example", repository="app", policy=Policy(), now=NOW, oci=BODIES, unreadable={}
    )
    assert {NAMES[c.digest] for c in plan.candidates} == set(NAMES.values()) - {"latest"}
    return plan


def schedule(plan: Plan, **changes: object) -> Schedule:
    options: dict[str, object] = {"done": set(), "current": LISTING, "oci": BODIES, "unreadable": {}}
    options.update(changes)
    return Schedule(plan, **options)  # type: ignore[arg-type]


def drain(run: Schedule, room: int = 8, failing: frozenset[str] = frozenset()) -> tuple[list[list[str]], list[Event]]:
    """Run the schedule to the end, ``room`` at a time, finishing each wave in order; returns the waves."""
    waves: list[list[str]] = []
    events: list[Event] = []
    while not run.finished:
        wave = run.ready(room)
        assert wave, "stalled"
        waves.append([NAMES[d] for d in wave])
        for digest in wave:
            failed = NAMES[digest] in failing
            events += run.finish(digest, "failed" if failed else "deleted", {"error": "500"} if failed else None)
    return waves, events


def test_what_references_another_goes_first() -> None:
    waves, events = drain(schedule(make_plan()))
    position = {name: number for number, wave in enumerate(waves) for name in wave}
    for first, then in [
        ("old-1", "amd"),
        ("old-1", "shared"),
        ("old-2", "shared"),  # both indexes of a shared child go before it
        ("old-2", "arm"),
        ("att", "amd"),  # an attestation before the image it describes
        ("sig", "old-2"),  # a referrer before its subject
    ]:
        assert position[first] < position[then], (first, then)
    assert waves[0] == ["old-1", "sig", "loose"]  # the free ones at once, in the plan's order
    assert [e.outcome for e in events] == ["deleted"] * 8


def test_room_bounds_what_is_in_flight() -> None:
    run = schedule(make_plan())
    started = run.ready(2)
    assert [NAMES[d] for d in started] == ["old-1", "sig"]
    assert run.in_flight == 2
    assert run.ready(0) == []
    for digest in started:
        run.finish(digest, "deleted")
    assert run.in_flight == 0
    waves, _ = drain(run, room=1)
    assert all(len(wave) == 1 for wave in waves)


def test_a_failed_index_keeps_its_children_but_not_what_only_waited_for_it() -> None:
    waves, events = drain(schedule(make_plan()), failing=frozenset({"old-1"}))
    outcomes = {NAMES[e.digest]: e.outcome for e in events}
    assert outcomes == {
        "old-1": "failed",
        "amd": "skipped",
        "shared": "skipped",
        "att": "skipped",
        "sig": "deleted",
        "old-2": "deleted",
        "arm": "deleted",
        "loose": "deleted",
    }
    why = {NAMES[e.digest]: e.details.get("why") for e in events}
    assert why["amd"] == f"kept with {sha('old-1')}, which could not be deleted"
    assert "amd" not in {name for wave in waves for name in wave}


def test_a_failed_referrer_does_not_hold_back_its_subject() -> None:
    _, events = drain(schedule(make_plan()), failing=frozenset({"sig"}))
    assert {NAMES[e.digest]: e.outcome for e in events}["old-2"] == "deleted"


def test_a_retagged_index_is_skipped_with_everything_it_lists() -> None:
    current = [dataclasses.replace(m, tags=["v2"]) if m.digest == sha("old-2") else m for m in LISTING]
    run = schedule(make_plan(), current=current)
    held = {"old-2": "skipped", "arm": "skipped", "shared": "skipped", "sig": "skipped"}  # sig: its subject stays
    assert {NAMES[e.digest]: e.outcome for e in run.initial} == held
    assert run.initial[0].details == {"why": "tagged v2 since the plan"}
    assert {e.details["why"] for e in run.initial[1:]} == {f"kept with {sha('old-2')}, which is skipped"}
    waves, _ = drain(run)
    assert sorted(name for wave in waves for name in wave) == ["amd", "att", "loose", "old-1"]


def test_gone_and_done_candidates_are_not_scheduled() -> None:
    current = [m for m in LISTING if m.digest != sha("loose")]
    run = schedule(make_plan(), current=current, done={sha("sig"), sha("old-1")})
    assert [(NAMES[e.digest], e.outcome) for e in run.initial] == [("loose", "already-gone")]
    waves, _ = drain(run)
    assert "old-1" not in {name for wave in waves for name in wave}
    assert waves[0] == ["att", "amd", "old-2"]  # old-1 is done: what waited for it is free


def test_an_unreadable_candidate_fails_closed() -> None:
    bodies = {d: b for d, b in BODIES.items() if d != sha("loose")}
    run = schedule(make_plan(), oci=bodies, unreadable={sha("loose"): "not found (404)"})
    assert {e.outcome for e in run.initial} == {"skipped"}
    assert len(run.initial) == 8
    assert "fail closed: 1 candidate(s) could not be read" in str(run.initial[0].details["why"])
    assert f"{sha('loose')} (not found (404))" in str(run.initial[0].details["why"])
    assert run.finished


def test_finish_refuses_what_was_not_started() -> None:
    with pytest.raises(ValueError, match="was not started"):
        schedule(make_plan()).finish(sha("amd"), "deleted")


@settings(max_examples=60, deadline=None)
@given(room=st.integers(1, 8), failing=st.sets(st.sampled_from(sorted(set(NAMES.values()) - {"latest"}))))
def test_never_deletes_what_a_staying_candidate_references(room: int, failing: set[str]) -> None:
    _, events = drain(schedule(make_plan()), room=room, failing=frozenset(failing))
    outcome = {NAMES[e.digest]: e.outcome for e in events}
    assert set(outcome) == set(NAMES.values()) - {"latest"}  # every candidate has one outcome
    assert len(events) == len(outcome)
    staying = {name for name, result in outcome.items() if result != "deleted"}
    for body in BODIES.values():
        name = NAMES[body.digest]
        if name in staying:
            for child in body.children:
                assert NAMES[child.digest] in staying, (name, NAMES[child.digest])
    # (A referrer goes before its subject, so a subject that fails stays without it: both were to go.)
