"""docr.testing garbage collection: the status walk on a clock the test moves, read-only answers, what it frees."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from docr.testing import FakeRegistry, ManualClock

AUTH = {"Authorization": "Bearer test-token"}
GC = "/v2/registries/example/garbage-collection"
STEP = 10.0
WALK = ["requested", "waiting for write JWTs to expire", "scanning manifests", "deleting unreferenced blobs"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeRegistry]:
    with FakeRegistry(clock=clock) as fake:
        fake.gc_step_seconds = STEP
        yield fake


@pytest.fixture
def client(fake: FakeRegistry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers=AUTH, timeout=10) as client:
        yield client


def start(client: httpx.Client, kind: str | None = None, path: str = GC) -> dict[str, Any]:
    response = client.post(path, json={"type": kind} if kind else None)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()["garbage_collection"]
    return body


def active(client: httpx.Client) -> dict[str, Any] | None:
    response = client.get(GC)
    if response.status_code == 404:
        assert response.json()["id"] == "not_found"
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["garbage_collection"]
    return body


def test_a_collection_walks_the_documented_statuses(
    fake: FakeRegistry, client: httpx.Client, clock: ManualClock
) -> None:
    fake.push_image("example", "app", tags=["v1"])
    started = start(client)
    assert started["status"] == "requested"
    assert started["registry_name"] == "example"
    assert started["type"] == "unreferenced blobs only"  # what POST without a body starts
    assert (started["created_at"], started["updated_at"]) == ("2026-05-01T12:00:00Z", "2026-05-01T12:00:00Z")
    seen = []
    for _ in WALK:
        found = active(client)
        assert found is not None and found["uuid"] == started["uuid"]
        seen.append(found["status"])
        clock.advance(STEP)
    assert seen == WALK
    assert active(client) is None
    ended = fake.garbage_collections("example")[0]
    assert ended["status"] == "succeeded"
    assert ended["updated_at"] == "2026-05-01T12:00:40Z"
    assert (ended["blobs_deleted"], ended["freed_bytes"]) == (0, 0)  # nothing was unreferenced


def test_mid_step_the_status_and_its_time_hold(fake: FakeRegistry, client: httpx.Client, clock: ManualClock) -> None:
    fake.push_image("example", "app")
    start(client)
    clock.advance(STEP * 2.5)
    found = active(client)
    assert found is not None
    assert (found["status"], found["updated_at"]) == ("scanning manifests", "2026-05-01T12:00:20Z")


def test_unreferenced_blobs_are_freed_and_counted(fake: FakeRegistry, client: httpx.Client, clock: ManualClock) -> None:
    base = fake.blob(20_000_000)
    kept = fake.push_image("example", "app", tags=["v2"], layers=[base, 3_000_000])
    doomed = fake.push_image("example", "app", tags=["v1"], layers=[base, 5_000_000, 7_000])
    listing = next(m for m in fake.manifests("example", "app") if m["digest"] == doomed)
    freed = {b["digest"]: b["compressed_size_bytes"] for b in listing["blobs"] if b["digest"] != base[0]}
    assert len(freed) == 3  # its config and its own two layers; the base is shared
    before = fake.storage_usage_bytes("example")
    assert client.delete(f"/v2/registries/example/repositories/app/digests/{doomed}").status_code == 204
    start(client, "unreferenced blobs only")
    clock.advance(STEP * len(WALK))
    ended = fake.garbage_collections("example")[0]
    assert (ended["blobs_deleted"], ended["freed_bytes"]) == (3, sum(freed.values()))
    assert fake.storage_usage_bytes("example") == before - sum(freed.values())
    assert base[0] in fake.blobs("example")  # still named by the kept image
    assert all(blob.refcount > 0 for blob in fake.blobs("example").values())
    assert [m["digest"] for m in fake.manifests("example", "app")] == [kept]
    registry = client.get("/v2/registries/example").json()["registry"]
    assert registry["storage_usage_bytes"] == fake.storage_usage_bytes("example")


def children(fake: FakeRegistry, repository: str, digest: str) -> list[str]:
    info = fake.manifest_info("example", repository, digest)
    assert info is not None
    found: list[str] = info["children"]
    return found


def test_untagged_manifests_go_but_children_of_tagged_indexes_stay(
    fake: FakeRegistry, client: httpx.Client, clock: ManualClock
) -> None:
    kept_index = fake.push_index("example", "web", tags=["v2"], updated_at="2026-04-02T00:00:00Z")
    stale_index = fake.push_index("example", "web", tags=["v1"], updated_at="2026-04-01T00:00:00Z")
    assert client.delete("/v2/registries/example/repositories/web/tags/v1").status_code == 204
    stale_plain = fake.push_image("example", "web", updated_at="2026-03-01T00:00:00Z")
    signature = fake.push_image("example", "web", subject=kept_index)
    kept = {kept_index, *children(fake, "web", kept_index)}
    doomed = {stale_index, stale_plain, signature, *children(fake, "web", stale_index)}
    assert len(kept) == 5 and len(doomed) == 7
    assert {m["digest"] for m in fake.manifests("example", "web")} == kept | doomed
    start(client, "untagged manifests only")
    clock.advance(STEP * len(WALK))
    assert {m["digest"] for m in fake.manifests("example", "web")} == kept
    ended = fake.garbage_collections("example")[0]
    assert (ended["status"], ended["blobs_deleted"], ended["freed_bytes"]) == ("succeeded", 0, 0)
    # Manifests only: their blobs are still held, now unreferenced, for a later blob collection.
    assert any(blob.refcount == 0 for blob in fake.blobs("example").values())
    before = fake.storage_usage_bytes("example")
    start(client, "unreferenced blobs only")
    clock.advance(STEP * len(WALK))
    second = fake.garbage_collections("example")[0]
    assert second["blobs_deleted"] > 0
    assert fake.storage_usage_bytes("example") == before - second["freed_bytes"]


def test_both_types_at_once_free_the_stale_images_bytes(
    fake: FakeRegistry, client: httpx.Client, clock: ManualClock
) -> None:
    fake.seed_demo("example")
    before = fake.storage_usage_bytes("example")
    counts = {repo: len(fake.manifests("example", repo)) for repo in fake.repositories("example")}
    start(client, "untagged manifests and unreferenced blobs")
    clock.advance(STEP * len(WALK))
    ended = fake.garbage_collections("example")[0]
    assert ended["blobs_deleted"] > 0
    assert fake.storage_usage_bytes("example") == before - ended["freed_bytes"] < before
    after = {repo: len(fake.manifests("example", repo)) for repo in fake.repositories("example")}
    assert after == {
        **counts,
        "api": counts["api"] - 4,
        "tools/migrate": 3,
        "web/admin": 2,
        "web/frontend": counts["web/frontend"] - 11,
    }
    # Every tagged index still has all its children.
    for repo in fake.repositories("example"):
        present = {m["digest"] for m in fake.manifests("example", repo)}
        for digest in set(fake.tags("example", repo).values()):
            assert set(children(fake, repo, digest)) <= present


@pytest.mark.parametrize("method", ["delete_manifest", "delete_tag"])
def test_deletes_are_refused_409_while_a_collection_is_active(
    fake: FakeRegistry, client: httpx.Client, clock: ManualClock, method: str
) -> None:
    digest = fake.push_image("example", "app", tags=["v1"])
    path = (
        f"/v2/registries/example/repositories/app/digests/{digest}"
        if method == "delete_manifest"
        else "/v2/registries/example/repositories/app/tags/v1"
    )
    collection = start(client)
    for _ in WALK:
        refused = client.delete(path)
        assert refused.status_code == 409
        assert refused.json()["id"] == "conflict"
        assert "read-only" in refused.json()["message"] and collection["uuid"] in refused.json()["message"]
        clock.advance(STEP)
    assert fake.tags("example", "app") == {"v1": digest}  # nothing was deleted meanwhile
    assert client.delete(path).status_code == 204


def test_another_registry_is_not_read_only(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.push_image("example", "app")
    other = fake.push_image("other", "app")
    start(client)
    assert client.delete(f"/v2/registries/other/repositories/app/digests/{other}").status_code == 204


def test_starting_while_one_is_active_is_409(fake: FakeRegistry, client: httpx.Client, clock: ManualClock) -> None:
    fake.push_image("example", "app")
    first = start(client)
    second = client.post(GC, json={"type": "unreferenced blobs only"})
    assert second.status_code == 409
    assert second.json()["id"] == "conflict"
    assert first["uuid"] in second.json()["message"]
    clock.advance(STEP * len(WALK))
    assert start(client)["uuid"] != first["uuid"]
    assert [gc["uuid"] for gc in fake.garbage_collections("example")][1] == first["uuid"]


@pytest.mark.parametrize(
    "body", [b'{"type": "everything"}', b"not json", b'["untagged manifests only"]', b'{"type": 1}']
)
def test_a_body_the_operation_cannot_take_is_400(fake: FakeRegistry, client: httpx.Client, body: bytes) -> None:
    fake.push_image("example", "app")
    response = client.post(GC, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["id"] == "bad_request"
    assert fake.garbage_collections("example") == []


def test_cancel_goes_through_cancelling_to_cancelled_and_frees_nothing(
    fake: FakeRegistry, client: httpx.Client, clock: ManualClock
) -> None:
    digest = fake.push_image("example", "app", tags=["v1"])
    fake.push_image("example", "app", tags=["v1"])  # the first is untagged now
    started = start(client, "untagged manifests and unreferenced blobs")
    clock.advance(STEP)
    path = f"{GC}/{started['uuid']}"
    response = client.put(path, json={"cancel": True})
    assert response.status_code == 200
    assert response.json()["garbage_collection"]["status"] == "cancelling"
    assert client.delete(f"/v2/registries/example/repositories/app/digests/{digest}").status_code == 409
    clock.advance(STEP)
    assert active(client) is None
    ended = fake.garbage_collections("example")[0]
    assert (ended["status"], ended["updated_at"]) == ("cancelled", "2026-05-01T12:00:20Z")
    assert digest in {m["digest"] for m in fake.manifests("example", "app")}
    again = client.put(path, json={"cancel": True})
    assert again.status_code == 409
    assert "cancelled" in again.json()["message"]
    assert client.put(f"{GC}/no-such-uuid", json={"cancel": True}).status_code == 404


def test_a_put_without_cancel_changes_nothing(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.push_image("example", "app")
    started = start(client)
    response = client.put(f"{GC}/{started['uuid']}", json={})
    assert response.status_code == 200
    assert response.json()["garbage_collection"]["status"] == "requested"
    assert client.put(f"{GC}/{started['uuid']}", json={"cancel": "yes"}).status_code == 400


def test_an_undocumented_status_can_be_walked(fake: FakeRegistry, client: httpx.Client, clock: ManualClock) -> None:
    fake.push_image("example", "app")
    fake.gc_statuses = (*WALK[:2], "waiting for delete requests", *WALK[2:])  # seen in the wild (doctl#1464)
    start(client)
    seen = []
    while (found := active(client)) is not None:
        seen.append(found["status"])
        clock.advance(STEP)
    assert seen == [*WALK[:2], "waiting for delete requests", *WALK[2:]]
    with pytest.raises(ValueError, match="gc_statuses"):
        fake.gc_statuses = ["succeeded"]


def test_a_failed_collection_frees_nothing(fake: FakeRegistry, client: httpx.Client, clock: ManualClock) -> None:
    digest = fake.push_image("example", "app")
    fake.gc_outcome = "failed"
    start(client, "untagged manifests and unreferenced blobs")
    clock.advance(STEP * len(WALK))
    assert fake.garbage_collections("example")[0]["status"] == "failed"
    assert [m["digest"] for m in fake.manifests("example", "app")] == [digest]


def test_a_zero_step_ends_at_once(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.push_image("example", "app")
    fake.gc_step_seconds = 0
    assert start(client)["status"] == "succeeded"
    assert active(client) is None


def test_the_list_is_newest_first_with_offset_paging(
    fake: FakeRegistry, client: httpx.Client, clock: ManualClock
) -> None:
    fake.push_image("example", "app")
    uuids = []
    for _ in range(5):
        uuids.append(start(client)["uuid"])
        clock.advance(STEP * len(WALK))
    body = client.get("/v2/registries/example/garbage-collections", params={"per_page": 2, "page": 2}).json()
    assert [gc["uuid"] for gc in body["garbage_collections"]] == uuids[::-1][2:4]
    assert body["meta"] == {"total": 5}
    assert set(body["links"]["pages"]) == {"first", "prev", "next", "last"}
    assert {gc["status"] for gc in body["garbage_collections"]} == {"succeeded"}


def test_the_deprecated_paths_serve_the_same_collections(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.push_image("example", "app")
    started = start(client, path="/v2/registry/example/garbage-collection")
    assert client.get("/v2/registry/example/garbage-collection").json()["garbage_collection"]["uuid"] == started["uuid"]
    listed = client.get("/v2/registry/example/garbage-collections").json()["garbage_collections"]
    assert [gc["uuid"] for gc in listed] == [started["uuid"]]


def test_unknown_registries_are_404(fake: FakeRegistry, client: httpx.Client) -> None:
    for response in (
        client.post("/v2/registries/nope/garbage-collection"),
        client.get("/v2/registries/nope/garbage-collection"),
        client.get("/v2/registries/nope/garbage-collections"),
        client.put("/v2/registries/nope/garbage-collection/x", json={"cancel": True}),
    ):
        assert response.status_code == 404
