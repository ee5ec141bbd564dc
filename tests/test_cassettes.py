"""Replay recorded exchanges (vcrpy) through docr.Client, and hold every cassette to its contract.

Cassettes come from scripts/record_cassettes.py: recorded against docr.testing.FakeRegistry,
or transcribed from upstream's own examples. CI only replays them, with the network blocked.
Here: the list-manifests replays and what holds for every cassette (the spec, per operation; the
registry's essentials; no secret; every operation and documented status covered; recording again
gives the same bytes). The other operations' replays are in test_cassettes_operations.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import docr
from tests.contract import (
    check_exchange,
    check_registry_exchange,
    documented_statuses,
    is_registry,
    is_transport_garbage,
    operation_of,
    operations,
)

CASSETTES = Path(__file__).parent / "cassettes"
ALL = sorted(CASSETTES.glob("*.yaml"))
UPSTREAM = CASSETTES / "upstream_examples.yaml"
RECORDED = [path for path in ALL if path != UPSTREAM]
FILTERED = "Bearer <DIGITALOCEAN_TOKEN>"


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


@cache
def interactions(path: Path) -> list[dict[str, Any]]:
    """A cassette's interactions, parsed once per session (callers only read them)."""
    return yaml.safe_load(path.read_text())["interactions"]


def bodies(path: Path) -> list[Any]:
    return [json.loads(i["response"]["body"]["string"]) for i in interactions(path)]


def _headers(headers: dict[str, list[str]]) -> dict[str, str]:
    return {name: values[0] for name, values in headers.items()}


def _bytes(text: str | bytes) -> bytes:
    return text.encode() if isinstance(text, str) else text


def _exchanges(paths: list[Path]) -> list[tuple[str | None, int]]:
    """(operationId, status) of every DigitalOcean API interaction in `paths`."""
    return [
        (operation_of(i["request"]["method"], i["request"]["uri"]), i["response"]["status"]["code"])
        for path in paths
        for i in interactions(path)
        if not is_registry(i["request"]["uri"])
    ]


def test_there_are_cassettes_for_every_documented_status() -> None:
    statuses = {i["response"]["status"]["code"] for path in ALL for i in interactions(path)}
    assert {200, 201, 204, 400, 401, 404, 409, 429, 500, 502, 504} <= statuses


def test_every_operation_has_a_recorded_cassette() -> None:
    recorded = {operation for operation, _ in _exchanges(RECORDED)}
    assert None not in {operation for operation, _ in _exchanges(ALL)}  # every API request is an operation
    assert recorded == set(operations())
    assert len(recorded) == 16  # twelve current paths and the four deprecated twins


@pytest.mark.parametrize("operation", sorted(operations()))
def test_every_documented_status_of_an_operation_appears(operation: str) -> None:
    """In a recorded cassette or in the transcribed upstream examples; `default` by any status not listed."""
    seen = {status for name, status in _exchanges(ALL) if name == operation}
    documented = documented_statuses(operation)
    listed = {int(status) for status in documented - {"default"}}
    assert listed <= seen, f"{operation}: no cassette answers {sorted(listed - seen)}"
    if "default" in documented:
        assert seen - listed, f"{operation}: no cassette answers a status its `default` stands for"


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_every_cassette_holds_to_the_spec(path: Path) -> None:
    checked = 0
    for interaction in interactions(path):
        request, response = interaction["request"], interaction["response"]
        headers = _headers(response["headers"])
        status = response["status"]["code"]
        body = _bytes(response["body"]["string"])
        request_headers = _headers(request["headers"])
        if is_registry(request["uri"]):
            check_registry_exchange(request["method"], request["uri"], request_headers, status, headers, body)
            continue
        if is_transport_garbage(status, headers, body):
            continue
        check_exchange(
            request["method"], request["uri"], request_headers, status, headers, body, _bytes(request["body"] or b"")
        )
        checked += 1
    assert checked or path.stem == "bad_gateway_gives_up"


