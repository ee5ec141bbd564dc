"""``docr prune`` end to end: the demo (golden), dry runs, JSON, --apply (asking, --yes, refusing),
saved plans and journals, --policy over a registry, --gc, exit codes, usage errors, hostile tags.

Regenerate the golden files after an intended change with ``DOCR_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docr import retention
from docr.cli import _filters, main
from docr.testing import FakeRegistry
from tests.test_cli import assert_golden
from tests.test_prune_library import NOW, REGISTRY, digests, seeded

SECRET = "dop_v1_" + "prune" * 12


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli_retries_without_waits: None) -> None:
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", SECRET)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(_filters, "now", lambda: NOW)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal, unless a test says so


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRegistry]:
    for registry in seeded():
        monkeypatch.setenv("DOCR_REGISTRY_URL", registry.oci_url)
        yield registry


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def prune(capsys: pytest.CaptureFixture[str], fake: FakeRegistry) -> Any:
    """``prune(*args)``: run ``docr prune`` against the seeded fake (``--api-url`` added)."""

    def run(*args: str, api: bool = True) -> Run:
        code = main(["prune", *args, *(["--api-url", fake.url] if api else [])])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def deletes(fake: FakeRegistry) -> list[str]:
    return [r.path.rsplit("/", 1)[1] for r in fake.requests if r.operation == "delete_manifest"]


# -- the demo -------------------------------------------------------------------------------------


def test_the_demo_plan(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["prune", "--demo", "-o", "table"])
    captured = capsys.readouterr()
    assert code == 0
    err = re.sub(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:PORT", captured.err)
    assert_golden("prune_demo.txt", captured.out + "--- stderr\n" + err)
    assert "24 protected as index children" in captured.out
    assert "breaking 6 multi-arch images" in captured.err


def test_the_demo_applies_and_collects_garbage(capsys: pytest.CaptureFixture[str], everything: Path) -> None:
    code = main(["prune", "example", "--demo", "--policy", str(everything), "--apply", "--yes", "--gc"])
    captured = capsys.readouterr()
    assert code == 0
    *plans, summary = captured.out.splitlines()
    assert [json.loads(line)["repository"] for line in plans] == [
        "api",
        "base/debian",
        "tools/migrate",
        "web/admin",
        "web/frontend",
    ]
    data = json.loads(summary)
    assert (data["candidates"], data["deleted"], data["failed"], data["gc"]["status"]) == (18, 18, 0, "succeeded")
    assert data["gc"]["freed_bytes"] == data["gc"]["estimated_bytes"] == data["freed_bytes_expected"] > 0
    assert "garbage collection: scanning manifests" in captured.err


@pytest.fixture
def everything(tmp_path: Path) -> Path:
    """A policy file whose one section covers every repository with the default policy."""
    path = tmp_path / "everything.toml"
    path.write_text('[[policy]]\nrepositories = "*"\n')
    return path


# -- dry runs -------------------------------------------------------------------------------------


def test_a_dry_run_deletes_nothing_and_prints_the_plan_as_json(prune: Any, fake: FakeRegistry) -> None:
    run = prune("example/web/frontend")
    assert run.code == 0
    plan = retention.Plan.from_json(run.out)
    assert (plan.registry, plan.repository, len(plan.candidates), plan.protected) == (REGISTRY, "web/frontend", 10, 24)
    assert deletes(fake) == []
    assert "dry run: nothing was deleted; add --apply" in run.err
    assert SECRET not in run.out + run.err


def test_policy_flags_make_the_policy(prune: Any) -> None:
    run = prune(
        "example/tools/migrate",
        "--keep-last",
        "1",
        "--keep-tag",
        "2025.*",
        "--grace",
        "2w",
        "--tagged-older-than",
        "30d",
    )
    plan = retention.Plan.from_json(run.out)
    assert plan.policy == retention.Policy(
        keep_last=1,
        keep_tags=("2025.*",),
        grace=retention.parse_duration("14d"),
        tagged_older_than=retention.parse_duration("30d"),
    )
    run = prune("example/tools/migrate", "--keep-untagged", "--tagged-older-than", "30d", "--keep-tag", "latest")
    plan = retention.Plan.from_json(run.out)
    assert [c.rule for c in plan.candidates] == ["tagged-older", "tagged-older"]  # 2025.01 and 2025.04


def test_the_table_names_the_policy_and_sums_up(prune: Any) -> None:
    run = prune("example/web/admin", "-o", "table")
    lines = run.out.splitlines()
    assert lines[0] == "example/web/admin: keep tags latest, grace 1d, untagged: delete"
    assert lines[1].split() == ["Digest", "Tags", "Updated", "Reason", "Freed"]
    assert lines[-1] == "2 manifests, 4.04 MiB freed of 146.07 MiB, 0 protected as index children"


def test_a_policy_file_plans_every_repository_it_covers(prune: Any, tmp_path: Path) -> None:
    policy = tmp_path / "retention.toml"
    policy.write_text('[[policy]]\nrepositories = ["web/*"]\nkeep_last = 1\n[[policy]]\nrepositories = "api"\n')
    run = prune("registry.digitalocean.com/example", "--policy", str(policy))
    assert [p["repository"] for p in run.json()] == ["api", "web/admin", "web/frontend"]
    assert run.json()[1]["policy"]["keep_last"] == 1
    table = prune("example", "--policy", str(policy), "-o", "table")
    assert table.out.splitlines()[-1].startswith("total: 15 manifests, ")
    one = prune("example/tools/migrate", "--policy", str(policy))
    assert (one.code, one.out) == (0, "[]\n")
    assert "no section of" in one.err


def test_plan_out_saves_what_from_plan_applies(prune: Any, fake: FakeRegistry, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert prune("example/web/frontend", "--plan-out", str(saved), "-o", "table").code == 0
    assert deletes(fake) == []
    plan = retention.Plan.from_json(saved.read_text())
    journal = tmp_path / "prune.journal"
    run = prune("--from-plan", str(saved), "--yes", "--journal", str(journal))
    assert run.code == 0
    assert sorted(deletes(fake)) == sorted(c.digest for c in plan.candidates)
    assert json.loads(run.out.splitlines()[-1])["deleted"] == 10
    fake.clear_requests()
    again = prune("--from-plan", str(saved), "--yes", "--journal", str(journal), "-o", "table")
    assert again.code == 0 and deletes(fake) == [] and fake.requests == []
    assert "example/web/frontend: deleted 10 of 10 manifests" in again.out


def test_a_registry_wide_apply_keeps_a_journal_per_repository(
    prune: Any, fake: FakeRegistry, tmp_path: Path, everything: Path
) -> None:
    saved, journals = tmp_path / "plans.json", tmp_path / "journals"
    assert prune("example", "--policy", str(everything), "--plan-out", str(saved)).code == 0
    run = prune("--from-plan", str(saved), "--yes", "--journal", str(journals), "-o", "table")
    assert run.code == 0
    assert sorted(p.name for p in journals.iterdir()) == [
        "api.journal",
        "base%2Fdebian.journal",
        "tools%2Fmigrate.journal",
        "web%2Fadmin.journal",
        "web%2Ffrontend.journal",
    ]
    assert len(deletes(fake)) == 18


# -- applying -------------------------------------------------------------------------------------


def test_apply_refuses_to_run_unasked_without_a_terminal(prune: Any, fake: FakeRegistry) -> None:
    run = prune("example/web/frontend", "--apply")
    assert run.code == 2
    assert "stdin is not a terminal: add --yes" in run.err
    assert fake.requests == []


@pytest.mark.parametrize(("answer", "code", "deleted"), [("n\n", 1, 0), ("\n", 1, 0), ("yes\n", 0, 10)])
def test_apply_asks_on_a_terminal(
    prune: Any, fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, deleted: int
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal(answer))
    run = prune("example/web/frontend", "--apply", "-o", "table")
    assert run.code == code
    assert "Delete 10 manifests from example/web/frontend (32.24 MiB freed)? [y/N]" in run.err
    assert len(deletes(fake)) == deleted
    if not deleted:
        assert "cancelled: nothing was deleted" in run.err


def test_apply_with_yes_prints_a_summary_line_for_ci(prune: Any, fake: FakeRegistry) -> None:
    before = digests(fake, "web/frontend")
    run = prune("example/web/frontend", "--apply", "--yes", "-o", "json")
    assert run.code == 0
    plan_line, summary_line = run.out.splitlines()
    plan = retention.Plan.from_json(plan_line)
    assert json.loads(summary_line) == {
        "registry": "example",
        "repositories": ["web/frontend"],
        "candidates": 10,
        "deleted": 10,
        "already_gone": 0,
        "skipped": 0,
        "failed": 0,
        "unfinished": 0,
        "freed_bytes_expected": plan.freed_bytes,
        "naive_bytes": plan.naive_bytes,
        "gc": None,
    }
    assert digests(fake, "web/frontend") == before - {c.digest for c in plan.candidates}


def test_failed_deletes_exit_1_and_say_why(prune: Any, fake: FakeRegistry) -> None:
    fake.fail_next(503, count=1000, operation="delete_manifest")
    run = prune("example/tools/migrate", "--apply", "--yes", "-o", "table")
    assert run.code == 1
    assert run.err.count("warning: could not delete sha256:") == 3
    assert "ServerError" in run.err
    assert "deleted 0 of 3 manifests, 3 failed" in run.out


def test_gc_prints_what_it_freed_beside_the_estimate(prune: Any, fake: FakeRegistry) -> None:
    run = prune("example/tools/migrate", "--apply", "--yes", "--gc", "-o", "table")
    assert run.code == 0
    line = run.out.splitlines()[-1]
    assert re.fullmatch(
        r"garbage collection [0-9a-f-]+: succeeded, 6 blobs deleted, (.+) freed \(the plan estimated \1\)", line
    )
    assert "started (unreferenced blobs)" in run.err
    assert len([r for r in fake.requests if r.operation == "start_garbage_collection"]) == 1
    # Blobs only: DOCR's "untagged manifests" type would delete the signatures and SBOMs the plan keeps.
    assert [c["type"] for c in fake.garbage_collections(REGISTRY)] == ["unreferenced blobs only"]


def test_gc_starts_nothing_when_nothing_was_deleted(prune: Any, fake: FakeRegistry) -> None:
    run = prune("example/base/debian", "--apply", "--yes", "--gc", "-o", "table")
    assert run.code == 0
    assert "no garbage collection started" in run.err
    assert not [r for r in fake.requests if r.operation == "start_garbage_collection"]


# -- usage ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "REF is missing"),
        (("example",), "names a registry: give REGISTRY/REPOSITORY, or --policy FILE"),
        (("example/app", "--policy", "p.toml", "--keep-last", "3"), "drop --keep-last"),
        (("--from-plan", "p.json", "--grace", "2d"), "--from-plan applies a saved plan as it is: drop --grace"),
        (("--from-plan", "p.json", "--plan-out", "q.json"), "drop --plan-out"),
        (("example/app", "--gc"), "--gc is for applying a plan: add --apply"),
        (("example/app", "--journal", "j"), "--journal is for applying a plan"),
        (("example/app", "--grace", "1y"), "invalid duration '1y'"),
        (("example/app", "--keep-last", "-1"), "must be 0 or more"),
        (("example/app", "--tagged-older-than", "0s"), "tagged_older_than: must be more than 0"),
        (("example/app:v1",), "names a tag"),
        (("Example/app",), "invalid registry name"),
        (("example/app", "--demo", "--api-url", "http://127.0.0.1:1"), "--demo lists an embedded fake registry"),
    ],
)
def test_usage_errors_exit_2_before_any_request(
    prune: Any, fake: FakeRegistry, args: tuple[str, ...], message: str
) -> None:
    run = prune(*args, api=False)
    assert run.code == 2, run.err
    assert message in run.err
    assert fake.requests == []


def test_a_plan_for_another_repository_is_refused(prune: Any, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    prune("example/web/admin", "--plan-out", str(saved))
    run = prune("example/web/frontend", "--from-plan", str(saved), "--yes")
    assert run.code == 2
    assert "the plan is for example/web/admin, not example/web/frontend" in run.err
    saved.write_text(saved.read_text().replace('"keep_last": 0', '"keep_last": 5'))
    tampered = prune("--from-plan", str(saved), "--yes")
    assert tampered.code == 2 and "its id does not match its content" in tampered.err


def test_a_journal_of_another_plan_is_a_usage_error(prune: Any, tmp_path: Path) -> None:
    journal = tmp_path / "j"
    assert prune("example/web/admin", "--apply", "--yes", "--journal", str(journal)).code == 0
    run = prune("example/tools/migrate", "--apply", "--yes", "--journal", str(journal))
    assert run.code == 2
    assert "belongs to plan" in run.err and "use a new journal file" in run.err
    assert "run it again with --from-plan and the plan it applied" in run.err


# -- hostile data ---------------------------------------------------------------------------------


def test_hostile_tags_are_shown_escaped(prune: Any, fake: FakeRegistry) -> None:
    fake.add_manifests(
        REGISTRY,
        "evil",
        [{"digest": "sha256:" + "e" * 64, "tags": ["v1\x1b[2J\u202e"], "updated_at": "2025-01-01T00:00:00Z"}],
    )
    run = prune("example/evil", "--tagged-older-than", "30d", "-o", "table")
    assert run.code == 0
    assert "\x1b" not in run.out + run.err and "\u202e" not in run.out
    assert "v1\\x1b[2J\\u202e" in run.out
    data = prune("example/evil", "--tagged-older-than", "30d")
    assert "\u202e" not in data.out
    assert retention.Plan.from_json(data.out).candidates[0].tags == ("v1\x1b[2J\u202e",)


def test_prune_help_imports_nothing_heavy() -> None:
    script = """
import contextlib, io, sys
from docr.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["prune", "--help"])
heavy = ("httpx", "rich", "yaml", "docr._client", "docr._errors", "docr.retention", "docr.testing")
print(code, sorted(name for name in heavy if name in sys.modules), "--from-plan FILE" in out.getvalue())
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout.strip() == "0 [] True"
