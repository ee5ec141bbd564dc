"""``docr usage REGISTRY``: the table (golden, on the demo registry), json, csv, options and errors.

Regenerate the golden file after an intended change with ``DOCR_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import docr
from docr.cli import _filters, _usage, main
from docr.testing import FakeRegistry
from docr.testing._demo import DEMO_NOW

SECRET = "dop_v1_" + "c0ffee00" * 8
GOLDEN = Path(__file__).parent / "golden"
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("DOCR_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"differs from tests/golden/{name} (DOCR_UPDATE_GOLDEN=1 to rewrite)"


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli_retries_without_waits: None) -> None:
    """A known token, no doctl config, the demo's clock and retries that do not sleep."""
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", SECRET)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(_filters, "now", lambda: DEMO_NOW)


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        fake.seed_demo("example")
        yield fake


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def docr_usage(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str) -> Run:
        code = main(["usage", *args])
        captured = capsys.readouterr()
        assert SECRET not in captured.out + captured.err
        return Run(code, captured.out, captured.err)

    return run


def against(fake: FakeRegistry) -> list[str]:
    return ["--api-url", fake.url, "--registry-url", fake.oci_url]


# --- formats -----------------------------------------------------------------------------------


def test_demo_table(docr_usage: Any) -> None:
    run = docr_usage("example", "--demo", "-o", "table")
    assert run.code == 0
    assert "demo: 5 sample repositories from an embedded fake registry" in run.err
    assert_golden("usage_table.txt", run.out)


def test_json_is_the_librarys_report(docr_usage: Any, fake: FakeRegistry) -> None:
    run = docr_usage("example", *against(fake))  # json: the default off a terminal
    assert run.code == 0 and run.err == ""
    with docr.Client(SECRET, base_url=fake.url, oci_base_url=fake.oci_url) as client:
        expected = docr.usage(client, "example", now=DEMO_NOW).to_dict()
    assert json.loads(run.out) == expected
    assert list(expected) == ["registry", "repositories", "totals", "storage_usage_bytes", "included_storage_bytes"]


def test_the_demo_registry_is_the_seeded_one(docr_usage: Any, fake: FakeRegistry) -> None:
    demo = json.loads(docr_usage("example", "--demo", "-o", "json").out)
    assert demo == json.loads(docr_usage("example", *against(fake), "-o", "json").out)


def test_csv_has_the_json_names_and_numbers(docr_usage: Any, fake: FakeRegistry) -> None:
    rows = list(csv.DictReader(io.StringIO(docr_usage("example", *against(fake), "-o", "csv").out)))
    data = json.loads(docr_usage("example", *against(fake), "-o", "json").out)
    assert rows == [{key: str(value) for key, value in row.items()} for row in data["repositories"]]
    no_header = docr_usage("example", *against(fake), "-o", "csv", "--no-header").out.splitlines()
    assert len(no_header) == len(rows) and not no_header[0].startswith("name,")


def test_table_without_header_has_only_the_rows(docr_usage: Any, fake: FakeRegistry) -> None:
    lines = docr_usage("example", *against(fake), "-o", "table", "--no-header").out.splitlines()
    assert [line.split()[0] for line in lines] == ["web/frontend", "api", "web/admin", "base/debian", "tools/migrate"]


def test_a_wide_terminal_gets_a_bar_per_repository(fake: FakeRegistry) -> None:
    with docr.Client(SECRET, base_url=fake.url, oci_base_url=fake.oci_url) as client:
        report = docr.usage(client, "example", now=DEMO_NOW)
    wide, narrow = io.StringIO(), io.StringIO()
    _usage.render_table(report, wide, bars=True, width=140)
    _usage.render_table(report, narrow, bars=True, width=80)
    bars = [line for line in wide.getvalue().splitlines() if "█" in line or "▒" in line]
    assert len(bars) == 5
    assert bars[0].rstrip().endswith("▒" * 7)  # web/frontend: the largest, its own then its shared bytes
    assert "█" not in narrow.getvalue()  # no room: the numbers stay whole instead
    assert all(len(line) <= 80 for line in narrow.getvalue().splitlines())