def test_the_registry_exchanges_are_checked_too() -> None:
    registry = [i for i in interactions(CASSETTES / "oci_manifests.yaml") if is_registry(i["request"]["uri"])]
    statuses = [i["response"]["status"]["code"] for i in registry]
    assert statuses.count(200) >= 5 and 401 in statuses and 404 in statuses  # manifests, tokens, challenges


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_no_cassette_holds_a_token(path: Path) -> None:
    for interaction in interactions(path):
        request = interaction["request"]
        authorization = request["headers"].get("authorization")
        if not is_registry(request["uri"]):
            assert authorization == [FILTERED]
        elif request["uri"].startswith("https://registry.digitalocean.com/token?"):
            assert authorization == ["Basic <DOCKER_CREDENTIALS>"]  # the docker credentials, filtered
        else:
            assert authorization in (None, ["Bearer <REGISTRY_TOKEN>"])
    assert "recording-token" not in path.read_text()


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_no_cassette_holds_registry_credentials(path: Path) -> None:
    """Every `auth` and registry token in a cassette is a placeholder (upstream's own example aside)."""
    spec = yaml.safe_load((CASSETTES.parent.parent / "openapi" / "docr.openapi.yaml").read_text())
    upstream_auth = spec["components"]["schemas"]["docker_credentials"]["properties"]["auths"]["properties"][
        "registry.digitalocean.com"
    ]["properties"]["auth"]["example"]
    allowed = {upstream_auth} if path == UPSTREAM else {base64.b64encode(b"user:password").decode()}
    for interaction in interactions(path):
        try:
            data = json.loads(interaction["response"]["body"]["string"])
        except ValueError:
            continue  # an empty body, a proxy's page, a body cut short
        if not isinstance(data, dict):
            continue
        for entry in (data.get("auths") or {}).values():
            assert entry["auth"] in allowed
        if "token" in data:
            assert data["token"] == data.get("access_token") == "<REGISTRY_TOKEN>"


def test_every_uuid_in_a_recorded_cassette_is_a_placeholder() -> None:
    """Request ids and garbage collection uuids are numbered placeholders, never a run's own."""
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    found = {match for path in RECORDED for match in uuid.findall(path.read_text())}
    assert found and all(re.fullmatch(r"00000000-0000-4000-[89]000-0000000000\d\d", u) for u in found), found


@pytest.mark.vcr("three_pages.yaml")
def test_three_pages_replay(client: docr.Client) -> None:
    recorded = [m for body in bodies(CASSETTES / "three_pages.yaml") for m in body["manifests"]]
    got = [m.to_dict() for m in client.iter_manifests("example", "my/repo", per_page=20)]
    assert got == recorded
    assert len(got) == 45


@pytest.mark.vcr("three_pages.yaml")
def test_three_pages_replay_async() -> None:
    recorded = [m["digest"] for body in bodies(CASSETTES / "three_pages.yaml") for m in body["manifests"]]

    async def run() -> list[str | None]:
        async with docr.AsyncClient("replay-token", concurrency=1) as aclient:
            return [m.digest async for m in aclient.iter_manifests("example", "my/repo", per_page=20)]

    assert asyncio.run(run()) == recorded


@pytest.mark.vcr("legacy_endpoint.yaml")
def test_legacy_endpoint_replay() -> None:
    with docr.Client("replay-token", legacy_endpoint=True) as client:
        assert len(list(client.iter_manifests("example", "my/repo", per_page=20))) == 5
    (interaction,) = interactions(CASSETTES / "legacy_endpoint.yaml")
    assert "/v2/registry/example/repositories/my%2Frepo/digests" in interaction["request"]["uri"]


def test_the_default_path_is_the_current_registries_endpoint() -> None:
    uris = [i["request"]["uri"] for i in interactions(CASSETTES / "three_pages.yaml")]
    assert uris and all("/v2/registries/example/repositories/my%2Frepo/digests?" in uri for uri in uris)


