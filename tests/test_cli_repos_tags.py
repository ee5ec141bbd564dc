"""``docr repos`` and ``docr tags`` end to end against ``docr.testing.FakeRegistry`` and ``--demo``:
golden tables of the seeded demo registry, every output format, errors and exit codes, names
checked before any request."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

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


# -- repos ------------------------------------------------------------------------------------------


def test_repos_table_of_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_docr("repos", "example", "--demo", "-o", "table")
    assert run.code == 0, run
    assert run.err.startswith("docr: demo: sample registry example (multi-arch images")
    assert run.err.count("\n") == 1
    assert_golden("repos.txt", run.out)


def test_repos_csv_of_the_demo() -> None:
    run = run_docr("repos", "registry.digitalocean.com/example", "--demo", "-o", "csv")
    assert run.code == 0, run
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert [row["name"] for row in rows] == ["api", "base/debian", "tools/migrate", "web/admin", "web/frontend"]
    assert_golden("repos.csv", run.out)


def test_repos_json_is_the_apis_objects(fake: FakeRegistry) -> None:
    run = run_docr("repos", "example", "--api-url", fake.url)  # a pipe: json by default
    assert (run.code, run.err) == (0, "")
    repositories = run.json()
    assert [r["name"] for r in repositories] == fake.repositories("example")
    for repository in repositories:
        listed = fake.manifests("example", repository["name"])
        assert repository["manifest_count"] == len(listed)
        assert repository["tag_count"] == len(fake.tags("example", repository["name"]))
        assert repository["latest_manifest"]["digest"] in {m["digest"] for m in listed}
        assert repository["registry_name"] == "example"


def test_repos_jsonl_quiet_and_no_header(fake: FakeRegistry) -> None:
    lines = run_docr("repos", "example", "-o", "jsonl", "--api-url", fake.url).lines()
    assert len(lines) == 5
    quiet = run_docr("repos", "example", "-q", "--api-url", fake.url)
    assert quiet.lines() == fake.repositories("example")
    table = run_docr("repos", "example", "-o", "table", "--no-header", "--api-url", fake.url)
    assert len(table.lines()) == 5
    assert "Name" not in table.out


def test_repos_pages_with_page_tokens(fake: FakeRegistry) -> None:
    run = run_docr("repos", "example", "-q", "--per-page", "2", "--api-url", fake.url)
    assert run.lines() == fake.repositories("example")
    pages = [r for r in fake.requests if r.path.endswith("/repositoriesV2")]
    assert len(pages) == 3
    assert {r.query["per_page"] for r in pages} == {"2"}


def test_repos_of_an_unknown_registry(fake: FakeRegistry) -> None:
    run = run_docr("repos", "nope", "--api-url", fake.url)
    assert (run.code, run.out) == (1, "")
    assert run.err == "docr: registry nope not found (404 not_found)\n"


@pytest.mark.parametrize(
    ("registry", "message"),
    [
        ("Example", "docr: invalid registry name: 'Example' must be lowercase\n"),
        ("example/web", "docr: 'example/web' is more than a registry: pass its name alone, e.g. example\n"),
        ("https://example", "docr: 'https://example' is a URL; pass the registry's name, e.g. example\n"),
    ],
)
def test_repos_checks_the_name_before_any_request(fake: FakeRegistry, registry: str, message: str) -> None:
    run = run_docr("repos", registry, "--api-url", fake.url)
    assert (run.code, run.out, run.err) == (2, "", message)
    assert fake.requests == []


def test_repos_without_a_token(fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGITALOCEAN_TOKEN")
    run = run_docr("repos", "example", "--api-url", fake.url)
    assert run.code == 2
    assert run.err.startswith("docr: no API token: set DIGITALOCEAN_TOKEN")
    assert fake.requests == []


def test_repos_server_error_is_one_line(fake: FakeRegistry) -> None:
    fake.fail_next(503, count=10)
    run = run_docr("repos", "example", "--api-url", fake.url)
    assert (run.code, run.out) == (1, "")
    assert run.err.startswith("docr: server error (503 ")
    assert run.err.endswith("[gave up after 4 attempts]\n")


# -- tags -------------------------------------------------------------------------------------------


def test_tags_table_of_the_demo() -> None:
    run = run_docr("tags", "example/web/frontend", "--demo", "-o", "table")
    assert run.code == 0, run
    assert_golden("tags.txt", run.out)


def test_tags_csv_of_the_demo() -> None:
    run = run_docr("tags", "registry.digitalocean.com/example/tools/migrate", "--demo", "-o", "csv")
    assert run.code == 0, run
    assert_golden("tags.csv", run.out)


def test_tags_of_a_repository_the_demo_does_not_seed_are_generated() -> None:
    run = run_docr("tags", "example/my/repo", "--demo", "-q")
    assert run.code == 0, run
    assert run.err.startswith("docr: demo: 60 sample manifests from an embedded fake registry")
    assert len(run.lines()) > 10


def test_tags_json_names_each_tags_manifest(fake: FakeRegistry) -> None:
    run = run_docr("tags", "example/web/frontend", "-o", "json", "--api-url", fake.url)
    assert run.code == 0, run
    assert {t["tag"]: t["manifest_digest"] for t in run.json()} == fake.tags("example", "web/frontend")
    assert all(t["updated_at"].endswith("Z") for t in run.json())
    jsonl = run_docr("tags", "example/web/frontend", "-o", "jsonl", "--api-url", fake.url)
    assert [json.loads(line) for line in jsonl.lines()] == run.json()


def test_tags_quiet_full_digest_and_legacy_endpoint(fake: FakeRegistry) -> None:
    quiet = run_docr("tags", "example/web/admin", "-q", "--api-url", fake.url)
    assert sorted(quiet.lines()) == sorted(fake.tags("example", "web/admin"))
    full = run_docr("tags", "example/web/admin", "-o", "table", "--full-digest", "--api-url", fake.url)
    assert fake.tags("example", "web/admin")["latest"] in full.out
    fake.clear_requests()
    assert run_docr("tags", "example/web/admin", "-q", "--legacy-endpoint", "--api-url", fake.url).code == 0
    assert fake.requests[0].raw_path.startswith("/v2/registry/example/repositories/web%2Fadmin/tags")


def test_tags_summary_counts_manifests_once(fake: FakeRegistry) -> None:
    run = run_docr("tags", "example/web/admin", "-o", "table", "--api-url", fake.url)
    assert run.lines()[-1].startswith("3 tags of 2 manifests, ")


def test_tags_of_an_unknown_repository(fake: FakeRegistry) -> None:
    run = run_docr("tags", "example/nope", "--api-url", fake.url)
    assert (run.code, run.out, run.err) == (1, "", "docr: repository example/nope not found (404 not_found)\n")


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("example/Web", "invalid repository name: 'Web' must be lowercase"),
        ("example/web/frontend:latest", "names a tag (:latest)"),
        ("example", "needs a registry and a repository"),
    ],
)
def test_tags_checks_the_reference_before_any_request(fake: FakeRegistry, ref: str, words: str) -> None:
    run = run_docr("tags", ref, "--api-url", fake.url)
    assert (run.code, run.out) == (2, "")
    assert words in run.err
    assert run.err.count("\n") == 1
    assert fake.requests == []


def test_demo_cannot_be_mixed_with_a_real_api(fake: FakeRegistry) -> None:
    for argv in (["repos", "example"], ["tags", "example/api"]):
        run = run_docr(*argv, "--demo", "--api-url", fake.url)
        assert run.code == 2
        assert "--demo" in run.err


# -- manifests --demo on the seeded registry --------------------------------------------------------


def test_manifests_demo_shows_the_seeded_multi_arch_data() -> None:
    run = run_docr("manifests", "example/web/frontend", "--demo", "-o", "table")
    assert run.code == 0, run
    assert run.err.startswith("docr: demo: sample registry example")
    assert run.lines()[-1].startswith("46 manifests, ")
    assert_golden("manifests_demo_frontend.txt", run.out)


def test_demo_digests_are_the_same_whatever_now_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """What one demo command lists, the next can be given: digests do not depend on the time."""
    first = run_docr("manifests", "example/tools/migrate", "--demo", "-q").lines()
    from docr.cli import _filters

    monkeypatch.setattr(_filters, "now", lambda: NOW.replace(year=2027, hour=7, minute=13))
    assert run_docr("manifests", "example/tools/migrate", "--demo", "-q").lines() == first
    ages = run_docr("manifests", "example/tools/migrate", "--demo", "-o", "table")
    assert "2 weeks ago" in ages.out  # moved with "now": the newest build is as old as it was
