"""``docr manifests`` end to end against ``docr.testing.FakeRegistry``: every output format
(golden files for the table), filters, order, limits, errors and exit codes, token sources,
``--demo``. ``main()`` runs in-process; tests/test_cli_process.py covers real subprocesses.

Regenerate the golden files after an intended change with ``DOCR_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docr._models import Manifest, ManifestPage
from docr._version import __version__
from docr.cli import _client, _filters, main
from docr.cli._filters import Selection
from docr.cli._output import Summary
from docr.cli._progress import PageProgress
from docr.cli._table import TableWriter
from docr.testing import FakeRegistry

NOW = dt.datetime(2026, 5, 2, 12, 0, tzinfo=dt.UTC)
SECRET = "dop_v1_" + "s3cr3t" * 10
GOLDEN = Path(__file__).parent / "golden"
REF = "registry.digitalocean.com/example/my/repo"


def digest(n: int) -> str:
    return "sha256:" + hashlib.sha256(str(n).encode()).hexdigest()


def ago(**delta: float) -> str:
    return (NOW - dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def item(n: int, *, tags: list[str] | None, size: int, full: int | None, updated: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"digest": digest(n), "registry_name": "example", "repository": "my/repo"}
    data["compressed_size_bytes"] = size
    if full is not None:
        data["size_bytes"] = full
    if updated is not None:
        data["updated_at"] = updated
    if tags is not None:
        data["tags"] = tags
    data["blobs"] = [{"digest": digest(1000 + n), "compressed_size_bytes": size}]
    return data


# Newest first, as the API serves them: what the golden tables show.
FIXED = [
    item(1, tags=["latest", "v1.4.2"], size=2_816_445, full=5_861_888, updated=ago(hours=2)),
    item(2, tags=["v1.4.1"], size=2_803_255, full=5_800_000, updated=ago(days=3, hours=1)),
    item(3, tags=[], size=734_003, full=None, updated=ago(days=10)),
    item(4, tags=["pr-118", "3f9c2ab"], size=52_428_800, full=110_000_000, updated=ago(days=45)),
    item(5, tags=None, size=1_288_490_189, full=2_147_483_648, updated=ago(days=400)),
    item(6, tags=["archive"], size=512, full=1024, updated=None),
]


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("DOCR_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"differs from tests/golden/{name} (DOCR_UPDATE_GOLDEN=1 to rewrite)"


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli_retries_without_waits: None) -> None:
    """A known token, no doctl config, a fixed clock and retries that do not sleep."""
    for name in ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_CONTEXT", "DIGITALOCEAN_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", SECRET)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(_filters, "now", lambda: NOW)


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as registry:
        registry.add_manifests("example", "my/repo", FIXED)
        yield registry


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)

    def lines(self) -> list[str]:
        return self.out.splitlines()


@pytest.fixture
def docr(capsys: pytest.CaptureFixture[str], fake: FakeRegistry) -> Any:
    """``docr(*args)``: run ``docr manifests`` (REF and --api-url added unless given)."""

    def run(*args: str, ref: str | None = REF, api: bool = True) -> Run:
        argv = ["manifests", *([ref] if ref else []), *args, *(["--api-url", fake.url] if api else [])]
        code = main(argv)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def digests_of(run: Run) -> list[int]:
    return [int(next(n for n in range(1, 7) if digest(n) == line)) for line in run.lines()]


# -- output formats -------------------------------------------------------------------------------


def test_table(docr: Any) -> None:
    run = docr("-o", "table")
    assert (run.code, run.err) == (0, "")
    assert_golden("table.txt", run.out)


def test_table_full_digest(docr: Any) -> None:
    run = docr("-o", "table", "--full-digest")
    assert run.code == 0
    assert digest(1) in run.out
    assert_golden("table_full_digest.txt", run.out)


def test_table_no_header_drops_header_and_summary(docr: Any) -> None:
    run = docr("-o", "table", "--no-header")
    assert run.code == 0
    assert "Digest" not in run.out
    assert "manifests" not in run.out
    assert len(run.lines()) == len(FIXED)
    assert_golden("table_no_header.txt", run.out)


def test_table_summary_counts_what_is_shown_of_the_total(docr: Any) -> None:
    run = docr("-o", "table", "--untagged")
    assert run.lines()[-1] == "2 of 6 manifests, 1.20 GiB compressed"


def test_an_80_column_terminal_wraps_headers_and_folds_tags_at_commas() -> None:
    out = io.StringIO()
    writer = TableWriter(out, now=NOW, width=80)
    many = {**FIXED[0], "tags": [f"release-{n}" for n in range(8)]}
    for data in (many, *FIXED[1:]):
        writer.add(Manifest.from_dict(data))
    writer.finish(Summary(shown=6, compressed_bytes=1_344_540_000, total=6))
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert [line.split()[-1] for line in lines[3:11]] == [f"release-{n}," for n in range(7)] + ["release-7"]
    assert_golden("table_80_columns.txt", out.getvalue())


def test_json_is_the_default_off_a_terminal_and_holds_the_apis_objects(docr: Any, fake: FakeRegistry) -> None:
    run = docr()
    assert (run.code, run.err) == (0, "")
    assert run.json() == fake.manifests("example", "my/repo")
    assert run.out.startswith("[\n  {\n")


def test_jsonl_one_object_per_line(docr: Any, fake: FakeRegistry) -> None:
    run = docr("-o", "jsonl")
    assert run.code == 0
    assert [json.loads(line) for line in run.lines()] == fake.manifests("example", "my/repo")


def test_jsonl_streams_what_arrived_before_a_failure_but_json_prints_nothing(docr: Any, fake: FakeRegistry) -> None:
    fake.fail_next(404, page=3)
    streamed = docr("-o", "jsonl", "--per-page", "2")
    assert streamed.code == 1
    assert [json.loads(line)["digest"] for line in streamed.lines()] == [digest(n) for n in range(1, 5)]
    fake.fail_next(404, page=3)
    whole = docr("-o", "json", "--per-page", "2")
    assert (whole.code, whole.out) == (1, "")


def test_csv(docr: Any) -> None:
    run = docr("-o", "csv")
    assert run.code == 0
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert [row["digest"] for row in rows] == [digest(n) for n in range(1, 7)]
    assert rows[0] == {
        "digest": digest(1),
        "compressed_size_bytes": "2816445",
        "size_bytes": "5861888",
        "updated_at": "2026-05-02T10:00:00Z",
        "tags": "latest;v1.4.2",
    }
    assert (rows[2]["size_bytes"], rows[2]["tags"], rows[5]["updated_at"]) == ("", "", "")
    assert_golden("manifests.csv", run.out)


def test_csv_no_header(docr: Any) -> None:
    run = docr("-o", "csv", "--no-header")
    assert len(run.lines()) == len(FIXED)
    assert run.lines()[0].startswith(digest(1) + ",")


def test_quiet_prints_full_digests_one_per_line(docr: Any) -> None:
    run = docr("-q")
    assert (run.code, run.err) == (0, "")
    assert run.lines() == [digest(n) for n in range(1, 7)]
    assert docr("-q", "-o", "json").lines() == run.lines()  # -q wins over -o


# -- filters, order, limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--untagged"], [3, 5]),
        (["--tag", "v1.*"], [1, 2]),
        (["--tag", "latest", "--tag", "pr-*"], [1, 4]),
        (["--tag", "V1.*"], []),
        (["--older-than", "30d"], [4, 5]),
        (["--newer-than", "1w"], [1, 2]),
        (["--newer-than", "90m"], []),
        (["--older-than", "1d", "--newer-than", "60d"], [2, 3, 4]),
        (["--untagged", "--older-than", "30d"], [5]),
        (["--sort", "size"], [5, 4, 1, 2, 3, 6]),
        (["--sort", "updated"], [1, 2, 3, 4, 5, 6]),
        (["--sort", "digest"], sorted(range(1, 7), key=digest)),
        (["--limit", "2"], [1, 2]),
        (["--sort", "size", "--limit", "2"], [5, 4]),
        (["--tag", "*", "--limit", "3"], [1, 2, 4]),
    ],
)
def test_filters_sort_and_limit(docr: Any, flags: list[str], expected: list[int]) -> None:
    run = docr("-q", *flags)
    assert run.code == 0
    assert digests_of(run) == expected


def test_limit_without_filter_or_sort_stops_fetching_early(docr: Any, fake: FakeRegistry) -> None:
    fake.generate("example", "big", count=100, seed=3)
    run = docr("-q", "--limit", "3", "--per-page", "10", ref="example/big")
    assert len(run.lines()) == 3
    assert [r.query.get("page") for r in fake.requests] == ["1"]


def test_limit_with_a_filter_stops_once_enough_match(docr: Any, fake: FakeRegistry) -> None:
    fake.generate("example", "big", count=200, seed=3)
    run = docr("-q", "--tag", "*", "--limit", "2", "--per-page", "10", ref="example/big")
    assert len(run.lines()) == 2
    assert len(fake.requests) < 20  # not every page of 200 manifests


def test_sort_fetches_every_page(docr: Any, fake: FakeRegistry) -> None:
    fake.generate("example", "big", count=45, seed=3)
    run = docr("-q", "--sort", "size", "--limit", "1", "--per-page", "10", ref="example/big")
    biggest = max(fake.manifests("example", "big"), key=lambda m: m["compressed_size_bytes"])
    assert run.lines() == [biggest["digest"]]
    assert sorted(r.query["page"] for r in fake.requests) == ["1", "2", "3", "4", "5"]


def test_per_page_and_endpoint_reach_the_request(docr: Any, fake: FakeRegistry) -> None:
    assert docr("-q", "--per-page", "4").code == 0
    assert {r.query["per_page"] for r in fake.requests} == {"4"}
    assert all(r.raw_path.startswith("/v2/registries/example/repositories/my%2Frepo/digests") for r in fake.requests)
    fake.clear_requests()
    assert docr("-q", "--legacy-endpoint").code == 0
    assert fake.requests[0].raw_path.startswith("/v2/registry/example/repositories/my%2Frepo/digests")
    assert docr("-q", "--registries-endpoint").code == 2  # replaced: the current path is the default


def test_every_page_of_a_big_repository_exactly_once(docr: Any, fake: FakeRegistry) -> None:
    expected = fake.generate("example", "big", count=450, seed=5)
    run = docr("-q", ref="example/big")
    assert run.lines() == [m["digest"] for m in expected]


# -- errors and exit codes --------------------------------------------------------------------------


def test_unknown_repository(docr: Any) -> None:
    run = docr(ref="example/nope")
    assert (run.code, run.out) == (1, "")
    assert run.err == "docr: repository example/nope not found (404 not_found)\n"


def test_bad_token_names_its_source_never_its_value(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeRegistry(token="the-right-one") as fake:
        fake.add_manifests("example", "my/repo", FIXED)
        code = main(["manifests", REF, "--api-url", fake.url, "-v"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    last = err.splitlines()[-1]
    assert last.startswith("docr: authentication failed (401 unauthorized): ")
    assert last.endswith("the token came from DIGITALOCEAN_TOKEN")
    assert "Traceback" in err  # -v shows it
    assert SECRET not in err


def test_server_error_after_retries(docr: Any, fake: FakeRegistry) -> None:
    fake.fail_next(500, count=10)
    run = docr()
    assert (run.code, run.out) == (1, "")
    assert run.err.startswith("docr: server error (500 ")
    assert run.err.rstrip().endswith("[gave up after 4 attempts]")
    assert len(run.err.splitlines()) == 1
    assert len(fake.requests) == 4


def test_network_error_names_the_api_it_could_not_reach(docr: Any) -> None:
    run = docr("--api-url", "http://127.0.0.1:9", api=False)
    assert run.code == 1
    assert run.err.startswith("docr: cannot reach http://127.0.0.1:9: connection failed: ")
    assert run.err.endswith("[gave up after 4 attempts]\n")
    assert len(run.err.splitlines()) == 1


@pytest.mark.parametrize(
    ("status", "start", "end"),
    [
        (403, "docr: permission denied (403 ", "; the token needs the registry:read scope\n"),
        (429, "docr: rate limited (429 too_many_requests): ", "[gave up after 4 attempts]\n"),
        (502, "docr: server error (502 ", "[gave up after 4 attempts]\n"),
    ],
)
def test_api_errors_are_one_line_and_exit_1(docr: Any, fake: FakeRegistry, status: int, start: str, end: str) -> None:
    fake.fail_next(status, count=10)
    run = docr()
    assert (run.code, run.out) == (1, "")
    assert run.err.startswith(start)
    assert run.err.endswith(end)
    assert len(run.err.splitlines()) == 1


def test_rate_limit_with_a_long_wait_says_how_long(docr: Any, fake: FakeRegistry) -> None:
    fake.fail_next(429, retry_after=120)
    run = docr()
    assert run.code == 1
    assert run.err.startswith("docr: rate limited (429 too_many_requests): ")
    assert run.err.endswith("; the API asks to wait 120s\n")
    assert len(fake.requests) == 1  # longer than docr is willing to sleep through


def test_api_url_from_the_environment(docr: Any, fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITALOCEAN_API_URL", fake.url)
    run = docr("-q", api=False)
    assert (run.code, run.err) == (0, "")
    assert len(run.lines()) == len(FIXED)
    monkeypatch.setenv("DIGITALOCEAN_API_URL", "http://127.0.0.1:9")
    assert docr("-q", api=False).err.startswith("docr: cannot reach http://127.0.0.1:9: ")
    assert docr("-q").code == 0  # --api-url wins


def test_bad_api_url_is_a_usage_error(docr: Any) -> None:
    run = docr("--api-url", "ftp://example.com", api=False)
    assert run.code == 2
    assert run.err.startswith("docr: invalid --api-url: 'ftp://example.com' must be an http(s) URL")


def test_plain_http_to_another_machine_is_warned_about(docr: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_client, "make_client", lambda *args, **kwargs: _Stop())
    run = docr("--api-url", "http://registry-proxy.internal", api=False)
    assert run.err.startswith("docr: warning: http://registry-proxy.internal is plain http: the token travels")


class _Stop:
    def __enter__(self) -> Any:
        raise KeyboardInterrupt

    def __exit__(self, *args: Any) -> None:
        pass


def test_malformed_token_is_a_usage_error_naming_its_source(docr: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", f"{SECRET} {SECRET}")
    run = docr()
    assert run.code == 2
    assert run.err.endswith("(the token came from DIGITALOCEAN_TOKEN)\n")
    assert SECRET not in run.err


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("example/My/Repo", "docr: invalid repository name: 'My/Repo' must be lowercase\n"),
        ("Example/repo", "docr: invalid registry name: 'Example' must be lowercase\n"),
        ("example/my/../repo", "docr: invalid repository name: 'my/../repo' contains a '..' path component\n"),
    ],
)
def test_invalid_names_are_usage_errors_before_any_request(
    docr: Any, fake: FakeRegistry, ref: str, message: str
) -> None:
    run = docr(ref=ref)
    assert (run.code, run.out, run.err) == (2, "", message)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        (f"{REF}:v1.4.2", "names a tag (:v1.4.2); docr lists a whole repository: pass example/my/repo"),
        (f"{REF}@{digest(1)}", "names a digest (@sha256:"),
        ("example", "needs a registry and a repository"),
    ],
)
def test_refs_that_are_not_a_repository(docr: Any, fake: FakeRegistry, ref: str, words: str) -> None:
    run = docr(ref=ref)
    assert run.code == 2
    assert run.err.startswith("docr: ")
    assert words in run.err
    assert len(run.err.splitlines()) == 1
    assert fake.requests == []


@pytest.mark.parametrize(
    "flags",
    [
        ["--untagged", "--tag", "v1"],
        ["--older-than", "30"],
        ["--per-page", "0"],
        ["--per-page", "201"],
        ["--limit", "0"],
        ["--sort", "name"],
        ["-o", "yaml"],
        ["--token", "x"],
    ],
)
def test_bad_flags_exit_2(docr: Any, flags: list[str]) -> None:
    run = docr(*flags)
    assert (run.code, run.out) == (2, "")
    assert run.err.startswith("usage: docr")


def test_no_command_and_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: docr" in capsys.readouterr().err
    assert main(["--help"]) == 0
    help_text = capsys.readouterr().out
    assert "manifests" in help_text
    assert "fake-server" in help_text
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"docr {__version__}\n"


def test_no_token_anywhere(docr: Any, fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGITALOCEAN_TOKEN")
    run = docr()
    assert (run.code, run.out) == (2, "")
    assert run.err.startswith("docr: no API token: set DIGITALOCEAN_TOKEN")
    assert "--demo" in run.err
    assert fake.requests == []


def test_ctrl_c_during_the_listing_exits_130_quietly(
    docr: Any, fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.generate("example", "big", count=100, seed=2)
    seen = 0

    def matches(self: Selection, manifest: Any) -> bool:
        nonlocal seen
        seen += 1
        if seen % 15 == 0:
            raise KeyboardInterrupt  # as Ctrl-C does, half-way through the second page
        return True

    monkeypatch.setattr(Selection, "matches", matches)
    for output in ("table", "jsonl"):
        fake.clear_requests()
        run = docr("-o", output, "--per-page", "10", ref="example/big")
        assert (run.code, run.err) == (130, "")
        assert len(fake.requests) < 10  # the walk stopped: pages 1 and 2, and a few fetched ahead
    assert run.out.count("\n") == 14  # jsonl had printed what arrived before; nothing else was said


def test_unexpected_errors_are_one_line_and_a_traceback_with_verbose(
    docr: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(_client, "make_client", broken)
    run = docr()
    assert (run.code, run.err) == (1, "docr: unexpected error: RuntimeError: boom (run with -v for the traceback)\n")
    verbose = docr("-v")
    assert verbose.code == 1
    assert "Traceback (most recent call last)" in verbose.err
    assert verbose.err.endswith("docr: unexpected error: RuntimeError: boom\n")


def test_demo_cannot_be_mixed_with_a_real_api(docr: Any) -> None:
    run = docr("--demo")  # with --api-url
    assert run.code == 2
    assert "--demo" in run.err


# -- tokens -----------------------------------------------------------------------------------------


def write_doctl_config(tmp_path: Path, text: str) -> None:
    path = tmp_path / "xdg" / "doctl" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)


DOCTL = "access-token: default-token\nauth-contexts:\n  prod: prod-token\ncontext: default\n"


@pytest.mark.parametrize(
    ("env", "flags", "accepted"),
    [
        ({"DIGITALOCEAN_TOKEN": "env-token"}, [], "env-token"),
        ({"DIGITALOCEAN_ACCESS_TOKEN": "access-env-token"}, [], "access-env-token"),
        ({}, [], "default-token"),
        ({}, ["--context", "prod"], "prod-token"),
        ({"DIGITALOCEAN_TOKEN": "env-token"}, ["--context", "prod"], "prod-token"),
        ({"DIGITALOCEAN_CONTEXT": "prod"}, [], "prod-token"),
    ],
)
def test_token_sources(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    flags: list[str],
    accepted: str,
) -> None:
    monkeypatch.delenv("DIGITALOCEAN_TOKEN")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    write_doctl_config(tmp_path, DOCTL)
    with FakeRegistry(token=accepted) as fake:  # answers 401 to any other token
        fake.add_manifests("example", "my/repo", FIXED)
        code = main(["manifests", REF, "-q", "--api-url", fake.url, *flags])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == len(FIXED)


def test_unknown_context_is_a_usage_error(docr: Any, tmp_path: Path) -> None:
    write_doctl_config(tmp_path, DOCTL)
    run = docr("--context", "qa")
    assert run.code == 2
    assert "doctl context 'qa' (from --context) has no token" in run.err
    assert "prod-token" not in run.err


def test_the_token_never_appears_in_any_output(
    docr: Any, fake: FakeRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = [docr("-v", *flags) for flags in ([], ["-o", "table"], ["-o", "csv"], ["--limit", "1"])]
    fake.fail_next(500, count=2)
    outputs.append(docr("-v", "-o", "jsonl"))
    code = main(["-v", "manifests", REF, "--api-url", fake.url])  # -v before the command works too
    captured = capsys.readouterr()
    outputs.append(Run(code, captured.out, captured.err))
    assert all(run.code == 0 for run in outputs)
    assert all("docr: debug: GET /v2/registries/example/repositories/my%2Frepo/digests" in run.err for run in outputs)
    assert "retrying" in outputs[4].err  # -v logs the requests and retries...
    for run in outputs:
        assert SECRET not in run.out
        assert SECRET not in run.err  # ...but never the token


# -- progress and demo -------------------------------------------------------------------------------


def test_no_progress_bar_when_stderr_is_not_a_terminal(docr: Any, fake: FakeRegistry) -> None:
    fake.generate("example", "big", count=100, seed=3)
    run = docr("--per-page", "10", ref="example/big")
    assert run.code == 0
    assert run.err == ""


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def page(number: int, total: int, per_page: int) -> ManifestPage:
    count = max(0, min(per_page, total - (number - 1) * per_page))
    manifests = [Manifest.from_dict({"digest": digest(n)}) for n in range(count)]
    return ManifestPage(manifests=manifests, total=total, page=number, per_page=per_page)


def test_progress_bar_on_a_terminal_for_a_multi_page_listing_only() -> None:
    tty = FakeTTY()
    with PageProgress(tty, enabled=True, label="example/my/repo") as progress:
        progress.on_page(page(1, total=50, per_page=20))
        progress.on_page(page(2, total=50, per_page=20))
        assert progress.shown
    assert "Listing example/my/repo" in tty.getvalue()
    assert (progress.total, progress.pages, progress.received) == (50, 2, 40)

    single = FakeTTY()
    with PageProgress(single, enabled=True, label="example/my/repo") as progress:
        progress.on_page(page(1, total=20, per_page=20))
    assert not progress.shown
    assert single.getvalue() == ""

    capped = FakeTTY()  # --limit 5: one page will do
    with PageProgress(capped, enabled=True, label="x/y", expected=5) as progress:
        progress.on_page(page(1, total=500, per_page=5))
    assert not progress.shown

    for stream, enabled in ((FakeTTY(), False), (io.StringIO(), True)):
        with PageProgress(stream, enabled=enabled, label="x/y") as progress:
            progress.on_page(page(1, total=50, per_page=20))
        assert not progress.shown
        assert stream.getvalue() == ""


def test_demo_needs_no_token(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGITALOCEAN_TOKEN")
    assert main(["manifests", "example/my/repo", "--demo", "-o", "json"]) == 0
    out, err = capsys.readouterr()
    manifests = json.loads(out)
    assert len(manifests) == 60
    assert {(m["registry_name"], m["repository"]) for m in manifests} == {("example", "my/repo")}
    assert err.count("\n") == 1
    assert err.startswith("docr: demo: 60 sample manifests from an embedded fake registry")
    newest = max(dt.datetime.fromisoformat(m["updated_at"]) for m in manifests)
    assert newest == NOW - dt.timedelta(hours=3)  # moved to "now", so ages read as on a live repository


def test_demo_table_is_a_real_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifests", REF, "--demo", "--limit", "15", "-o", "table"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Digest", "Compressed", "Size", "Uncompressed", "Size", "Updated", "At", "Tags"]
    assert len(lines) == 1 + 1 + 15 + 1
    assert "   3 hours ago   " in lines[2]
    assert "latest" in lines[2]
    assert lines[-1].startswith("15 of 60 manifests, ")


def test_demo_is_the_same_for_the_same_ref_and_filters_work(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifests", "example/app", "--demo", "-q"]) == 0
    first = capsys.readouterr().out
    assert main(["manifests", "example/app", "--demo", "-q"]) == 0
    assert capsys.readouterr().out == first
    assert main(["manifests", "example/app", "--demo", "-q", "--untagged", "--older-than", "30d"]) == 0
    untagged_old = capsys.readouterr().out.splitlines()
    assert 0 < len(untagged_old) < 60
    assert set(untagged_old) <= set(first.splitlines())