def test_recording_again_reproduces_the_committed_cassettes(tmp_path: Path) -> None:
    """Byte for byte; and none of the fake's real credentials or registry tokens is in any of them."""
    record_cassettes = _load_recorder()
    secrets: dict[str, set[str]] = {}

    def keep_secrets(fake: Any) -> None:
        # The fake's own records of what it issued (private: the request log redacts them).
        issued = fake._credentials._issued.values()
        found = {value for credential in issued for value in (credential.user, credential.password, credential.auth)}
        secrets[fake_name] = found | set(fake._credentials._tokens)

    for fake_name in record_cassettes.SCENARIOS:
        recorded = record_cassettes.record(fake_name, tmp_path, inspect=keep_secrets)
        assert recorded.read_bytes() == (CASSETTES / f"{fake_name}.yaml").read_bytes(), fake_name
        text = recorded.read_text()
        assert not [secret for secret in secrets[fake_name] if secret in text], fake_name
    # The scenarios that handle credentials did get some to hide, so the check above can fail.
    assert len(secrets["docker_credentials"]) >= 4 and len(secrets["oci_manifests"]) >= 4  # two each: user = password


def test_the_upstream_examples_cassette_is_transcribed_from_the_spec_not_the_fake() -> None:
    record_cassettes = _load_recorder()
    # Built from openapi/ alone: no FakeRegistry is started, so the fake cannot shape it.
    text = yaml.safe_dump({"interactions": record_cassettes.upstream_interactions(), "version": 1}, sort_keys=False)
    assert text == (CASSETTES / "upstream_examples.yaml").read_text()


def _load_recorder() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "record_cassettes", CASSETTES.parent.parent / "scripts" / "record_cassettes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.vcr("one_page.yaml")
def test_one_page_replay(client: docr.Client) -> None:
    page = client.list_manifests("example", "my/repo", page=2, per_page=10)
    assert (page.page, page.total, len(page.manifests), page.next_page) == (2, 25, 10, 3)
    assert page.rate_limit is not None
    assert page.rate_limit.limit == 5000
    assert page.request_id


@pytest.mark.vcr("empty_repository.yaml")
def test_empty_repository_replay(client: docr.Client) -> None:
    assert list(client.iter_manifests("example", "my/repo", per_page=20)) == []


@pytest.mark.vcr("not_found.yaml")
def test_not_found_replay(client: docr.Client) -> None:
    with pytest.raises(docr.NotFoundError) as info:
        client.list_manifests("example", "no/such-repo")
    assert info.value.error_id == "not_found"
    assert info.value.request_id


@pytest.mark.vcr("unauthorized.yaml")
def test_unauthorized_replay(client: docr.Client) -> None:
    with pytest.raises(docr.AuthenticationError, match="401 unauthorized"):
        client.list_manifests("example", "my/repo")


@pytest.mark.vcr("rate_limited_then_ok.yaml")
def test_rate_limited_then_ok_replay(client: docr.Client) -> None:
    waits: list[float] = []
    client._sleep = waits.append
    assert len(list(client.iter_manifests("example", "my/repo", per_page=20))) == 3
    assert waits == [2.0]  # the recorded retry-after


@pytest.mark.vcr("server_errors_then_ok.yaml")
def test_server_errors_then_ok_replay(client: docr.Client) -> None:
    got = [m.digest for m in client.iter_manifests("example", "my/repo", per_page=20)]
    assert len(got) == len(set(got)) == 30


@pytest.mark.vcr("bad_gateway_gives_up.yaml")
def test_bad_gateway_gives_up_replay(client: docr.Client) -> None:
    with pytest.raises(docr.ServerError) as info:
        client.list_manifests("example", "my/repo")
    assert info.value.status_code == 502
    assert info.value.attempts == 4
    assert "<html>" in (info.value.body_excerpt or "").lower()


EXAMPLE_ERRORS = [
    ("example-401", docr.AuthenticationError, "unauthorized"),
    ("example-404", docr.NotFoundError, "not_found"),
    ("example-429", docr.RateLimitError, "too_many_requests"),
    ("example-500", docr.ServerError, "server_error"),
    ("example-400", docr.APIError, "example_error"),
]


@pytest.mark.vcr("upstream_examples.yaml")
def test_upstream_200_example_parses_with_its_typo() -> None:
    with docr.Client("replay-token") as client:
        page = client.list_manifests("example", "example-ok")
    (manifest,) = page.manifests
    assert page.total == 3
    assert manifest.tags == ["v1", "v2"]
    sizes = [blob.compressed_size_bytes for blob in manifest.blobs]
    assert sizes == [1471, None, 528]
    assert manifest.blobs[1].extra == {"compressed_size_byte": 2814446}