def test_progress_is_drawn_on_a_terminals_stderr_only() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        with _usage._Progress(stream, label="example\x1b[2J") as progress:
            progress.update(docr.RegistryProgress(1, 3, False, 40, 5))
            progress.update(docr.RegistryProgress(3, 3, True, 90, 9))
    assert "Walking example\\x1b[2J" in terminal.getvalue() and pipe.getvalue() == ""


# --- options -----------------------------------------------------------------------------------


def test_repos_narrow_the_walk(docr_usage: Any, fake: FakeRegistry) -> None:
    data = json.loads(docr_usage("example", *against(fake), "--repos", "web/*", "--repos", "api").out)
    assert [row["name"] for row in data["repositories"]] == ["api", "web/admin", "web/frontend"]


def test_policy_file(docr_usage: Any, fake: FakeRegistry, tmp_path: Path) -> None:
    keep = tmp_path / "keep.toml"
    keep.write_text('[[policy]]\nrepositories = "*"\nuntagged = "keep"\n')
    data = json.loads(docr_usage("example", *against(fake), "--policy", str(keep)).out)
    assert data["totals"]["reclaimable_bytes"] == 0
    default = json.loads(docr_usage("example", *against(fake)).out)
    assert default["totals"]["reclaimable_bytes"] > 0


def test_a_bad_policy_file_is_a_usage_error_naming_it(docr_usage: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[policy]]\nrepositories = "*"\nkeep_lats = 3\n')
    run = docr_usage("example", "--demo", "--policy", str(bad))
    assert run.code == 2 and "bad.toml" in run.err and "keep_lats" in run.err and run.out == ""
    missing = docr_usage("example", "--demo", "--policy", str(tmp_path / "nope.toml"))
    assert missing.code == 2 and "nope.toml: cannot be read" in missing.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["example/my/repo", "--demo"], "names a repository"),
        (["Bad_Registry", "--demo"], "invalid registry name"),
        (["example", "--demo", "--api-url", "http://127.0.0.1:9"], "--demo"),
        (["example", "--demo", "--registry-url", "http://127.0.0.1:9"], "--registry-url"),
    ],
)
def test_usage_errors(docr_usage: Any, args: list[str], message: str) -> None:
    run = docr_usage(*args)
    assert run.code == 2 and message in run.err and run.out == ""


def test_the_registry_may_be_given_as_the_host_and_name(docr_usage: Any, fake: FakeRegistry) -> None:
    run = docr_usage("registry.digitalocean.com/example", *against(fake))
    assert run.code == 0 and json.loads(run.out)["registry"] == "example"


def test_unknown_registry(docr_usage: Any, fake: FakeRegistry) -> None:
    run = docr_usage("nowhere", *against(fake))
    assert run.code == 1 and "404" in run.err and run.out == ""


# --- hostile data ------------------------------------------------------------------------------


HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e[bold red]x"


def test_a_listed_repository_name_that_cannot_be_a_name_fails_as_one_escaped_line(
    docr_usage: Any, fake: FakeRegistry
) -> None:
    fake.generate("example", f"evil{HOSTILE}", count=2, seed=1)
    run = docr_usage("example", *against(fake), "-o", "table")
    assert run.code == 1 and run.out == ""
    (line,) = run.err.splitlines()
    assert "is not a valid repository name" in line and "evil" in line
    assert not RAW.search(run.err)


def test_nothing_raw_reaches_the_terminal_in_any_format(docr_usage: Any, fake: FakeRegistry) -> None:
    for output in ("table", "json", "csv"):
        run = docr_usage("example", *against(fake), "-o", output, "-v")
        assert run.code == 0
        assert not RAW.search(run.out) and not RAW.search(run.err)
