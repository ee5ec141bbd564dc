"""The README's cleanup done by hand is what ``--demo`` prints: each ``$ docr ... --demo`` command
runs, and the output shown under it is the command's own (but for what changes from run to run:
the fake's port, a new collection's UUID and times)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from docr.cli import _client, _demo
from tests.cli_support import run_docr
from tests.conftest import ROOT

SECTION = (ROOT / "README.md").read_text().split("### A cleanup done by hand", 1)[1].split("\n### ", 1)[0]
SESSIONS = re.findall(r"```\n(\$ docr .*?)```", SECTION, flags=re.DOTALL)
COMMANDS = [
    (match.group(1), match.group(2))
    for session in SESSIONS
    for match in re.finditer(r"^\$ (docr .*)\n((?:(?!\$ ).*\n)*)", session, flags=re.MULTILINE)
]
VARIES = re.compile(
    r"http://127\.0\.0\.1:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d\d-\d\dT\S+Z"
)


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The demo fake's clock moves when the client sleeps between polls: no real wait."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    slept = [0.0]

    class Clock(_demo._DemoClock):
        def __call__(self) -> float:
            return super().__call__() + slept[0]

    def sleep(seconds: float) -> None:
        slept[0] += seconds

    build = _client.make_client

    def client(*args: Any, **kwargs: Any) -> Any:
        made = build(*args, **kwargs)
        made._sleep = sleep
        return made

    monkeypatch.setattr(_demo, "_DemoClock", Clock)
    monkeypatch.setattr(_demo, "DEMO_GC_STEP", 60.0)
    monkeypatch.setattr(_demo, "DEMO_POLL", 30.0)
    monkeypatch.setattr(_client, "make_client", client)


def test_the_walkthrough_lists_untagged_deletes_and_collects() -> None:
    commands = [command for command, _ in COMMANDS]
    assert any("manifests" in c and "--untagged" in c for c in commands)
    assert any(c.startswith("docr delete ") for c in commands)
    assert any(c.startswith("docr gc start ") and "--wait" in c for c in commands)
    assert all("--demo" in c for c in commands)


@pytest.mark.parametrize(("command", "shown"), COMMANDS, ids=[command for command, _ in COMMANDS])
def test_the_readme_shows_what_the_demo_prints(command: str, shown: str) -> None:
    argv = [*command.split()[1:], "-o", "table"]  # what a terminal shows
    if argv[0] == "delete":
        argv = argv[:-2]
    run = run_docr(*argv, stdin="y\n" if argv[0] == "delete" else None)
    assert run.code == 0, run
    printed = run.err + run.out
    expected = shown.replace("[y/N] y\n", "[y/N] ")  # the answer typed, echoed by the terminal
    notice = "docr: demo: sample registry"  # shown once in the README
    lines = [line for line in expected.splitlines() if not line.startswith(notice)]
    actual = [line for line in printed.splitlines() if not line.startswith(notice)]
    if argv[:2] == ["gc", "start"]:  # a new collection: its UUID, times and what it found vary
        assert [VARIES.sub("*", line) for line in actual][:5] == [VARIES.sub("*", line) for line in lines][:5]
        assert "Status         succeeded" in actual
        return
    assert "\n".join(VARIES.sub("*", line) for line in actual) == "\n".join(VARIES.sub("*", line) for line in lines)