@pytest.mark.vcr("upstream_examples.yaml")
@pytest.mark.parametrize(("repository", "cls", "error_id"), EXAMPLE_ERRORS)
def test_upstream_error_examples(repository: str, cls: type[docr.APIError], error_id: str) -> None:
    with docr.Client("replay-token", max_retries=0) as client, pytest.raises(cls) as info:
        client.list_manifests("example", repository)
    assert type(info.value) is cls
    assert info.value.error_id == error_id


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b'{"manifests": []}'),  # meta is required
        (200, b'{"manifests": "x", "meta": {"total": 1}}'),
        (200, b'{"manifests": [{"digest": 5}], "meta": {"total": 1}}'),
        (404, b'{"message": "no id"}'),
        (500, b'{"id": "server_error"}'),
    ],
)
def test_the_contract_check_can_fail(status: int, body: bytes) -> None:
    from openapi_core.validation.response.exceptions import DataValidationError

    with pytest.raises(DataValidationError):
        check_exchange(
            "GET",
            "https://api.digitalocean.com/v2/registries/example/repositories/my%2Frepo/digests?page=1",
            {"authorization": "Bearer x"},
            status,
            {"content-type": "application/json"},
            body,
        )


API = "https://api.digitalocean.com/v2/registries/example"
_BEARER = {"authorization": "Bearer x"}
_JSON_REQUEST = {"authorization": "Bearer x", "content-type": "application/json"}


@pytest.mark.parametrize(
    ("method", "url", "request_headers", "request_body", "status", "body"),
    [
        ("POST", f"{API}/garbage-collection", _JSON_REQUEST, b'{"type": "everything"}', 201, b"{}"),
        ("POST", f"{API}/garbage-collection", _JSON_REQUEST, b"", 201, b'{"garbage_collection": {"uuid": 5}}'),
        ("PUT", f"{API}/garbage-collection/abc", _JSON_REQUEST, b'{"cancel": "yes"}', 200, b"{}"),
        ("DELETE", f"{API}/repositories/r/tags/v1", _BEARER, b"", 409, b'{"id": "conflict"}'),  # no message
        ("DELETE", f"{API}/repositories/r/tags/v1", _BEARER, b"", 200, b"{}"),  # 200 is not a delete's answer
        ("GET", f"{API}/docker-credentials?read_write=maybe", _BEARER, b"", 200, b'{"auths": {}}'),
        ("GET", f"{API}/repositoriesV2?per_page=500", _BEARER, b"", 200, b'{"meta": {"total": 0}}'),
        ("GET", f"{API}/repositoriesV2", _BEARER, b"", 200, b'{"repositories": []}'),  # meta is required
        ("GET", f"{API}/garbage-collections", _BEARER, b"", 200, b'{"garbage_collections": {}}'),
        ("GET", f"{API}", _BEARER, b"", 200, b'{"registry": {"name": "Not A Name"}}'),
        ("GET", f"{API}/repositories/r/tags", _BEARER, b"", 200, b'{"tags": [{"tag": 1}], "meta": {"total": 1}}'),
        ("GET", "https://api.digitalocean.com/v2/registries/subscription", {}, b"", 200, b"{}"),  # no token
        (
            "GET",
            "https://api.digitalocean.com/v2/registries/subscription",
            _BEARER,
            b"",
            200,
            b'{"subscription": {"tier": {"included_storage_bytes": "lots"}}}',
        ),
    ],
)
def test_the_contract_check_can_fail_for_every_kind_of_operation(
    method: str, url: str, request_headers: dict[str, str], request_body: bytes, status: int, body: bytes
) -> None:
    from openapi_core.exceptions import OpenAPIError

    with pytest.raises(OpenAPIError):
        check_exchange(method, url, request_headers, status, {"content-type": "application/json"}, body, request_body)


