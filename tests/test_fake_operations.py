"""docr.testing's DO API beyond list manifests: tags, repositories V2, deletes, registry, subscription, credentials.

Consistency across operations is the point: what one operation changes, every other shows.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from docr.testing import FakeRegistry, ManualClock

AUTH = {"Authorization": "Bearer test-token"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeRegistry]:
    with FakeRegistry(clock=clock) as fake:
        yield fake


@pytest.fixture
def client(fake: FakeRegistry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers=AUTH, timeout=10) as client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def walk(client: httpx.Client, url: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    for _ in range(1000):
        if next_url is None:
            return items
        body = ok(client.get(next_url))
        items += body[key]
        next_url = body["links"]["pages"].get("next")
    raise AssertionError("the walk did not end")


# Tags


def test_list_tags_names_each_tag_with_its_manifest_newest_first(fake: FakeRegistry, client: httpx.Client) -> None:
    old = fake.push_image("example", "app", tags=["v1"], updated_at="2026-01-01T00:00:00Z")
    new = fake.push_image("example", "app", tags=["v2", "latest"], updated_at="2026-02-01T00:00:00Z")
    body = ok(client.get("/v2/registries/example/repositories/app/tags"))
    listed = {manifest["digest"]: manifest for manifest in fake.manifests("example", "app")}
    assert [(tag["tag"], tag["manifest_digest"]) for tag in body["tags"]] == [("latest", new), ("v2", new), ("v1", old)]
    first = body["tags"][0]
    assert first == {
        "registry_name": "example",
        "repository": "app",
        "tag": "latest",
        "manifest_digest": new,
        "compressed_size_bytes": listed[new]["compressed_size_bytes"],
        "size_bytes": listed[new]["size_bytes"],
        "updated_at": "2026-02-01T00:00:00Z",
    }
    assert body["meta"] == {"total": 3}
    assert body["links"] == {"pages": {}}


def test_list_tags_pages_by_offset_on_both_paths(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.generate("example", "my/repo", count=60, seed=2)
    expected = sorted(fake.tags("example", "my/repo"))
    for prefix in ("registries", "registry"):
        tags = walk(client, f"/v2/{prefix}/example/repositories/my%2Frepo/tags?per_page=7", "tags")
        assert sorted(tag["tag"] for tag in tags) == expected
        assert len(tags) == len(expected)


def test_a_pushed_tag_moves_from_the_manifest_that_had_it(fake: FakeRegistry) -> None:
    first = fake.push_image("example", "app", tags=["latest", "v1"])
    second = fake.push_image("example", "app", tags=["latest"])
    listed = {manifest["digest"]: manifest["tags"] for manifest in fake.manifests("example", "app")}
    assert listed == {first: ["v1"], second: ["latest"]}
    third = fake.push_image("example", "app", tags=["v1"])
    assert {m["digest"]: m["tags"] for m in fake.manifests("example", "app")}[first] == []
    assert fake.tags("example", "app") == {"latest": second, "v1": third}


# Deletes


def test_deleting_a_manifest_takes_its_tags_and_leaves_its_blobs_held(fake: FakeRegistry, client: httpx.Client) -> None:
    kept = fake.push_image("example", "app", tags=["v1"])
    doomed = fake.push_image("example", "app", tags=["v2", "latest"])
    before = fake.storage_usage_bytes("example")
    doomed_blobs = {
        blob["digest"] for m in fake.manifests("example", "app") if m["digest"] == doomed for blob in m["blobs"]
    }
    response = client.delete(f"/v2/registries/example/repositories/app/digests/{doomed}")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert int(response.headers["ratelimit-remaining"]) > 0
    assert [m["digest"] for m in fake.manifests("example", "app")] == [kept]
    assert fake.tags("example", "app") == {"v1": kept}
    tags = ok(client.get("/v2/registries/example/repositories/app/tags"))["tags"]
    assert [tag["tag"] for tag in tags] == ["v1"]
    # Blobs stay until a garbage collection: storage does not move, the doomed blobs are unreferenced.
    assert fake.storage_usage_bytes("example") == before
    unreferenced = {digest for digest, blob in fake.blobs("example").items() if blob.refcount == 0}
    assert unreferenced == doomed_blobs and len(doomed_blobs) == 4  # config and 3 layers


def test_deleting_twice_is_404_and_unknown_names_are_404(fake: FakeRegistry, client: httpx.Client) -> None:
    digest = fake.push_image("example", "app", tags=["v1"])
    path = f"/v2/registry/example/repositories/app/digests/{digest}"
    assert client.delete(path).status_code == 204
    second = client.delete(path)
    assert second.status_code == 404
    assert second.json()["id"] == "not_found"
    assert client.delete(f"/v2/registries/example/repositories/nope/digests/{digest}").status_code == 404
    assert client.delete(f"/v2/registries/nope/repositories/app/digests/{digest}").status_code == 404
    assert client.delete("/v2/registries/example/repositories/app/tags/nope").status_code == 404


def test_deleting_the_last_tag_leaves_the_manifest_untagged(fake: FakeRegistry, client: httpx.Client) -> None:
    digest = fake.push_image("example", "team/app", tags=["v1", "latest"])
    assert client.delete("/v2/registries/example/repositories/team%2Fapp/tags/latest").status_code == 204
    assert fake.manifests("example", "team/app")[0]["tags"] == ["v1"]
    assert client.delete("/v2/registry/example/repositories/team%2Fapp/tags/v1").status_code == 204
    listed = ok(client.get("/v2/registries/example/repositories/team%2Fapp/digests"))["manifests"]
    assert [(m["digest"], m["tags"]) for m in listed] == [(digest, [])]
    assert ok(client.get("/v2/registries/example/repositories/team%2Fapp/tags"))["meta"] == {"total": 0}


def test_deletes_work_on_listing_only_data_too(fake: FakeRegistry, client: httpx.Client) -> None:
    listed = fake.generate("example", "my/repo", count=30, seed=5)
    tagged = next(m for m in listed if len(m.get("tags") or []) >= 2)
    tag = tagged["tags"][-1]
    assert client.delete(f"/v2/registries/example/repositories/my%2Frepo/tags/{tag}").status_code == 204
    after = {m["digest"]: m for m in fake.manifests("example", "my/repo")}
    assert after[tagged["digest"]]["tags"] == tagged["tags"][:-1]
    assert client.delete(f"/v2/registries/example/repositories/my%2Frepo/digests/{tagged['digest']}").status_code == 204
    assert len(fake.manifests("example", "my/repo")) == 29


def test_delete_is_the_only_method_on_a_manifest_path(fake: FakeRegistry, client: httpx.Client) -> None:
    digest = fake.push_image("example", "app")
    response = client.get(f"/v2/registries/example/repositories/app/digests/{digest}")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE"
    assert response.json()["id"] == "method_not_allowed"


# Repositories V2


def test_repositories_v2_counts_are_live(fake: FakeRegistry, client: httpx.Client) -> None:
    index = fake.push_index("example", "web", tags=["v1", "latest"], updated_at="2026-03-01T00:00:00Z")
    fake.push_image("example", "worker", tags=["v1"], updated_at="2026-02-01T00:00:00Z")

    def repositories() -> dict[str, dict[str, Any]]:
        body = ok(client.get("/v2/registries/example/repositoriesV2"))
        return {repo["name"]: repo for repo in body["repositories"]}

    web = repositories()["web"]
    assert (web["tag_count"], web["manifest_count"]) == (2, 5)  # the index, 2 platforms, 2 attestations
    assert web["latest_manifest"]["digest"] == index
    assert web["latest_manifest"]["tags"] == ["v1", "latest"]
    assert web["registry_name"] == "example"
    assert client.delete("/v2/registries/example/repositories/web/tags/latest").status_code == 204
    assert repositories()["web"]["tag_count"] == 1
    assert client.delete(f"/v2/registries/example/repositories/web/digests/{index}").status_code == 204
    web = repositories()["web"]
    assert (web["tag_count"], web["manifest_count"]) == (0, 4)
    assert web["latest_manifest"]["tags"] == []


def test_an_empty_repository_has_no_latest_manifest(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.add_manifests("example", "empty", [])
    body = ok(client.get("/v2/registries/example/repositoriesV2"))
    assert body["repositories"] == [{"registry_name": "example", "name": "empty", "tag_count": 0, "manifest_count": 0}]


def test_page_token_paging_lists_every_repository_once_in_order(fake: FakeRegistry, client: httpx.Client) -> None:
    names = fake.generate_repositories("example", repositories=23, count=2, seed=1)
    body = ok(client.get("/v2/registries/example/repositoriesV2?per_page=5"))
    pages = body["links"]["pages"]
    assert "page_token=" in pages["next"] and "page=2&" in pages["next"]
    assert pages["last"] == f"{fake.url}/v2/registries/example/repositoriesV2?page=5&per_page=5"
    walked = walk(client, "/v2/registries/example/repositoriesV2?per_page=5", "repositories")
    assert [repo["name"] for repo in walked] == names
    assert body["meta"] == {"total": 23}


def test_page_token_paging_survives_deletes_and_additions_mid_walk(fake: FakeRegistry, client: httpx.Client) -> None:
    names = fake.generate_repositories("example", repositories=12, count=1, seed=2)
    first = ok(client.get("/v2/registries/example/repositoriesV2?per_page=4"))
    # Between pages: an already-listed repository goes away, and one sorting first appears.
    fake.delete_manifests("example", names[0], [m["digest"] for m in fake.manifests("example", names[0])])
    fake.push_image("example", "aaa-new")
    rest = walk(client, first["links"]["pages"]["next"], "repositories")
    assert [repo["name"] for repo in first["repositories"] + rest] == names


def test_a_page_token_the_fake_did_not_give_is_400(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.push_image("example", "app")
    for token in ("garbage", base64.urlsafe_b64encode(b'{"offset": 3}').decode(), "%%%"):
        response = client.get("/v2/registries/example/repositoriesV2", params={"page_token": token})
        assert response.status_code == 400
        assert response.json()["id"] == "bad_request"


def test_offset_paging_of_repositories_and_per_page_bounds(fake: FakeRegistry, client: httpx.Client) -> None:
    names = fake.generate_repositories("example", repositories=7, count=1, seed=3)
    body = ok(client.get("/v2/registry/example/repositoriesV2?page=2&per_page=3"))
    assert [repo["name"] for repo in body["repositories"]] == names[3:6]
    assert client.get("/v2/registries/example/repositoriesV2?per_page=201").status_code == 400
    assert client.get("/v2/registries/nope/repositoriesV2").status_code == 404


# The registry, subscription and credentials


def test_get_registry_reports_storage_from_unique_blobs(fake: FakeRegistry, client: httpx.Client) -> None:
    base = fake.blob(30_000_000)
    fake.push_image("example", "one", tags=["v1"], layers=[base, 1_000])
    fake.push_image("example", "two", tags=["v1"], layers=[base, 2_000])
    body = ok(client.get("/v2/registries/example"))["registry"]
    unique = {digest: blob.size for digest, blob in fake.blobs("example").items()}
    assert body["storage_usage_bytes"] == sum(unique.values()) == fake.storage_usage_bytes("example")
    assert fake.blobs("example")[base[0]].refcount == 2
    assert body["storage_usage_bytes"] < sum(
        m["compressed_size_bytes"] for r in ("one", "two") for m in fake.manifests("example", r)
    )
    assert body["name"] == "example"
    assert body["region"] == "nyc3"
    assert body["created_at"].endswith("Z")
    assert body["storage_usage_bytes_updated_at"] == "2026-05-01T12:00:00Z"
    assert client.get("/v2/registries/nope").status_code == 404


def test_add_registry_sets_region_and_creation(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.add_registry("other", region="fra1", created_at="2024-01-02T03:04:05Z")
    body = ok(client.get("/v2/registries/other"))["registry"]
    assert (body["region"], body["created_at"], body["storage_usage_bytes"]) == ("fra1", "2024-01-02T03:04:05Z", 0)


@pytest.mark.parametrize("path", ["/v2/registries/subscription", "/v2/registry/subscription"])
def test_subscription_has_upstreams_tier_fields(fake: FakeRegistry, client: httpx.Client, path: str) -> None:
    tier = ok(client.get(path))["subscription"]["tier"]
    assert tier == {
        "name": "Basic",
        "slug": "basic",
        "included_repositories": 5,
        "included_storage_bytes": 5_368_709_120,
        "allow_storage_overage": True,
        "included_bandwidth_bytes": 5_368_709_120,
        "monthly_price_in_cents": 500,
        "storage_overage_price_in_cents": 2,
    }
    fake.subscription_tier = "starter"
    starter = ok(client.get(path))["subscription"]["tier"]
    assert (starter["slug"], starter["allow_storage_overage"], starter["included_storage_bytes"]) == (
        "starter",
        False,
        524_288_000,
    )
    with pytest.raises(ValueError, match="subscription_tier"):
        fake.subscription_tier = "gold"


def test_docker_credentials_are_a_config_json_and_kept_out_of_the_log(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.push_image("example", "app")
    body = ok(
        client.get("/v2/registries/example/docker-credentials", params={"read_write": "true", "expiry_seconds": 600})
    )
    assert list(body) == ["auths"] and list(body["auths"]) == ["registry.digitalocean.com"]
    user, _, password = base64.b64decode(body["auths"]["registry.digitalocean.com"]["auth"]).decode().partition(":")
    assert user and password
    assert fake.docker_credentials("example", read_write=True) == (user, password)
    assert password not in repr(fake.requests)
    assert fake.requests[-1].operation == "get_docker_credentials"
    assert fake.requests[-1].query == {"read_write": "true", "expiry_seconds": "600"}


@pytest.mark.parametrize("query", [{"read_write": "yes"}, {"expiry_seconds": "-1"}, {"expiry_seconds": "1.5"}])
def test_docker_credentials_refuse_bad_parameters(
    fake: FakeRegistry, client: httpx.Client, query: dict[str, str]
) -> None:
    fake.push_image("example", "app")
    response = client.get("/v2/registries/example/docker-credentials", params=query)
    assert response.status_code == 400
    assert response.json()["id"] == "bad_request"


def test_the_request_log_names_every_operation(fake: FakeRegistry, client: httpx.Client) -> None:
    digest = fake.push_image("example", "app", tags=["v1", "v2"])
    client.get("/v2/registries/example/repositories/app/digests")
    client.get("/v2/registry/example/repositories/app/tags")
    client.get("/v2/registries/example/repositoriesV2")
    client.delete("/v2/registries/example/repositories/app/tags/v1")
    client.delete(f"/v2/registry/example/repositories/app/digests/{digest}")
    client.get("/v2/registries/example")
    client.get("/v2/registries/subscription")
    client.get("/v2/registries/example/garbage-collections")
    client.get("/v2/registries/example/garbage-collection")
    client.post("/v2/registries/example/garbage-collection")
    client.put("/v2/registries/example/garbage-collection/x", json={"cancel": True})
    client.get("/v2/account")
    client.patch("/v2/registries/example")
    assert [request.operation for request in fake.requests] == [
        "list_manifests",
        "list_tags",
        "list_repositories",
        "delete_tag",
        "delete_manifest",
        "get_registry",
        "get_subscription",
        "list_garbage_collections",
        "get_garbage_collection",
        "start_garbage_collection",
        "cancel_garbage_collection",
        None,
        None,
    ]
    assert {request.api for request in fake.requests} == {"do"}
