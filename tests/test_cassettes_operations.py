"""Replay every registry operation's cassettes through docr.Client (and docr.AsyncClient).

Each test replays one recorded cassette (scripts/record_cassettes.py) with the network blocked and
checks what the client makes of it against the recorded bodies; the last ones replay upstream's
transcribed examples, every documented status of every operation. What holds for all cassettes
(the spec, secrets, reproducibility) is in test_cassettes.py.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

import docr
from tests.test_cassettes import CASSETTES, FILTERED, UPSTREAM, interactions

GC_STATUSES = [
    "requested",
    "waiting for write JWTs to expire",
    "scanning manifests",
    "deleting unreferenced blobs",
    "succeeded",
]


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {"filter_headers": [("authorization", FILTERED)]}


@pytest.fixture
def client() -> docr.Client:
    client = docr.Client("replay-token", concurrency=1)
    client._sleep = lambda seconds: None
    return client


def answers(name: str) -> list[Any]:
    """The JSON bodies of a cassette's answers, in order (None for an empty or non-JSON one)."""
    found = []
    for interaction in interactions(CASSETTES / name):
        try:
            found.append(json.loads(interaction["response"]["body"]["string"]))
        except ValueError:
            found.append(None)
    return found


def uris(name: str) -> list[str]:
    return [interaction["request"]["uri"] for interaction in interactions(CASSETTES / name)]


def digest_in(uri: str) -> str:
    return unquote(uri.rsplit("/", 1)[1])


# --- repositories and tags ----------------------------------------------------------------------


@pytest.mark.vcr("repositories_paged.yaml")
def test_repositories_follow_page_tokens(client: docr.Client) -> None:
    recorded = [item for body in answers("repositories_paged.yaml") for item in body["repositories"]]
    got = list(client.iter_repositories("example", per_page=2))
    assert [r.name for r in got] == [item["name"] for item in recorded] == sorted(item["name"] for item in recorded)
    assert len(got) == 5
    assert [(r.tag_count, r.manifest_count) for r in got] == [(i["tag_count"], i["manifest_count"]) for i in recorded]
    assert [r.latest_manifest.digest for r in got if r.latest_manifest] == [
        item["latest_manifest"]["digest"] for item in recorded
    ]
    pages = uris("repositories_paged.yaml")
    assert len(pages) == 3 and "page_token" not in pages[0] and all("page_token=" in uri for uri in pages[1:])


@pytest.mark.vcr("tags_paged.yaml")
def test_tags_over_several_pages(client: docr.Client) -> None:
    recorded = [item for body in answers("tags_paged.yaml") for item in body["tags"]]
    got = list(client.iter_tags("example", "web/frontend", per_page=3))
    assert {t.tag: t.manifest_digest for t in got} == {item["tag"]: item["manifest_digest"] for item in recorded}
    assert len(got) == len(recorded) == 8 and len(uris("tags_paged.yaml")) == 3
    assert all(t.updated_at is not None and t.updated_at.tzinfo is not None for t in got)
    assert {t.repository for t in got} == {"web/frontend"}


# --- deletes ------------------------------------------------------------------------------------


@pytest.mark.vcr("delete_manifest.yaml")
def test_a_delete_then_a_delete_of_what_is_gone(client: docr.Client) -> None:
    digest = digest_in(uris("delete_manifest.yaml")[0])
    assert client.delete_manifest("example", "web", digest) is None  # 204
    with pytest.raises(docr.NotFoundError) as info:  # a 404 to a first attempt is a real "not found"
        client.delete_manifest("example", "web", digest)
    assert info.value.attempts == 1 and info.value.error_id == "not_found"


@pytest.mark.vcr("delete_tag.yaml")
def test_a_tag_delete_leaves_the_other_tags(client: docr.Client) -> None:
    assert client.delete_tag("example", "web", "v2") is None
    assert [t.tag for t in client.iter_tags("example", "web")] == ["v1"]