def test_operations_are_told_apart() -> None:
    assert operation_of("GET", "https://api.digitalocean.com/v2/registries/subscription") == (
        "registries_get_subscription"
    )
    assert operation_of("GET", API) == "registries_get"
    assert operation_of("GET", f"{API}/garbage-collection") == "registries_get_garbageCollection"
    assert operation_of("POST", f"{API}/garbage-collection") == "registries_run_garbageCollection"
    assert operation_of("DELETE", f"{API}/repositories/a%2Fb/tags/v1") == "registries_delete_repositoryTag"
    legacy = "https://api.digitalocean.com/v2/registry/example/repositories/a/digests"
    assert operation_of("GET", legacy) == "registry_list_repositoryManifests"
    assert operation_of("GET", "https://registry.digitalocean.com/v2/example/a/manifests/v1") is None
    assert operation_of("PATCH", API) is None


def _registry_exchange(status: int) -> dict[str, Any]:
    found = [
        i
        for i in interactions(CASSETTES / "oci_manifests.yaml")
        if is_registry(i["request"]["uri"]) and "/manifests/" in i["request"]["uri"]
    ]
    chosen = next(i for i in found if i["response"]["status"]["code"] == status)
    request, response = chosen["request"], chosen["response"]
    return {
        "method": request["method"],
        "url": request["uri"],
        "request_headers": _headers(request["headers"]),
        "status": status,
        "headers": _headers(response["headers"]),
        "body": _bytes(response["body"]["string"]),
    }


def _with_manifest(body: bytes, **headers: str) -> dict[str, Any]:
    import hashlib

    exchange = _registry_exchange(200)
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    exchange["url"] = exchange["url"].rsplit("/", 1)[0] + "/" + digest
    exchange["headers"] = {**exchange["headers"], "docker-content-digest": digest, **headers}
    exchange["body"] = body
    return exchange


@pytest.mark.parametrize(
    "spoil",
    [
        lambda e: {**e, "body": e["body"] + b" "},  # the bytes are not the digest's
        lambda e: {**e, "headers": {**e["headers"], "docker-content-digest": "sha256:" + "0" * 64}},
        lambda e: {**e, "headers": {k: v for k, v in e["headers"].items() if k != "docker-content-digest"}},
        lambda e: {**e, "headers": {**e["headers"], "content-type": "application/json"}},
        lambda e: {**e, "url": e["url"].rsplit("/", 1)[0] + "/sha256:" + "1" * 64},  # not what was asked
        lambda e: {**e, "request_headers": {**e["request_headers"], "accept": "application/json"}},
        lambda e: _with_manifest(
            b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}',
            **{"content-type": "application/vnd.oci.image.index.v1+json"},
        ),
        lambda e: {**_registry_exchange(401), "headers": {"content-type": "application/json"}},  # no challenge
        lambda e: {**_registry_exchange(404), "body": b'{"errors": [{"code": "manifest_unknown"}]}'},
        lambda e: {**_registry_exchange(404), "status": 302},
    ],
)
def test_the_registry_check_can_fail(spoil: Any) -> None:
    from tests.contract import RegistryContractError

    check_registry_exchange(**_registry_exchange(200))  # as recorded, it holds
    with pytest.raises(RegistryContractError):
        check_registry_exchange(**spoil(_registry_exchange(200)))


def test_the_token_check_can_fail() -> None:
    from tests.contract import RegistryContractError

    token = next(
        i
        for i in interactions(CASSETTES / "oci_manifests.yaml")
        if i["request"]["uri"].startswith("https://registry.digitalocean.com/token")
    )
    exchange = {
        "method": "GET",
        "url": token["request"]["uri"],
        "request_headers": _headers(token["request"]["headers"]),
        "status": 200,
        "headers": _headers(token["response"]["headers"]),
        "body": _bytes(token["response"]["body"]["string"]),
    }
    check_registry_exchange(**exchange)
    for spoilt in (
        {**exchange, "request_headers": {"authorization": FILTERED}},  # the API token sent to the registry
        {**exchange, "body": b'{"expires_in": 300}'},
        {**exchange, "body": b'{"token": "t", "expires_in": -1}'},
        {**exchange, "status": 401},
    ):
        with pytest.raises(RegistryContractError):
            check_registry_exchange(**spoilt)
