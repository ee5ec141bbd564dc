"""The registry API a cleanup needs, through docr.Client and docr.AsyncClient against the fake."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

import docr
from docr.testing import FakeRegistry

TOKEN = "dop_v1_" + "0a1b2c3d" * 8


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        fake.gc_step_seconds = 0.01
        yield fake


@pytest.fixture
def client(fake: FakeRegistry) -> Iterator[docr.Client]:
    with docr.Client(TOKEN, base_url=fake.url, oci_base_url=fake.oci_url) as client:
        client._sleep = lambda seconds: None
        yield client


def deletes(fake: FakeRegistry) -> list[str]:
    return [r.path for r in fake.requests if r.method == "DELETE"]


# --- repositories and tags --------------------------------------------------------------------


def test_iter_repositories_follows_page_tokens_exactly(fake: FakeRegistry, client: docr.Client) -> None:
    names = fake.generate_repositories("example", repositories=23, count=3, seed=1)
    got = list(client.iter_repositories("example", per_page=5))
    assert [r.name for r in got] == names == sorted(names)
    assert all(r.manifest_count == 3 and isinstance(r.latest_manifest, docr.Manifest) for r in got)
    requests = [r for r in fake.requests if r.operation == "list_repositories"]
    assert len(requests) == 5  # ceil(23 / 5): one request per page, no more
    assert "page_token" not in requests[0].query and all(r.query.get("page_token") for r in requests[1:])


def test_iter_tags_lists_every_tag_once(fake: FakeRegistry, client: docr.Client) -> None:
    repos = fake.seed_demo("example")
    repo = repos[0]
    expected = fake.tags("example", repo)
    got = {tag.tag: tag.manifest_digest for tag in client.iter_tags("example", repo, per_page=2)}
    assert got == expected
    assert all(isinstance(t.updated_at, type(None)) or t.updated_at.tzinfo for t in client.iter_tags("example", repo))


def test_counts_in_repositories_are_live(fake: FakeRegistry, client: docr.Client) -> None:
    fake.generate("example", "app", count=4, seed=2)
    before = next(iter(client.iter_repositories("example")))
    victim = fake.manifests("example", "app")[0]["digest"]
    client.delete_manifest("example", "app", victim)
    after = next(iter(client.iter_repositories("example")))
    assert (before.manifest_count, after.manifest_count) == (4, 3)


# --- deletes ----------------------------------------------------------------------------------


def test_delete_manifest_takes_its_tags_and_a_second_delete_is_not_found(
    fake: FakeRegistry, client: docr.Client
) -> None:
    digest = fake.push_image("example", "web", tags=["v1", "latest"])
    client.delete_manifest("example", "web", digest)
    assert fake.tags("example", "web") == {}
    with pytest.raises(docr.NotFoundError):
        client.delete_manifest("example", "web", digest)


def test_a_delete_whose_answer_is_lost_is_retried_and_counted_once(fake: FakeRegistry, client: docr.Client) -> None:
    digest = fake.push_image("example", "web", tags=["v1"])
    fake.fail_next("lost", operation="delete_manifest")  # performed, then the connection reset
    client.delete_manifest("example", "web", digest)  # the retry's 404 means the lost attempt did it
    assert len(deletes(fake)) == 2
    assert all(m["digest"] != digest for m in fake.manifests("example", "web"))


def test_a_404_on_the_first_attempt_is_not_found(fake: FakeRegistry, client: docr.Client) -> None:
    fake.push_image("example", "web", tags=["v1"])
    with pytest.raises(docr.NotFoundError):
        client.delete_manifest("example", "web", "sha256:" + "e" * 64)
    assert len(deletes(fake)) == 1


def test_delete_tag_leaves_the_manifest_untagged(fake: FakeRegistry, client: docr.Client) -> None:
    digest = fake.push_image("example", "web", tags=["v1"])
    client.delete_tag("example", "web", "v1")
    (manifest,) = [m for m in fake.manifests("example", "web") if m["digest"] == digest]
    assert manifest.get("tags") in ([], None)


@pytest.mark.parametrize(
    ("method", "arguments", "argument"),
    [
        ("delete_manifest", ("example", "web", 12345), "digest"),
        ("delete_manifest", ("example", "web", "sha256:abc"), "digest"),
        ("delete_manifest", ("example", "web", "md5:" + "a" * 32), "digest"),
        ("delete_manifest", ("example", "Web", "sha256:" + "a" * 64), "repository_name"),
        ("delete_tag", ("example", "web", "-leading-dash"), "tag"),
        ("delete_tag", ("example", "web", "a" * 129), "tag"),
        ("delete_tag", ("example", "web", "v1/../x"), "tag"),
        ("cancel_garbage_collection", ("example", "../x"), "uuid"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    fake: FakeRegistry, client: docr.Client, method: str, arguments: tuple[Any, ...], argument: str
) -> None:
    with pytest.raises(docr.InvalidArgument) as info:
        getattr(client, method)(*arguments)
    assert info.value.argument == argument
    assert fake.requests == []


def test_legacy_endpoint_deletes_and_lists_tags_on_the_deprecated_twins(fake: FakeRegistry) -> None:
    digest = fake.push_image("example", "web", tags=["v1", "v2"])
    with docr.Client(TOKEN, base_url=fake.url, legacy_endpoint=True) as client:
        assert {t.tag for t in client.iter_tags("example", "web")} == {"v1", "v2"}
        client.delete_tag("example", "web", "v2")
        client.delete_manifest("example", "web", digest)
    paths = [r.raw_path for r in fake.requests]
    assert all(path.startswith("/v2/registry/example/") for path in paths), paths


# --- the registry, its plan and credentials ---------------------------------------------------


def test_registry_storage_and_subscription(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    registry = client.get_registry("example")
    assert registry.name == "example"
    assert registry.storage_usage_bytes == fake.storage_usage_bytes("example")
    assert registry.created_at is not None and registry.created_at.tzinfo is not None
    subscription = client.get_subscription()
    assert subscription.tier and subscription.included_storage_bytes and subscription.included_storage_bytes > 0
    assert isinstance(subscription.allow_storage_overage, bool)


def test_an_unknown_registry_is_not_found(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    with pytest.raises(docr.NotFoundError):
        client.get_registry("nothere")


def test_docker_credentials_never_show_their_secret(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    credentials = client.get_docker_credentials("example", expiry_seconds=600)
    user, password = fake.docker_credentials("example")
    assert (credentials.username.reveal(), credentials.password.reveal()) == (user, password)
    assert credentials.host == "registry.digitalocean.com"
    assert password not in repr(credentials) and user not in repr(credentials)
    assert fake.requests[-1].query.get("expiry_seconds") == "600"


# --- garbage collection -----------------------------------------------------------------------


def test_garbage_collection_start_conflict_wait_and_history(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    started = client.start_garbage_collection("example")
    assert started.uuid and not started.finished
    assert client.get_garbage_collection("example") is not None
    with pytest.raises(docr.ConflictError):
        client.start_garbage_collection("example")
    seen: list[str | None] = []
    done = client.wait_garbage_collection(
        "example", started.uuid, poll_interval=0.01, on_status=lambda gc: seen.append(gc.status)
    )
    assert done.status == "succeeded" and done.finished
    assert done.blobs_deleted is not None and done.freed_bytes is not None
    assert seen[-1] == "succeeded" and len(seen) == len(set(seen))  # each new status once
    assert client.get_garbage_collection("example") is None
    assert [gc.uuid for gc in client.iter_garbage_collections("example")] == [started.uuid]


def test_no_active_collection_is_none_but_a_missing_registry_is_not_found(
    fake: FakeRegistry, client: docr.Client
) -> None:
    # The API answers 404 for both: "None" for a registry that does not exist would be a 404
    # returned as data (pydo's fault), so docr asks the history, which 404s only then.
    fake.seed_demo("example")
    assert client.get_garbage_collection("example") is None
    with pytest.raises(docr.NotFoundError):
        client.get_garbage_collection("nosuchregistry")

    async def run() -> None:
        async with docr.AsyncClient(TOKEN, base_url=fake.url) as aclient:
            assert await aclient.get_garbage_collection("example") is None
            with pytest.raises(docr.NotFoundError):
                await aclient.get_garbage_collection("nosuchregistry")

    asyncio.run(run())


def test_waiting_for_an_unknown_collection_is_not_found(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    with pytest.raises(docr.NotFoundError, match="neither running nor in its history"):
        client.wait_garbage_collection("example", "00000000-0000-0000-0000-00000000beef", poll_interval=0.01)


def test_start_sends_the_type_the_flags_ask_for(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    client.start_garbage_collection("example", untagged_manifests=False)
    assert fake.garbage_collections("example")[0].get("type") == "unreferenced blobs only"
    with pytest.raises(docr.InvalidArgument):
        client.start_garbage_collection("example", untagged_manifests=False, unreferenced_blobs=False)


def test_an_undocumented_status_is_kept_as_a_string(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    fake.gc_statuses = (*fake.gc_statuses[:2], "waiting for delete requests", *fake.gc_statuses[2:])
    started = client.start_garbage_collection("example")
    seen: list[str | None] = []
    client.wait_garbage_collection(
        "example", started.uuid, poll_interval=0.002, on_status=lambda gc: seen.append(gc.status)
    )
    assert "succeeded" in seen


def test_cancel_ends_in_cancelled(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    fake.gc_step_seconds = 5.0
    started = client.start_garbage_collection("example")
    client.cancel_garbage_collection("example", started.uuid)
    fake.gc_step_seconds = 0.01
    assert client.wait_garbage_collection("example", started.uuid, poll_interval=0.01).status == "cancelled"


def test_waiting_past_the_timeout_raises(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    fake.gc_step_seconds = 60.0
    started = client.start_garbage_collection("example")
    with pytest.raises(docr.APITimeoutError, match="still"):
        client.wait_garbage_collection("example", started.uuid, poll_interval=0.01, timeout=0.05)


def test_a_start_whose_answer_is_lost_is_not_sent_twice(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    fake.fail_next("lost", operation="start_garbage_collection")
    with pytest.raises(docr.TransportError):
        client.start_garbage_collection("example")
    starts = [r for r in fake.requests if r.operation == "start_garbage_collection"]
    assert len(starts) == 1  # a POST that may have acted is not repeated
    assert len(fake.garbage_collections("example")) == 1


def test_a_rate_limited_start_is_retried(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    fake.fail_next(429, operation="start_garbage_collection", retry_after=1)
    assert client.start_garbage_collection("example").uuid


# --- image indexes from the registry itself ---------------------------------------------------


def test_an_index_is_read_with_its_children_and_attestations(fake: FakeRegistry, client: docr.Client) -> None:
    index = fake.push_index("example", "app", platforms=("linux/amd64", "linux/arm64"), tags=["v1"])
    manifest = client.get_oci_manifest("example", "app", index)
    assert manifest.is_index and manifest.digest == index
    platforms = sorted(str(child.platform) for child in manifest.children if not child.is_attestation)
    assert platforms == ["linux/amd64", "linux/arm64"]
    attestations = [child for child in manifest.children if child.is_attestation]
    assert len(attestations) == 2
    listed = {m["digest"]: m for m in fake.manifests("example", "app")}
    assert all(not listed[child.digest].get("tags") for child in manifest.children)  # untagged in the listing


def test_an_image_and_a_referrer_are_read(fake: FakeRegistry, client: docr.Client) -> None:
    image = fake.push_image("example", "app", tags=["v1"])
    signature = fake.push_image("example", "app", subject=image)
    read = client.get_oci_manifest("example", "app", image)
    assert not read.is_index and read.config and read.layers
    assert client.get_oci_manifest("example", "app", signature).subject == image


def test_registry_credentials_are_fetched_once_and_never_logged(
    fake: FakeRegistry, client: docr.Client, caplog: pytest.LogCaptureFixture
) -> None:
    digests = [fake.push_image("example", "app", tags=[f"v{i}"]) for i in range(3)]
    with caplog.at_level(logging.DEBUG, logger="docr"):
        for digest in digests:
            client.get_oci_manifest("example", "app", digest)
    operations = [r.operation for r in fake.requests]
    assert operations.count("get_docker_credentials") == 1
    assert operations.count("oci_token") == 1  # the token is cached per repository
    user, password = fake.docker_credentials("example")
    text = "\n".join(record.getMessage() for record in caplog.records) + repr(client)
    assert password not in text and user not in text and TOKEN not in text


def test_the_api_token_is_never_sent_to_the_registry(fake: FakeRegistry, client: docr.Client) -> None:
    digest = fake.push_image("example", "app", tags=["v1"])
    client.get_oci_manifest("example", "app", digest)
    for request in fake.requests:
        if request.api == "oci":
            assert TOKEN not in str(request.headers)


def test_an_unknown_manifest_is_not_found(fake: FakeRegistry, client: docr.Client) -> None:
    fake.push_image("example", "app", tags=["v1"])
    with pytest.raises(docr.NotFoundError) as info:
        client.get_oci_manifest("example", "app", "sha256:" + "d" * 64)
    assert info.value.error_id == "manifest_unknown"


def test_a_realm_on_another_host_gets_no_credentials(fake: FakeRegistry) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Phishing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.send_header("www-authenticate", 'Bearer realm="https://evil.example/token",service="x"')
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Phishing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        fake.seed_demo("example")
        oci = f"http://127.0.0.1:{server.server_address[1]}"
        with (
            docr.Client(TOKEN, base_url=fake.url, oci_base_url=oci) as client,
            pytest.raises(docr.ConfigurationError, match=r"evil\.example"),
        ):
            client.get_oci_manifest("example", "app", "sha256:" + "d" * 64)
        assert not any(r.operation == "get_docker_credentials" for r in fake.requests)
    finally:
        server.shutdown()
        server.server_close()


# --- async, the same names --------------------------------------------------------------------


def test_async_client_has_the_same_operations(fake: FakeRegistry) -> None:
    repos = fake.seed_demo("example")
    index = next(
        m["digest"]
        for m in fake.manifests("example", repos[0])
        if (fake.manifest_info("example", repos[0], m["digest"]) or {}).get("kind") == "index"
    )

    async def run() -> tuple[Any, ...]:
        async with docr.AsyncClient(TOKEN, base_url=fake.url, oci_base_url=fake.oci_url) as client:
            names = [r.name async for r in client.iter_repositories("example")]
            tags = [t.tag async for t in client.iter_tags("example", repos[0])]
            registry = await client.get_registry("example")
            manifest = await client.get_oci_manifest("example", repos[0], index)
            started = await client.start_garbage_collection("example")
            assert started.uuid
            done = await client.wait_garbage_collection("example", started.uuid, poll_interval=0.01)
            return names, tags, registry, manifest, done

    names, tags, registry, manifest, done = asyncio.run(run())
    assert names == repos and set(tags) == set(fake.tags("example", repos[0]))
    assert registry.name == "example" and manifest.is_index and done.status == "succeeded"


def test_sync_and_async_clients_have_the_same_public_methods() -> None:
    def public(cls: type) -> set[str]:
        return {name for name in dir(cls) if not name.startswith("_")}

    assert public(docr.Client) - {"__enter__", "__exit__"} == public(docr.AsyncClient) - {"__aenter__", "__aexit__"}


def test_errors_from_every_operation_carry_no_token(fake: FakeRegistry, client: docr.Client) -> None:
    texts: list[str] = []
    for action in (
        lambda: client.get_registry("nothere"),
        lambda: client.delete_manifest("nothere", "x", "sha256:" + "a" * 64),
        lambda: client.start_garbage_collection("nothere"),
        lambda: client.get_oci_manifest("nothere", "x", "sha256:" + "a" * 64),
    ):
        try:
            action()
        except docr.DocrError as error:
            texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    assert texts and all(TOKEN not in text for text in texts)


def test_to_dict_gives_back_the_api_objects(fake: FakeRegistry, client: docr.Client) -> None:
    import httpx

    fake.seed_demo("example")
    fake.gc_step_seconds = 600  # still running when it is read back
    started = client.start_garbage_collection("example", untagged_manifests=False)
    headers = {"authorization": f"Bearer {TOKEN}"}

    def raw(path: str) -> Any:
        return httpx.get(fake.url + path, headers=headers, params={"per_page": 200}).json()

    def same(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
        # Dates: the same instant (the API may write fractions or offsets docr normalises); the
        # registry's storage_usage_bytes_updated_at is "now" on the fake, a second apart at most.
        for key, value in theirs.items():
            mine = ours[key]
            if key.endswith("_at") and value is not None:
                assert abs((docr_time(mine) - docr_time(value)).total_seconds()) <= 2, key
            elif isinstance(value, dict) and isinstance(mine, dict):
                same(mine, value)
            else:
                assert mine == value, key

    repos = raw("/v2/registries/example/repositoriesV2")["repositories"]
    for ours, theirs in zip(client.iter_repositories("example"), repos, strict=True):
        same(ours.to_dict(), theirs)
    tags = raw("/v2/registries/example/repositories/web%2Ffrontend/tags")["tags"]
    for ours_tag, theirs in zip(client.iter_tags("example", "web/frontend"), tags, strict=True):
        same(ours_tag.to_dict(), theirs)
    same(client.get_registry("example").to_dict(), raw("/v2/registries/example")["registry"])
    same(client.get_subscription().to_dict(), raw("/v2/registry/subscription")["subscription"])
    collection = client.get_garbage_collection("example")
    assert collection is not None and collection.uuid == started.uuid
    same(collection.to_dict(), raw("/v2/registries/example/garbage-collection")["garbage_collection"])
    assert collection.to_dict()["type"] == "unreferenced blobs only"  # an undocumented key, kept


def docr_time(text: str) -> Any:
    from docr._parse import parse_time

    return parse_time(text)
