"""``docr delete REF@DIGEST`` and ``docr delete REF:TAG``: what goes is shown first, a terminal
is asked, scripts pass ``--yes``, nothing is sent for a bad reference or without a way to confirm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docr.testing import FakeRegistry
from tests.cli_support import NOW, assert_golden, run_docr, setup_env

MIGRATE = "example/tools/migrate"


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli_retries_without_waits: None) -> None:
    setup_env(monkeypatch, tmp_path)


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as registry:
        registry.seed_demo("example", now=NOW)
        yield registry


def untagged(fake: FakeRegistry, repository: str = "tools/migrate") -> list[str]:
    return [m["digest"] for m in fake.manifests("example", repository) if not m["tags"]]


def tagged(fake: FakeRegistry, tag: str, repository: str = "tools/migrate") -> str:
    return fake.tags("example", repository)[tag]


def deletes(fake: FakeRegistry) -> list[str]:
    return [r.raw_path for r in fake.requests if r.method == "DELETE"]


# -- confirmation -----------------------------------------------------------------------------------


def test_a_terminal_is_asked_and_yes_deletes(fake: FakeRegistry) -> None:
    digest = tagged(fake, "2025.04")
    run = run_docr("delete", f"{MIGRATE}@{digest}", "--api-url", fake.url, stdin="y\n")
    assert run.code == 0, run
    assert run.err == (
        f"Delete manifest {MIGRATE}@{digest}\n"
        "  pushed 3 months ago, 5.17 MiB compressed\n"
        "  its tags go with it: 2025.04\n"
        f"Delete {MIGRATE}@{digest}? [y/N] "
    )
    assert run.out == f"deleted manifest {MIGRATE}@{digest} and its tags 2025.04\n"
    assert digest not in {m["digest"] for m in fake.manifests("example", "tools/migrate")}
    assert "2025.04" not in fake.tags("example", "tools/migrate")


@pytest.mark.parametrize("answer", ["n\n", "\n", "", "no\n", "yep\n"])
def test_anything_but_yes_deletes_nothing(fake: FakeRegistry, answer: str) -> None:
    before = fake.manifests("example", "tools/migrate")
    run = run_docr("delete", f"{MIGRATE}:latest", "--api-url", fake.url, stdin=answer)
    assert (run.code, run.out) == (1, "")
    assert run.err.endswith("? [y/N] " + ("" if answer.endswith("\n") else "\n") + "docr: nothing deleted\n")
    assert deletes(fake) == []
    assert fake.manifests("example", "tools/migrate") == before


@pytest.mark.parametrize("answer", ["Y\n", "yes\n", " YES \n"])
def test_yes_in_any_case(fake: FakeRegistry, answer: str) -> None:
    assert run_docr("delete", f"{MIGRATE}:latest", "--api-url", fake.url, stdin=answer).code == 0
    assert "latest" not in fake.tags("example", "tools/migrate")


def test_without_a_terminal_and_without_yes_nothing_is_asked_nor_sent(fake: FakeRegistry) -> None:
    run = run_docr("delete", f"{MIGRATE}:latest", "--api-url", fake.url)
    assert (run.code, run.out) == (2, "")
    assert run.err == ("docr: refusing to delete without confirmation: stdin is not a terminal; pass --yes to delete\n")
    assert fake.requests == []


def test_yes_deletes_without_asking(fake: FakeRegistry) -> None:
    run = run_docr("delete", f"{MIGRATE}:latest", "--yes", "--api-url", fake.url)
    assert run.code == 0, run
    assert "[y/N]" not in run.err
    assert run.out == f"deleted tag {MIGRATE}:latest\n"
    assert "latest" not in fake.tags("example", "tools/migrate")
    assert deletes(fake) == ["/v2/registries/example/repositories/tools%2Fmigrate/tags/latest"]


def test_yes_on_a_terminal_does_not_ask_either(fake: FakeRegistry) -> None:
    run = run_docr("delete", f"{MIGRATE}:latest", "-y", "--api-url", fake.url, stdin="n\n")
    assert run.code == 0
    assert "latest" not in fake.tags("example", "tools/migrate")


# -- what goes --------------------------------------------------------------------------------------


def test_an_untagged_manifest_is_deleted_with_a_warning(fake: FakeRegistry) -> None:
    digest = untagged(fake)[0]
    run = run_docr("delete", f"registry.digitalocean.com/{MIGRATE}@{digest}", "--yes", "--api-url", fake.url)
    assert run.code == 0, run
    assert "  it has no tags\n" in run.err
    warning = run.err.splitlines()[-1]
    assert warning.startswith("docr: warning: an untagged manifest may be the platform or attestation manifest")
    assert "`docr prune` checks image indexes first" in warning
    assert digest not in {m["digest"] for m in fake.manifests("example", "tools/migrate")}


def test_a_tag_whose_manifest_keeps_other_tags(fake: FakeRegistry) -> None:
    digest = tagged(fake, "latest", "web/admin")
    run = run_docr("delete", "example/web/admin:v2.3.1", "--yes", "--api-url", fake.url)
    assert run.code == 0, run
    assert run.err.splitlines() == [
        "Delete tag example/web/admin:v2.3.1",
        f"  of manifest {digest} (pushed 2 days ago)",
        "  the manifest stays, tagged latest",
    ]
    assert fake.tags("example", "web/admin")["latest"] == digest
    assert digest in {m["digest"] for m in fake.manifests("example", "web/admin")}


def test_a_manifests_last_tag_leaves_it_untagged(fake: FakeRegistry) -> None:
    digest = tagged(fake, "main", "web/frontend")
    run = run_docr("delete", "example/web/frontend:main", "--yes", "--api-url", fake.url)
    assert run.code == 0, run
    assert "  the manifest stays, untagged: this is its last tag" in run.err
    assert digest in untagged(fake, "web/frontend")


def test_delete_plan_golden_on_the_demo() -> None:
    run = run_docr("delete", "example/web/frontend:v1.5.0", "--demo", stdin="y\n")
    assert run.code == 0, run
    notice, *plan = run.err.splitlines(keepends=True)
    assert notice.startswith("docr: demo: sample registry example")
    assert run.out.endswith(" (demo: in the embedded fake registry only)\n")
    assert_golden("delete_tag.txt", "".join(plan) + "\n" + run.out)


# -- names checked before anything is sent ----------------------------------------------------------

BAD = [
    (f"{MIGRATE}@sha256:abc", "docr: invalid digest: 'sha256:abc': a sha256 digest is 64 lowercase hex digits"),
    (f"{MIGRATE}@sha256:{'A' * 64}", "docr: invalid digest: "),
    (f"{MIGRATE}@md5:{'a' * 32}", "uses the algorithm 'md5'; docr accepts sha256 and sha512 digests only"),
    (f"{MIGRATE}:-bad", "docr: invalid tag: '-bad' must start with a letter, digit or '_'"),
    (f"{MIGRATE}:{'a' * 129}", "characters long; the limit is 128"),
    (f"{MIGRATE}:v1+build", "docr: invalid tag: 'v1+build'"),
    (MIGRATE, "names no manifest or tag: pass REGISTRY/REPOSITORY@sha256:... or ...:TAG"),
    (f"{MIGRATE}:v1@sha256:{'a' * 64}", "names both a tag and a digest"),
    ("example/Tools:v1", "docr: invalid repository name: 'Tools' must be lowercase"),
    ("ghcr.io/owner/repo:v1", "is not in DigitalOcean Container Registry"),
]


@pytest.mark.parametrize(("ref", "words"), BAD)
def test_bad_references_are_refused_before_any_request(fake: FakeRegistry, ref: str, words: str) -> None:
    run = run_docr("delete", ref, "--yes", "--api-url", fake.url)
    assert (run.code, run.out) == (2, "")
    assert words in run.err
    assert run.err.count("\n") == 1
    assert fake.requests == []


def test_a_bad_reference_is_reported_before_a_missing_token(
    fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIGITALOCEAN_TOKEN")
    run = run_docr("delete", f"{MIGRATE}:-bad", "--yes", "--api-url", fake.url)
    assert run.code == 2
    assert "invalid tag" in run.err


# -- not found, conflicts, errors -------------------------------------------------------------------


def test_a_digest_the_listing_lacks_is_not_found_and_nothing_is_deleted(fake: FakeRegistry) -> None:
    digest = "sha256:" + "e" * 64
    run = run_docr("delete", f"{MIGRATE}@{digest}", "--yes", "--api-url", fake.url)
    assert (run.code, run.out) == (1, "")
    assert run.err == f"docr: manifest {MIGRATE}@{digest} not found: the listing of {MIGRATE} does not have it\n"
    assert deletes(fake) == []


def test_a_tag_the_listing_lacks_is_not_found(fake: FakeRegistry) -> None:
    run = run_docr("delete", f"{MIGRATE}:v9", "--yes", "--api-url", fake.url)
    assert (run.code, run.err) == (1, f"docr: tag {MIGRATE}:v9 not found: the listing of {MIGRATE} does not have it\n")


def test_an_unknown_repository(fake: FakeRegistry) -> None:
    run = run_docr("delete", "example/nope:v1", "--yes", "--api-url", fake.url)
    assert (run.code, run.err) == (1, "docr: repository example/nope not found (404 not_found)\n")


def test_a_404_to_the_delete_names_what_was_not_found(fake: FakeRegistry) -> None:
    digest = untagged(fake)[0]
    fake.fail_next(404, operation="delete_manifest")
    run = run_docr("delete", f"{MIGRATE}@{digest}", "--yes", "--api-url", fake.url)
    assert run.code == 1
    assert run.err.splitlines()[-1] == f"docr: manifest {MIGRATE}@{digest} not found (404 not_found)"


def test_a_delete_while_a_garbage_collection_runs_says_what_to_do(fake: FakeRegistry) -> None:
    fake.gc_step_seconds = 3600
    assert run_docr("gc", "start", "example", "--api-url", fake.url).code == 0
    run = run_docr("delete", f"{MIGRATE}:latest", "--yes", "--api-url", fake.url)
    assert (run.code, run.out) == (1, "")
    last = run.err.splitlines()[-1]
    assert last.startswith("docr: conflict (409 conflict): registry example is read-only while garbage collection ")
    assert last.endswith("; wait for it (`docr gc wait example`), then retry")
    assert "latest" in fake.tags("example", "tools/migrate")


def test_a_lost_answer_to_the_delete_is_retried_and_counted_once(fake: FakeRegistry) -> None:
    fake.fail_next("lost", operation="delete_tag")
    run = run_docr("delete", f"{MIGRATE}:latest", "--yes", "--api-url", fake.url)
    assert run.code == 0, run
    assert len(deletes(fake)) == 2
    assert "latest" not in fake.tags("example", "tools/migrate")


def test_permission_denied_names_the_delete_scope(fake: FakeRegistry) -> None:
    fake.fail_next(403, operation="delete_tag")
    run = run_docr("delete", f"{MIGRATE}:latest", "--yes", "--api-url", fake.url)
    assert run.code == 1
    assert run.err.rstrip().endswith("; the token needs the registry:delete scope")


def test_the_legacy_endpoint_deletes_through_the_deprecated_path(fake: FakeRegistry) -> None:
    digest = untagged(fake)[0]
    run = run_docr("delete", f"{MIGRATE}@{digest}", "--yes", "--legacy-endpoint", "--api-url", fake.url)
    assert run.code == 0, run
    assert deletes(fake) == [f"/v2/registry/example/repositories/tools%2Fmigrate/digests/{digest.replace(':', '%3A')}"]


def test_ctrl_c_at_the_prompt_exits_130_and_deletes_nothing(
    fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docr.cli import _delete

    def interrupted(*args: object) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(_delete, "confirm", interrupted)
    run = run_docr("delete", f"{MIGRATE}:latest", "--api-url", fake.url, stdin="y\n")
    assert (run.code, run.out) == (130, "")
    assert deletes(fake) == []
