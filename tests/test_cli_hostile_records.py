"""Hostile data through the registry commands (repos, tags, delete, gc, registry): whatever the
server sends in names, tags, statuses or regions, no raw control character nor bidi override
reaches the terminal, markup stays text, JSON stays faithful, ``-q`` prints only clean names,
and every error is one bounded line. The helpers are tests/test_cli_hostile.py's."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docr.cli._gc_progress import StatusProgress
from docr.testing import FakeRegistry
from tests.cli_support import run_docr, setup_env
from tests.test_cli_hostile import ERRORS, HOSTILE, MARKUP, RICH_CONTROL, SECRET, ErrorServer, Stream, raw_controls

NAME = f"evil{HOSTILE.replace('://', ':')}"  # a repository name holds no '//'
CLEAN = "sha256:" + "c" * 64
HOSTILE_DIGEST = "sha256:" + "d" * 64
MANIFESTS: list[dict[str, Any]] = [
    {
        "digest": HOSTILE_DIGEST,
        "tags": [HOSTILE, MARKUP, "v1\r\nsha256:" + "f" * 64],
        "updated_at": "2026-05-01T00:00:00Z",
        "compressed_size_bytes": 2,
        HOSTILE: HOSTILE,  # an unknown key: kept by the JSON formats
    },
    {"digest": CLEAN, "tags": ["[bold red]x"], "updated_at": "2026-04-29T00:00:00Z", "compressed_size_bytes": 4},
]


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli_retries_without_waits: None) -> None:
    setup_env(monkeypatch, tmp_path)
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", SECRET)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "4000")
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as registry:
        registry.add_registry("example", region=HOSTILE)
        registry.add_manifests("example", "my/repo", MANIFESTS)
        registry.add_manifests("example", NAME, MANIFESTS)
        registry.gc_step_seconds = 3600
        registry.gc_statuses = (HOSTILE,)
        yield registry


def start_collection(fake: FakeRegistry) -> None:
    assert run_docr("gc", "start", "example", "--api-url", fake.url).code == 0


COMMANDS = {
    "repos": ["repos", "example"],
    "tags": ["tags", "example/my/repo"],
    "gc list": ["gc", "list", "example"],
}
FORMATS = [["-o", "table"], ["-o", "json"], ["-o", "jsonl"], ["-o", "csv"]]


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
@pytest.mark.parametrize("flags", FORMATS, ids=lambda flags: flags[1])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_raw_control_character_in_any_format(fake: FakeRegistry, command: str, flags: list[str], tty: bool) -> None:
    start_collection(fake)
    run = run_docr(*COMMANDS[command], *flags, "--api-url", fake.url, tty=tty)
    assert (run.code, run.err) == (0, "")
    table = flags[1] == "table"
    assert raw_controls(run.out, from_rich=table and tty) == []
    assert "\u202e" not in run.out
    if flags[1] in ("table", "csv"):
        assert "\\x1b]0;pwned\\x07" in run.out  # shown, escaped
        assert "\\u202e" in run.out


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_json_stays_faithful(fake: FakeRegistry, command: str) -> None:
    start_collection(fake)
    run = run_docr(*COMMANDS[command], "-o", "json", "--api-url", fake.url)
    assert run.code == 0
    values = {value for item in run.json() for value in item.values() if isinstance(value, str)}
    assert {"repos": NAME, "tags": HOSTILE, "gc list": HOSTILE}[command] in values  # exactly as sent
    assert "\\u001b" in run.out and "\\u009b" in run.out and "\\u202e" in run.out


def test_tables_show_markup_as_text(fake: FakeRegistry) -> None:
    run = run_docr("tags", "example/my/repo", "-o", "table", "--api-url", fake.url, tty=True)
    plain = RICH_CONTROL.sub("", run.out)
    assert MARKUP in plain
    assert "\x1b]8;" not in run.out  # no hyperlink was made of [link=...]


def test_a_tag_cannot_smuggle_a_csv_row(fake: FakeRegistry) -> None:
    run = run_docr("tags", "example/my/repo", "-o", "csv", "--api-url", fake.url)
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert len(rows) == 4
    assert "v1\\x0d\\x0asha256:" + "f" * 64 in [row["tag"] for row in rows]


@pytest.mark.parametrize(
    ("argv", "noun"), [(["repos", "example"], "repository"), (["tags", "example/my/repo"], "tags")]
)
def test_quiet_prints_only_clean_names(fake: FakeRegistry, argv: list[str], noun: str) -> None:
    run = run_docr(*argv, "-q", "--api-url", fake.url, tty=True)
    assert run.code == 1
    assert raw_controls(run.out + run.err) == []
    assert run.err.startswith("docr: refused ")
    assert noun in run.err
    assert run.err.count("\n") == 1
    if argv[0] == "repos":
        assert run.lines() == ["my/repo"]
    else:
        assert sorted(run.lines()) == sorted([MARKUP, "[bold red]x"])


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
def test_cards_escape_every_value(fake: FakeRegistry, tty: bool) -> None:
    start_collection(fake)
    for argv in (["gc", "status", "example"], ["registry", "example"]):
        run = run_docr(*argv, "-o", "table", "--api-url", fake.url, tty=tty)
        assert (run.code, run.err) == (0, "")
        assert raw_controls(run.out) == []
        assert "\\x1b]0;pwned\\x07" in run.out


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
def test_the_delete_plan_and_result_are_escaped(fake: FakeRegistry, tty: bool) -> None:
    run = run_docr("delete", f"example/my/repo@{HOSTILE_DIGEST}", "--api-url", fake.url, stdin="y\n", tty=tty)
    assert run.code == 0, run
    assert raw_controls(run.out + run.err) == []
    assert "its tags go with it: \\x1b]0;pwned\\x07" in run.err
    assert run.out.count("\n") == 1


def test_wait_progress_lines_and_spinner_are_escaped() -> None:
    class Collection:
        status = HOSTILE
        finished = False

    terminal = Stream(tty=True)
    with StatusProgress(terminal, uuid=f"u{MARKUP}{HOSTILE}", spinner=True) as progress:
        progress.on_status(Collection())
        progress.on_status(Collection())
    text = terminal.getvalue()
    assert raw_controls(text, from_rich=True) == []
    assert "\\x1b]0;pwned\\x07" in text
    assert "[bold red]x" in text
    pipe = Stream(tty=False)
    StatusProgress(pipe, uuid="u", spinner=False).on_status(Collection())
    assert raw_controls(pipe.getvalue()) == []
    assert pipe.getvalue().count("\n") == 1


# -- errors -----------------------------------------------------------------------------------------

CASES = ["401 hostile id and request id", "404", "500 html, C1 reason", "200 not json", "ESC in the status line"]
READS = [["repos", "example"], ["tags", "example/my/repo"], ["registry", "example"], ["gc", "list", "example"]]


@pytest.fixture
def server() -> Iterator[ErrorServer]:
    answering = ErrorServer()
    answering.thread.start()
    try:
        yield answering
    finally:
        answering.server.shutdown()
        answering.server.server_close()
        answering.thread.join(timeout=10)


@pytest.mark.parametrize("argv", READS, ids=lambda argv: " ".join(argv[:2]))
@pytest.mark.parametrize("case", CASES)
def test_an_error_is_one_bounded_line(server: ErrorServer, case: str, argv: list[str]) -> None:
    status, body, headers, reason = ERRORS[case]
    server.answer(status, body, *headers, reason=reason)
    run = run_docr(*argv, "-o", "json", "--api-url", server.url, tty=True)
    assert (run.code, run.out) == (1, "")
    assert run.err.startswith("docr: ")
    assert run.err.count("\n") == 1
    assert len(run.err) <= 1000 + len("docr: \n")
    assert raw_controls(run.err) == []
    assert SECRET not in run.err
