"""docr.testing data: the store's order and updates, changes mid-walk, and generated manifests."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from docr.testing import FakeRegistry, RecordedRequest

PATH = "/v2/registry/example/repositories/my%2Frepo/digests"
REFERENCE = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def manifest(n: int, updated_at: str | None = "2026-01-01T00:00:00Z", **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"digest": f"sha256:{n:064x}", **fields}
    if updated_at is not None:
        item["updated_at"] = updated_at
    return item


def digests(items: list[dict[str, Any]]) -> list[str]:
    return [item["digest"] for item in items]


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        yield fake


@pytest.fixture
def client(fake: FakeRegistry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers={"Authorization": "Bearer t"}) as client:
        yield client


def test_manifests_are_listed_newest_first_ties_by_digest() -> None:
    fake = FakeRegistry()  # the data side works without starting the server
    fake.add_manifests(
        "example",
        "my/repo",
        [
            manifest(3, "2026-01-01T00:00:00Z"),
            manifest(1, "2026-03-01T00:00:00+00:00"),
            manifest(2, "2026-01-01T00:00:00Z"),
            manifest(4, None),  # upstream makes every field optional: no date sorts as the oldest
            manifest(5, "2026-02-01T10:00:00.500Z"),
        ],
    )
    assert digests(fake.manifests("example", "my/repo")) == digests([manifest(n) for n in (1, 5, 2, 3, 4)])


def test_pushing_a_digest_again_replaces_it() -> None:
    fake = FakeRegistry()
    fake.add_manifests("example", "my/repo", [manifest(1, "2026-01-01T00:00:00Z"), manifest(2, "2026-01-02T00:00:00Z")])
    fake.add_manifests("example", "my/repo", [manifest(1, "2026-01-03T00:00:00Z", tags=["new"])])
    listed = fake.manifests("example", "my/repo")
    assert digests(listed) == digests([manifest(1), manifest(2)])
    assert listed[0]["tags"] == ["new"]


@pytest.mark.parametrize("count", [5, 100])  # one at a time, and the bulk path
def test_add_and_delete_keep_the_order(count: int) -> None:
    fake = FakeRegistry()
    items = [manifest(n, f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z") for n in range(count)]
    fake.add_manifests("example", "my/repo", items[::2])
    fake.add_manifests("example", "my/repo", items[1::2])
    assert digests(fake.manifests("example", "my/repo")) == digests(items[::-1])
    fake.delete_manifests("example", "my/repo", digests(items[: count // 2]))
    assert digests(fake.manifests("example", "my/repo")) == digests(items[count // 2 :][::-1])


def test_data_is_copied_in_and_out() -> None:
    fake = FakeRegistry()
    mine = manifest(1, tags=["a"])
    fake.add_manifests("example", "my/repo", [mine])
    mine["tags"].append("changed")
    fake.manifests("example", "my/repo")[0]["tags"].append("changed too")
    generated = fake.generate("example", "other", count=1, seed=1)
    generated[0]["digest"] = "mutated"
    assert fake.manifests("example", "my/repo")[0]["tags"] == ["a"]
    assert fake.manifests("example", "other")[0]["digest"] != "mutated"


def test_bad_input_is_refused() -> None:
    fake = FakeRegistry()
    with pytest.raises(ValueError, match="digest"):
        fake.add_manifests("example", "my/repo", [{"tags": []}])
    with pytest.raises(ValueError, match="updated_at"):
        fake.add_manifests("example", "my/repo", [{"digest": "sha256:1", "updated_at": 5}])
    with pytest.raises(ValueError, match="repository name"):
        fake.add_manifests("example", "/my/repo", [])
    with pytest.raises(ValueError, match="registry name"):
        fake.add_manifests("a/b", "repo", [])
    with pytest.raises(TypeError):
        fake.add_manifests("example", "my/repo", [{"digest": "sha256:1", "x": object()}])


def test_deleting_an_unknown_digest_deletes_nothing() -> None:
    fake = FakeRegistry()
    fake.add_manifests("example", "my/repo", [manifest(1), manifest(2)])
    with pytest.raises(KeyError, match="sha256:nope"):
        fake.delete_manifests("example", "my/repo", [manifest(1)["digest"], "sha256:nope"])
    assert len(fake.manifests("example", "my/repo")) == 2
    with pytest.raises(KeyError, match="no such repository"):
        fake.delete_manifests("example", "nope", [])
    with pytest.raises(KeyError, match="no such repository"):
        fake.manifests("nope", "my/repo")


def test_a_push_mid_walk_shifts_later_pages(fake: FakeRegistry, client: httpx.Client) -> None:
    listed = fake.generate("example", "my/repo", count=30, seed=1)

    def push_before_page_2(request: RecordedRequest) -> None:
        if request.query.get("page") == "2":
            fake.add_manifests("example", "my/repo", [manifest(999, "2026-06-01T00:00:00Z")])

    fake.on_request(push_before_page_2)
    page1 = client.get(PATH, params={"per_page": 10}).json()
    page2 = client.get(PATH, params={"per_page": 10, "page": 2}).json()
    # As on DOCR (offset paging): the last manifest of page 1 is listed again at the top of page 2.
    assert digests(page1["manifests"]) == digests(listed[:10])
    assert digests(page2["manifests"]) == digests(listed[9:19])
    assert page2["meta"] == {"total": 31}


def test_a_delete_mid_walk_skips_a_manifest(fake: FakeRegistry, client: httpx.Client) -> None:
    listed = fake.generate("example", "my/repo", count=30, seed=1)

    @fake.on_request  # returns the callback, so it works as a decorator
    def delete_before_page_2(request: RecordedRequest) -> None:
        if request.query.get("page") == "2":
            fake.delete_manifests("example", "my/repo", [listed[0]["digest"]])

    client.get(PATH, params={"per_page": 10})
    page2 = client.get(PATH, params={"per_page": 10, "page": 2}).json()
    assert digests(page2["manifests"]) == digests(listed[11:21])  # listed[10] is never served
    fake.on_request(None)
    assert client.get(PATH, params={"per_page": 10, "page": 2}).json()["meta"] == {"total": 29}


def test_the_callback_sees_each_request_before_it_is_answered(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.add_manifests("example", "my/repo", [])
    seen: list[RecordedRequest] = []
    fake.on_request(seen.append)
    client.get(PATH, params={"page": 1})
    client.get("/v2/elsewhere")
    assert [(request.raw_path, request.status) for request in seen] == [
        (f"{PATH}?page=1", None),
        ("/v2/elsewhere", None),
    ]
    assert [request.status for request in fake.requests] == [200, 404]


def test_generation_is_deterministic_per_seed() -> None:
    fake = FakeRegistry()
    first = fake.generate("example", "a", count=200, seed=5)
    assert FakeRegistry().generate("example", "a", count=200, seed=5) == first
    assert digests(FakeRegistry().generate("example", "a", count=200, seed=6)) != digests(first)
    assert fake.manifests("example", "a") == first


def test_generated_manifests_are_realistic() -> None:
    items = FakeRegistry().generate("example", "my/repo", count=3000, seed=11)
    assert len({item["digest"] for item in items}) == 3000
    for item in items:
        assert DIGEST.fullmatch(item["digest"])
        assert (item["registry_name"], item["repository"]) == ("example", "my/repo")
        assert 3_000_000 <= item["size_bytes"] <= 1_000_000_000
        assert 0 < item["compressed_size_bytes"] < item["size_bytes"]
        when = datetime.strptime(item["updated_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert REFERENCE - timedelta(days=183) <= when <= REFERENCE
        assert 1 <= len(item["blobs"]) <= 10
        for blob in item["blobs"]:
            assert DIGEST.fullmatch(blob["digest"])
            assert blob["compressed_size_bytes"] > 0
        assert sum(blob["compressed_size_bytes"] for blob in item["blobs"]) == item["compressed_size_bytes"]
    stamps = [item["updated_at"] for item in items]
    assert stamps == sorted(stamps, reverse=True)
    assert min(stamps) < "2025-12-01" and max(stamps) > "2026-04-01"  # spread over months
    sizes = sorted(item["size_bytes"] for item in items)
    assert sizes[300] < 20_000_000 and sizes[-300] > 300_000_000  # small ones and ~1 GB ones
    untagged = [item for item in items if not item.get("tags")]
    assert 0.15 <= len(untagged) / len(items) <= 0.25
    assert any("tags" not in item for item in untagged) and any(item.get("tags") == [] for item in untagged)
    tags = [tag for item in items for tag in item.get("tags", [])]
    assert len(tags) == len(set(tags)), "a tag names one manifest"
    assert sum(len(item.get("tags", [])) >= 2 for item in items) > 100
    assert next(item for item in items if item.get("tags"))["tags"][0] == "latest"
    kinds = Counter(
        "version" if re.fullmatch(r"v\d+\.\d+\.\d+", tag) else "sha" if re.fullmatch(r"[0-9a-f]{7}", tag) else tag[:3]
        for tag in tags
    )
    assert kinds["version"] > 500 and kinds["sha"] > 500 and kinds["pr-"] > 50 and kinds["lat"] == 1


def test_served_pages_hold_exactly_the_generated_data(fake: FakeRegistry, client: httpx.Client) -> None:
    # Names that need JSON escaping, since the generator writes its JSON text by hand.
    generated = fake.generate('ex"ample', "tëam/ré\\po", count=25, seed=2)
    response = client.get("/v2/registry/ex%22ample/repositories/t%C3%ABam%2Fr%C3%A9%5Cpo/digests?per_page=25")
    assert response.json()["manifests"] == generated


def test_a_page_of_a_100000_manifest_repository(fake: FakeRegistry, client: httpx.Client) -> None:
    generated = fake.generate("example", "my/repo", count=100_000, seed=1)
    body = client.get(PATH, params={"page": 321, "per_page": 200}).json()
    assert body["manifests"] == generated[64_000:64_200]
    assert body["meta"] == {"total": 100_000}
    assert body["links"]["pages"]["last"].endswith("?page=500&per_page=200")


def test_importing_docr_testing_is_light_and_starts_nothing() -> None:
    script = (
        # Measured from after `import docr`, whose own imports are not this package's to answer for.
        "import sys, threading, docr; before = set(sys.modules); import docr.testing; "
        "print(json.dumps([threading.active_count(), sorted(set(sys.modules) - before)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    threads, modules = json.loads(out)
    assert threads == 1
    foreign = [name for name in modules if name.split(".")[0] not in sys.stdlib_module_names | {"docr"}]
    assert foreign == []
