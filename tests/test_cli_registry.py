"""``docr registry REGISTRY``: storage used against the plan's included storage, and the plan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docr.cli._registry import bar, storage_line
from docr.testing import FakeRegistry
from tests.cli_support import NOW, assert_golden, run_docr, setup_env


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli_retries_without_waits: None) -> None:
    setup_env(monkeypatch, tmp_path)


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as registry:
        registry.seed_demo("example", now=NOW)
        yield registry


def test_the_demo_golden() -> None:
    run = run_docr("registry", "example", "--demo", "-o", "table")
    assert run.code == 0, run
    assert run.err.startswith("docr: demo: sample registry example")
    assert_golden("registry.txt", run.out)


def test_json_holds_the_registry_and_the_plan(fake: FakeRegistry) -> None:
    run = run_docr("registry", "registry.digitalocean.com/example", "--api-url", fake.url)  # a pipe: json
    assert (run.code, run.err) == (0, "")
    document = run.json()
    assert document["registry"]["name"] == "example"
    assert document["registry"]["storage_usage_bytes"] == fake.storage_usage_bytes("example")
    assert document["subscription"]["tier"]["slug"] == "basic"
    assert document["subscription"]["tier"]["included_storage_bytes"] == 5_368_709_120


def test_storage_against_the_plan(fake: FakeRegistry) -> None:
    used = fake.storage_usage_bytes("example")
    run = run_docr("registry", "example", "-o", "table", "--api-url", fake.url)
    assert run.code == 0, run
    assert f"Storage   {storage_line(used, 5_368_709_120)}" in run.lines()
    assert "Plan      Basic, $5.00 a month" in run.lines()
    assert "Overage   allowed, $0.02 per GiB a month" in run.lines()
    assert "[" not in run.out  # the bar is for terminals


def test_a_bar_on_a_terminal(fake: FakeRegistry) -> None:
    run = run_docr("registry", "example", "--api-url", fake.url, tty=True)  # a table by default
    assert run.code == 0, run
    assert run.lines()[-1] == bar(fake.storage_usage_bytes("example"), 5_368_709_120)


def test_a_plan_without_overage_over_its_storage(fake: FakeRegistry) -> None:
    fake.subscription_tier = "starter"
    fake.generate("example", "big", count=40, seed=1)  # past the starter plan's 500 MiB
    run = run_docr("registry", "example", "-o", "table", "--api-url", fake.url)
    used = fake.storage_usage_bytes("example")
    assert used > 524_288_000
    storage = next(line for line in run.lines() if line.startswith("Storage"))
    assert storage.startswith(f"Storage   {storage_line(used, 524_288_000)}; ")
    assert storage.endswith(" over")
    assert "Overage   not allowed: pushes fail once the included storage is used" in run.lines()


def test_storage_line_and_bar() -> None:
    assert storage_line(13_207_024_435, 536_870_912_000) == "12.30 GiB of 500.00 GiB (2.5%)"
    assert storage_line(None, 100) == "-"
    assert storage_line(5, None).startswith("5 B (the plan's included storage is unknown)")
    assert bar(25, 100, width=8) == "[██░░░░░░]"
    assert bar(300, 100, width=4) == "[████]"
    assert bar(1, 0, width=2) == "[░░]"


def test_an_unknown_registry(fake: FakeRegistry) -> None:
    run = run_docr("registry", "nope", "--api-url", fake.url)
    assert (run.code, run.err) == (1, "docr: registry nope not found (404 not_found)\n")


def test_a_bad_name_before_any_request(fake: FakeRegistry) -> None:
    run = run_docr("registry", "ex ample", "--api-url", fake.url)
    assert run.code == 2
    assert run.err == "docr: invalid registry name: 'ex ample' contains whitespace\n"
    assert fake.requests == []