class _LosesTheFirstDeleteAnswer(httpx.BaseTransport):
    """Puts back what vcrpy cannot record: the reset that ate the first DELETE's answer (the request
    went out, so the server may have acted). Everything else goes to httpx's transport, which the
    cassette answers."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.deletes = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            self.deletes += 1
            if self.deletes == 1:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return self.inner.handle_request(request)


@pytest.mark.vcr("delete_manifest_answer_lost.yaml")
def test_a_delete_whose_answer_was_lost_counts_once() -> None:
    (uri,) = uris("delete_manifest_answer_lost.yaml")  # the retry's 404: the reset left no recording
    transport = _LosesTheFirstDeleteAnswer()
    with httpx.Client(transport=transport) as http, docr.Client("replay-token", http_client=http) as client:
        client._sleep = lambda seconds: None
        assert client.delete_manifest("example", "web", digest_in(uri)) is None  # the lost attempt did it
    assert transport.deletes == 2


@pytest.mark.vcr("delete_manifest_answer_lost.yaml")
def test_without_the_lost_answer_the_same_404_is_not_found(client: docr.Client) -> None:
    (uri,) = uris("delete_manifest_answer_lost.yaml")
    with pytest.raises(docr.NotFoundError):
        client.delete_manifest("example", "web", digest_in(uri))


@pytest.mark.vcr("delete_manifest_after_gateway_timeout.yaml")
def test_a_delete_after_a_gateway_timeout_counts_once(client: docr.Client) -> None:
    first, retry = interactions(CASSETTES / "delete_manifest_after_gateway_timeout.yaml")
    assert (first["response"]["status"]["code"], retry["response"]["status"]["code"]) == (504, 404)
    assert client.delete_manifest("example", "web", digest_in(first["request"]["uri"])) is None


@pytest.mark.vcr("legacy_operations.yaml")
def test_the_deprecated_twins() -> None:
    digest = digest_in(uris("legacy_operations.yaml")[-1])
    with docr.Client("replay-token", legacy_endpoint=True) as client:
        assert {t.tag for t in client.iter_tags("example", "web")} == {"v1", "v2"}
        client.delete_tag("example", "web", "v2")
        client.delete_manifest("example", "web", digest)
    assert all(
        uri.startswith("https://api.digitalocean.com/v2/registry/example/") for uri in uris("legacy_operations.yaml")
    )


# --- the registry, its plan and credentials -----------------------------------------------------


@pytest.mark.vcr("registry_and_subscription.yaml")
def test_registry_and_subscription(client: docr.Client) -> None:
    registry_body, _, subscription_body = answers("registry_and_subscription.yaml")
    registry = client.get_registry("example")
    expected = registry_body["registry"]
    assert (registry.name, registry.region, registry.storage_usage_bytes) == (
        expected["name"],
        expected["region"],
        expected["storage_usage_bytes"],
    )
    assert registry.created_at == dt.datetime.fromisoformat(expected["created_at"])
    with pytest.raises(docr.NotFoundError):
        client.get_registry("nothere")
    subscription = client.get_subscription()
    tier = subscription_body["subscription"]["tier"]
    assert (subscription.tier, subscription.included_storage_bytes, subscription.allow_storage_overage) == (
        tier["slug"],
        tier["included_storage_bytes"],
        tier["allow_storage_overage"],
    )


@pytest.mark.vcr("docker_credentials.yaml")
def test_docker_credentials_are_the_placeholder(client: docr.Client) -> None:
    for credentials in (
        client.get_docker_credentials("example", expiry_seconds=600),
        client.get_docker_credentials("example", read_write=True),
    ):
        assert credentials.host == "registry.digitalocean.com"
        assert (credentials.username.reveal(), credentials.password.reveal()) == ("user", "password")
        assert "password" not in repr(credentials)
    first, second = uris("docker_credentials.yaml")
    assert "expiry_seconds=600" in first and "read_write=false" in first and "read_write=true" in second


# --- garbage collection -------------------------------------------------------------------------


@pytest.mark.vcr("gc_wait.yaml")
def test_a_wait_sees_every_status(client: docr.Client) -> None:
    sleeps: list[float] = []
    client._sleep = sleeps.append
    started = client.start_garbage_collection("example")
    assert (started.status, started.finished) == ("requested", False)
    assert started.uuid is not None
    seen: list[str | None] = []
    done = client.wait_garbage_collection(
        "example", started.uuid, poll_interval=10, on_status=lambda gc: seen.append(gc.status)
    )
    assert seen == GC_STATUSES
    assert sleeps == [10.0] * 4  # one poll per status; the 404 then the history find the end
    final = answers("gc_wait.yaml")[-1]["garbage_collections"][0]
    assert (done.uuid, done.blobs_deleted, done.freed_bytes) == (
        started.uuid,
        final["blobs_deleted"],
        final["freed_bytes"],
    )
    assert done.blobs_deleted and done.freed_bytes  # the demo registry has garbage
    assert client.get_garbage_collection("example") is None
    assert [gc.uuid for gc in client.iter_garbage_collections("example")] == [started.uuid]


@pytest.mark.vcr("gc_wait.yaml")
def test_a_wait_sees_every_status_async() -> None:
    async def run() -> tuple[list[str | None], docr.GarbageCollection, docr.GarbageCollection | None]:
        seen: list[str | None] = []
        async with docr.AsyncClient("replay-token") as aclient:

            async def no_wait(seconds: float) -> None:
                pass

            aclient._sleep = no_wait
            started = await aclient.start_garbage_collection("example")
            assert started.uuid is not None
            done = await aclient.wait_garbage_collection(
                "example", started.uuid, poll_interval=10, on_status=lambda gc: seen.append(gc.status)
            )
            return seen, done, await aclient.get_garbage_collection("example")

    seen, done, active = asyncio.run(run())
    assert seen == GC_STATUSES and done.finished and active is None


@pytest.mark.vcr("gc_conflicts.yaml")
def test_conflicts_while_a_collection_runs_and_a_cancel(client: docr.Client) -> None:
    started = client.start_garbage_collection("example", untagged_manifests=False)
    assert started.uuid is not None and started.extra.get("type") == "unreferenced blobs only"
    digest = digest_in(uris("gc_conflicts.yaml")[2])
    for action in (
        lambda: client.start_garbage_collection("example"),
        lambda: client.delete_manifest("example", "tools/migrate", digest),
        lambda: client.delete_tag("example", "tools/migrate", "latest"),
    ):
        with pytest.raises(docr.ConflictError) as info:
            action()
        assert (info.value.status_code, info.value.error_id, info.value.attempts) == (409, "conflict", 1)
    assert client.cancel_garbage_collection("example", started.uuid).status == "cancelling"
    assert client.wait_garbage_collection("example", started.uuid, poll_interval=10).status == "cancelled"
    with pytest.raises(docr.ConflictError, match="already ended"):
        client.cancel_garbage_collection("example", started.uuid)


@pytest.mark.vcr("gc_history.yaml")
def test_the_history_over_two_pages(client: docr.Client) -> None:
    got = list(client.iter_garbage_collections("example", per_page=2))
    recorded = [item for body in answers("gc_history.yaml")[3:] for item in body["garbage_collections"]]
    assert [gc.uuid for gc in got] == [item["uuid"] for item in recorded]
    assert len(got) == 3 and {gc.status for gc in got} == {"succeeded"}
    assert [gc.extra["type"] for gc in got] == [  # newest first
        "untagged manifests and unreferenced blobs",
        "untagged manifests only",
        "unreferenced blobs only",
    ]
    assert all(gc.created_at and gc.updated_at and gc.updated_at > gc.created_at for gc in got)


# --- the registry's own API ---------------------------------------------------------------------


def _oci_digests() -> tuple[str, str, str, str]:
    manifests = [uri for uri in uris("oci_manifests.yaml") if "/manifests/" in uri]
    index, _, child, image, _, missing = manifests
    return digest_in(index), digest_in(child), digest_in(image), digest_in(missing)


def _check_oci(index: docr.OCIManifest, child: docr.OCIManifest, image: docr.OCIManifest, digests: Any) -> None:
    assert index.is_index and index.digest == digests[0]
    platforms = sorted(str(c.platform) for c in index.children if not c.is_attestation)
    assert platforms == ["linux/amd64", "linux/arm64"]
    assert child.digest == digests[1] in {c.digest for c in index.children}
    assert not child.is_index and child.config and child.layers
    assert not image.is_index and image.digest == digests[2] and image.layers


@pytest.mark.vcr("oci_manifests.yaml")
def test_manifests_through_the_token_flow(client: docr.Client) -> None:
    digests = _oci_digests()
    index = client.get_oci_manifest("example", "web/frontend", digests[0])
    child = client.get_oci_manifest("example", "web/frontend", digests[1])
    image = client.get_oci_manifest("example", "tools/migrate", digests[2])
    _check_oci(index, child, image, digests)
    with pytest.raises(docr.NotFoundError) as info:
        client.get_oci_manifest("example", "tools/migrate", digests[3])
    assert info.value.error_id == "manifest_unknown"


@pytest.mark.vcr("oci_manifests.yaml")
def test_manifests_through_the_token_flow_async() -> None:
    digests = _oci_digests()

    async def run() -> tuple[docr.OCIManifest, ...]:
        async with docr.AsyncClient("replay-token") as aclient:
            return (
                await aclient.get_oci_manifest("example", "web/frontend", digests[0]),
                await aclient.get_oci_manifest("example", "web/frontend", digests[1]),
                await aclient.get_oci_manifest("example", "tools/migrate", digests[2]),
            )

    _check_oci(*asyncio.run(run()), digests)


# --- upstream's examples, every documented status of every operation ------------------------------

UPSTREAM_DIGEST = "sha256:cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221"
UPSTREAM_UUID = "eff0feee-49c7-4e8f-ba5c-a320c109c8a8"

# operationId -> the call that sends it, given a client and the registry name of the exchange.
CALLS: dict[str, Callable[[docr.Client, str], Any]] = {
    "registries_list_repositoriesV2": lambda c, r: next(iter(c.iter_repositories(r, per_page=20))),
    "registries_list_repositoryTags": lambda c, r: list(c.iter_tags(r, "repo-1", per_page=20)),
    "registries_delete_repositoryManifest": lambda c, r: c.delete_manifest(r, "repo-1", UPSTREAM_DIGEST),
    "registries_delete_repositoryTag": lambda c, r: c.delete_tag(r, "repo-1", "06a447a"),
    "registries_get": lambda c, r: c.get_registry(r),
    "registries_get_subscription": lambda c, r: c.get_subscription(),
    "registries_get_dockerCredentials": lambda c, r: c.get_docker_credentials(r, expiry_seconds=3600),
    "registries_run_garbageCollection": lambda c, r: c.start_garbage_collection(r, untagged_manifests=False),
    "registries_get_garbageCollection": lambda c, r: c.get_garbage_collection(r),
    "registries_list_garbageCollections": lambda c, r: list(c.iter_garbage_collections(r, per_page=20)),
    "registries_update_garbageCollection": lambda c, r: c.cancel_garbage_collection(r, UPSTREAM_UUID),
    "registry_list_repositoryManifests": lambda c, r: c.list_manifests(r, "repo-1", per_page=20),
    "registry_list_repositoryTags": lambda c, r: list(c.iter_tags(r, "repo-1", per_page=20)),
    "registry_delete_repositoryManifest": lambda c, r: c.delete_manifest(r, "repo-1", UPSTREAM_DIGEST),
    "registry_delete_repositoryTag": lambda c, r: c.delete_tag(r, "repo-1", "06a447a"),
}
ERRORS: dict[int, tuple[type[docr.APIError], str]] = {
    400: (docr.APIError, "example_error"),
    401: (docr.AuthenticationError, "unauthorized"),
    404: (docr.NotFoundError, "not_found"),
    422: (docr.APIError, "example_error"),
    429: (docr.RateLimitError, "too_many_requests"),
    500: (docr.ServerError, "server_error"),
}


def _upstream_exchanges(operation: str) -> list[tuple[int, Any]]:
    from tests.contract import operation_of

    found = []
    for interaction in interactions(UPSTREAM):
        request, response = interaction["request"], interaction["response"]
        if operation_of(request["method"], request["uri"]) == operation:
            body = response["body"]["string"]
            found.append((response["status"]["code"], json.loads(body) if body else None))
    return found


def _check_success(operation: str, result: Any, body: Any) -> None:
    if body is None:  # a delete's 204
        assert result is None
    elif "registry" in body:
        assert (result.name, result.region) == (body["registry"]["name"], body["registry"]["region"])
    elif "subscription" in body:
        assert result.tier == body["subscription"]["tier"]["slug"]
    elif "auths" in body:
        pair = base64.b64decode(body["auths"]["registry.digitalocean.com"]["auth"]).decode()
        assert (result.username.reveal(), result.password.reveal()) == tuple(pair.split(":", 1))
        assert result.password.reveal().endswith("\n")  # upstream's example encodes "<hex>:<hex>\n" (echo without -n)
    elif "garbage_collection" in body:
        assert (result.uuid, result.status) == (UPSTREAM_UUID, body["garbage_collection"]["status"])
    elif "garbage_collections" in body:
        assert [gc.uuid for gc in result] == [item["uuid"] for item in body["garbage_collections"]]
    elif "repositories" in body:
        assert (result.name, result.tag_count) == (
            body["repositories"][0]["name"],
            body["repositories"][0]["tag_count"],
        )
    elif "tags" in body:
        assert [t.tag for t in result] == [item["tag"] for item in body["tags"]]
    else:
        assert [m.digest for m in result.manifests] == [item["digest"] for item in body["manifests"]]


@pytest.mark.vcr("upstream_examples.yaml")
@pytest.mark.parametrize("operation", sorted(CALLS))
def test_upstream_examples_of_every_operation(operation: str) -> None:
    """Each of the operation's documented statuses, in the file's order (subscription's share one URL)."""
    exchanges = _upstream_exchanges(operation)
    assert len(exchanges) >= 5
    with docr.Client("replay-token", max_retries=0, legacy_endpoint=operation.startswith("registry_")) as client:
        for status, body in exchanges:
            registry = f"example-{'ok' if status < 300 else status}"
            if status < 300:
                _check_success(operation, CALLS[operation](client, registry), body)
                continue
            if status == 404 and operation == "registries_get_garbageCollection":
                # The API's way to say none is running, and also its answer for a registry that does
                # not exist: get_garbage_collection asks the history then (tests/test_operations.py).
                with pytest.raises(docr.NotFoundError):
                    client._call(client._active_gc_call(registry))
                continue
            cls, error_id = ERRORS[status]
            with pytest.raises(cls) as info:
                CALLS[operation](client, registry)
            assert type(info.value) is cls and info.value.error_id == (body["id"] if status == 400 else error_id)
            if status == 429:
                assert info.value.retry_after == 29  # upstream's retry-after example
