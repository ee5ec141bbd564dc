"""``docr gc start|status|list|cancel|wait``: against a fake whose collections follow a clock the
client's sleeps move (no test waits for real), and against ``--demo``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from docr.testing import FakeRegistry, ManualClock
from tests.cli_support import assert_golden, clocked, run_docr, setup_env

__all__ = ["clocked"]  # the fixture, imported for pytest to find

Clocked = tuple[FakeRegistry, ManualClock]
STATUSES = ["requested", "waiting for write JWTs to expire", "scanning manifests", "deleting unreferenced blobs"]


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli_retries_without_waits: None) -> None:
    setup_env(monkeypatch, tmp_path)


# -- start ------------------------------------------------------------------------------------------


def test_start_prints_the_collection_and_json_gives_its_object(clocked: Clocked) -> None:
    fake, _ = clocked
    run = run_docr("gc", "start", "example", "-o", "table", "--api-url", fake.url)
    assert run.code == 0, run
    started = fake.garbage_collections("example")[0]
    assert run.lines()[0] == f"UUID           {started['uuid']}"
    assert "Status         requested" in run.lines()
    assert "Type           untagged manifests and unreferenced blobs" in run.lines()
    assert run.err == "docr: the registry is read-only until it ends; `docr gc wait example` waits for it\n"
    clock = clocked[1]
    clock.advance(3600)
    again = run_docr("gc", "start", "example", "--type", "blobs", "--api-url", fake.url)  # a pipe: json
    assert (again.code, again.err) == (0, "")
    assert again.json() == fake.garbage_collections("example")[0]
    assert again.json()["type"] == "unreferenced blobs only"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("untagged", "untagged manifests only"),
        ("blobs", "unreferenced blobs only"),
        ("both", "untagged manifests and unreferenced blobs"),
    ],
)
def test_start_type(clocked: Clocked, kind: str, expected: str) -> None:
    fake, _ = clocked
    assert run_docr("gc", "start", "example", "--type", kind, "--api-url", fake.url).code == 0
    assert fake.garbage_collections("example")[0]["type"] == expected


def test_a_start_while_one_runs_is_one_clear_line(clocked: Clocked) -> None:
    fake, _ = clocked
    assert run_docr("gc", "start", "example", "--api-url", fake.url).code == 0
    run = run_docr("gc", "start", "example", "--api-url", fake.url)
    assert (run.code, run.out) == (1, "")
    assert run.err.count("\n") == 1
    assert run.err.startswith("docr: cannot start: conflict (409 conflict): garbage collection ")
    assert " is already active (requested) on example (request_id=" in run.err
    assert run.err.endswith("; `docr gc status example` shows it\n")
    assert len(fake.garbage_collections("example")) == 1


def test_start_wait_waits_and_prints_what_was_freed(clocked: Clocked) -> None:
    fake, _ = clocked
    run = run_docr("gc", "start", "example", "--wait", "-o", "table", "--api-url", fake.url)
    assert run.code == 0, run
    done = fake.garbage_collections("example")[0]
    assert done["status"] == "succeeded"
    assert done["blobs_deleted"] > 0
    assert [line.rpartition(": ")[2] for line in run.err.splitlines()] == [*STATUSES, "succeeded"]
    assert f"Blobs deleted  {done['blobs_deleted']:,}" in run.lines()
    assert "Status         succeeded" in run.lines()


def test_poll_and_timeout_need_wait_on_start(clocked: Clocked) -> None:
    fake, _ = clocked
    run = run_docr("gc", "start", "example", "--poll", "5", "--api-url", fake.url)
    assert (run.code, run.err) == (2, "docr: --poll and --timeout are for waiting: add --wait\n")
    assert fake.requests == []


# -- status, list -----------------------------------------------------------------------------------


def test_status_when_none_runs(clocked: Clocked) -> None:
    fake, _ = clocked
    run = run_docr("gc", "status", "example", "-o", "table", "--api-url", fake.url)
    assert (run.code, run.out, run.err) == (0, "no garbage collection is running on example\n", "")
    assert run_docr("gc", "status", "example", "--api-url", fake.url).out == "null\n"


def test_status_shows_the_running_one(clocked: Clocked) -> None:
    fake, clock = clocked
    run_docr("gc", "start", "example", "--api-url", fake.url)
    clock.advance(25)
    run = run_docr("gc", "status", "example", "--api-url", fake.url)
    assert run.code == 0
    assert run.json()["status"] == "scanning manifests"
    assert run.json() == fake.garbage_collections("example")[0]


def test_list_every_format(clocked: Clocked) -> None:
    fake, clock = clocked
    for _ in range(3):
        run_docr("gc", "start", "example", "--api-url", fake.url)
        clock.advance(60)
    expected = fake.garbage_collections("example")
    as_json = run_docr("gc", "list", "example", "--api-url", fake.url)
    assert as_json.json() == expected
    jsonl = run_docr("gc", "list", "example", "-o", "jsonl", "--api-url", fake.url)
    assert [json.loads(line) for line in jsonl.lines()] == expected
    as_csv = run_docr("gc", "list", "example", "-o", "csv", "--api-url", fake.url)
    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert [row["uuid"] for row in rows] == [c["uuid"] for c in expected]
    assert rows[0]["freed_bytes"] == str(expected[0]["freed_bytes"])
    assert run_docr("gc", "list", "example", "-q", "--api-url", fake.url).lines() == [c["uuid"] for c in expected]
    newest = run_docr("gc", "list", "example", "-q", "--limit", "1", "--api-url", fake.url)
    assert newest.lines() == [expected[0]["uuid"]]
    table = run_docr("gc", "list", "example", "-o", "table", "--api-url", fake.url)
    assert table.lines()[-1] == "3 garbage collections"


# -- cancel -----------------------------------------------------------------------------------------


def test_cancel_the_running_one(clocked: Clocked) -> None:
    fake, _ = clocked
    run_docr("gc", "start", "example", "--api-url", fake.url)
    run = run_docr("gc", "cancel", "example", "--api-url", fake.url)
    assert run.code == 0, run
    assert run.json()["status"] == "cancelling"
    assert fake.garbage_collections("example")[0]["status"] == "cancelling"


def test_cancel_when_none_runs(clocked: Clocked) -> None:
    fake, _ = clocked
    run = run_docr("gc", "cancel", "example", "--api-url", fake.url)
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        "docr: no garbage collection is running on example: nothing to cancel (--uuid names an earlier one)\n"
    )


def test_cancel_one_that_has_ended_is_a_conflict(clocked: Clocked) -> None:
    fake, clock = clocked
    run_docr("gc", "start", "example", "--api-url", fake.url)
    clock.advance(600)
    uuid = fake.garbage_collections("example")[0]["uuid"]
    run = run_docr("gc", "cancel", "example", "--uuid", uuid, "--api-url", fake.url)
    assert run.code == 1
    assert run.err.startswith(
        f"docr: conflict (409 conflict): garbage collection {uuid} has already ended (succeeded): nothing to cancel"
    )
    assert run.err.count("\n") == 1


def test_cancel_an_unknown_uuid(clocked: Clocked) -> None:
    fake, _ = clocked
    uuid = "00000000-0000-0000-0000-00000000beef"
    run = run_docr("gc", "cancel", "example", "--uuid", uuid, "--api-url", fake.url)
    assert (run.code, run.err) == (1, f"docr: garbage collection {uuid} of example not found (404 not_found)\n")


def test_a_bad_uuid_is_refused_before_any_request(clocked: Clocked) -> None:
    fake, _ = clocked
    run = run_docr("gc", "cancel", "example", "--uuid", "../../x", "--api-url", fake.url)
    assert (run.code, run.out) == (2, "")
    assert "not a garbage collection's UUID: '../../x'" in run.err
    assert fake.requests == []


# -- wait -------------------------------------------------------------------------------------------


def test_wait_shows_each_status_on_stderr(clocked: Clocked) -> None:
    fake, _ = clocked
    run_docr("gc", "start", "example", "--api-url", fake.url)
    uuid = fake.garbage_collections("example")[0]["uuid"]
    run = run_docr("gc", "wait", "example", "-o", "table", "--api-url", fake.url)
    assert run.code == 0, run
    assert run.err.splitlines() == [f"docr: garbage collection {uuid}: {status}" for status in [*STATUSES, "succeeded"]]
    done = fake.garbage_collections("example")[0]
    assert f"Freed          {done['freed_bytes'] / 2**20:.2f} MiB" in run.lines()
    polls = [r for r in fake.requests if r.method == "GET" and r.path.endswith("/garbage-collection")]
    assert len(polls) == 1 + 5  # which one runs, then every 10 s (the default) until it ends at 40 s


def test_wait_poll_interval(clocked: Clocked) -> None:
    fake, _ = clocked
    run_docr("gc", "start", "example", "--api-url", fake.url)
    fake.clear_requests()
    assert run_docr("gc", "wait", "example", "--poll", "2.5", "--api-url", fake.url).code == 0
    assert len([r for r in fake.requests if r.path.endswith("/garbage-collection")]) == 1 + 17


def test_wait_for_an_earlier_one_by_uuid(clocked: Clocked) -> None:
    fake, clock = clocked
    run_docr("gc", "start", "example", "--api-url", fake.url)
    clock.advance(600)
    uuid = fake.garbage_collections("example")[0]["uuid"]
    run = run_docr("gc", "wait", "example", "--uuid", uuid, "--api-url", fake.url)
    assert run.code == 0, run
    assert run.json()["uuid"] == uuid
    assert run.err == f"docr: garbage collection {uuid}: succeeded\n"


def test_wait_when_none_runs(clocked: Clocked) -> None:
    fake, _ = clocked
    run = run_docr("gc", "wait", "example", "--api-url", fake.url)
    assert run.code == 1
    assert run.err.startswith("docr: no garbage collection is running on example: nothing to wait for")


def test_wait_for_a_uuid_nobody_knows(clocked: Clocked) -> None:
    fake, _ = clocked
    uuid = "00000000-0000-0000-0000-00000000beef"
    run = run_docr("gc", "wait", "example", "--uuid", uuid, "--api-url", fake.url)
    assert (run.code, run.out) == (1, "")
    assert run.err == f"docr: garbage collection {uuid} of example is neither running nor in its history\n"


def test_wait_timeout_says_it_goes_on(clocked: Clocked) -> None:
    fake, _ = clocked
    run_docr("gc", "start", "example", "--api-url", fake.url)
    uuid = fake.garbage_collections("example")[0]["uuid"]
    run = run_docr("gc", "wait", "example", "--timeout", "5", "--poll", "10", "--api-url", fake.url)
    assert (run.code, run.out) == (1, "")
    assert run.err.splitlines()[-1] == (
        f"docr: garbage collection {uuid} of example is still 'requested' after 5s;"
        f" it goes on: `docr gc wait example --uuid {uuid}` waits again"
    )


def test_a_failed_collection_exits_1_after_printing_it(clocked: Clocked) -> None:
    fake, _ = clocked
    fake.gc_outcome = "failed"
    run = run_docr("gc", "start", "example", "--wait", "--api-url", fake.url)
    assert run.code == 1
    assert run.json()["status"] == "failed"
    assert run.err.splitlines()[-1].endswith(" of example failed")


def test_undocumented_statuses_are_shown_as_they_come(clocked: Clocked) -> None:
    fake, _ = clocked
    fake.gc_statuses = (*fake.gc_statuses[:2], "waiting for delete requests", *fake.gc_statuses[2:])
    run = run_docr("gc", "start", "example", "--wait", "--api-url", fake.url)
    assert run.code == 0
    assert "waiting for delete requests" in run.err


def test_wait_on_a_terminal_draws_a_spinner_and_removes_it(clocked: Clocked) -> None:
    fake, _ = clocked
    run_docr("gc", "start", "example", "--api-url", fake.url)
    run = run_docr("gc", "wait", "example", "--api-url", fake.url, tty=True)
    assert run.code == 0, run
    assert "waiting: " in run.err  # the spinner, whichever status it last drew
    assert "docr: garbage collection " in run.err
    assert "UUID " in run.out  # a table on a terminal


# -- the demo ---------------------------------------------------------------------------------------


def test_demo_list_golden() -> None:
    run = run_docr("gc", "list", "example", "--demo", "-o", "table")
    assert run.code == 0, run
    assert_golden("gc_list.txt", run.out)


def test_demo_status_golden() -> None:
    run = run_docr("gc", "status", "example", "--demo", "-o", "table")
    assert run.code == 0, run
    assert_golden("gc_status.txt", run.out)


def test_demo_start_and_cancel_say_they_are_a_demo() -> None:
    started = run_docr("gc", "start", "example", "--demo")
    assert started.code == 0, started
    assert "docr: demo: started in the embedded fake registry only, not on DigitalOcean\n" in started.err
    cancelled = run_docr("gc", "cancel", "example", "--demo")
    assert cancelled.code == 0, cancelled
    assert cancelled.json()["status"] == "cancelling"
    assert "docr: demo: cancelled in the embedded fake registry only" in cancelled.err


def test_demo_wait_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    from docr.cli import _demo

    monkeypatch.setattr(_demo, "DEMO_GC_STEP", 0.0)  # ends as soon as it starts
    run = run_docr("gc", "start", "example", "--wait", "--demo")
    assert run.code == 0, run
    assert run.json()["status"] == "succeeded"
    assert run.json()["freed_bytes"] > 0  # the demo's stale builds


def test_verbose_after_the_action(clocked: Clocked) -> None:
    fake, _ = clocked
    run = run_docr("gc", "status", "example", "-v", "--api-url", fake.url)
    assert run.code == 0
    assert "docr: debug: GET /v2/registries/example/garbage-collection" in run.err


def test_gc_needs_an_action() -> None:
    run = run_docr("gc", "example")
    assert run.code == 2
    assert "invalid choice: 'example'" in run.err
