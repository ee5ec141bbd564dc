"""docr.testing's registry (OCI distribution) listener: the challenge, token auth, and manifests."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator

import httpx
import pytest

from docr.testing import FakeRegistry, ManualClock

SERVICE = "registry.digitalocean.com"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeRegistry]:
    with FakeRegistry(clock=clock) as fake:
        yield fake


@pytest.fixture
def oci(fake: FakeRegistry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.oci_url, timeout=10) as client:
        yield client


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def token_for(oci: httpx.Client, fake: FakeRegistry, *scopes: str, registry: str = "example") -> str:
    response = oci.get(
        "/token",
        params=[("service", SERVICE), *(("scope", s) for s in scopes)],
        headers=basic(*fake.docker_credentials(registry)),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_base_endpoint_challenges_with_the_token_realm(fake: FakeRegistry, oci: httpx.Client) -> None:
    response = oci.get("/v2/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == f'Bearer realm="{fake.oci_url}/token",service="{SERVICE}"'
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"
    fake.push_image("example", "app")
    token = token_for(oci, fake)
    assert oci.get("/v2/", headers=bearer(token)).status_code == 200


def test_the_whole_docker_flow_from_the_do_api(fake: FakeRegistry, oci: httpx.Client) -> None:
    digest = fake.push_image("example", "team/app", tags=["v1"])
    with httpx.Client(base_url=fake.url, headers={"Authorization": "Bearer api-token"}) as api:
        config = api.get("/v2/registries/example/docker-credentials").json()
    user, _, password = base64.b64decode(config["auths"][SERVICE]["auth"]).decode().partition(":")
    challenge = oci.get("/v2/example/team/app/manifests/v1")
    assert challenge.status_code == 401
    found = re.fullmatch(
        r'Bearer realm="([^"]+)",service="([^"]+)",scope="([^"]+)"', challenge.headers["www-authenticate"]
    )
    assert found is not None
    realm, service, scope = found.groups()
    assert (realm, service, scope) == (f"{fake.oci_url}/token", SERVICE, "repository:example/team/app:pull")
    granted = httpx.get(
        realm, params={"service": service, "scope": scope, "account": user}, headers=basic(user, password)
    )
    body = granted.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    assert body["scope"] == "repository:example/team/app:pull"
    manifest = oci.get("/v2/example/team/app/manifests/v1", headers=bearer(body["token"]))
    assert manifest.status_code == 200
    assert (
        manifest.headers["docker-content-digest"] == digest == "sha256:" + hashlib.sha256(manifest.content).hexdigest()
    )
    # The secret never reaches the request log, not even as the `account` parameter.
    log = repr(fake.requests)
    assert user not in log and password not in log and body["token"] not in log
    assert [(r.api, r.operation) for r in fake.requests] == [
        ("do", "get_docker_credentials"),
        ("oci", "oci_manifest"),
        ("oci", "oci_token"),
        ("oci", "oci_manifest"),
    ]
    assert fake.requests[2].query["account"] == "[redacted]"
    assert fake.requests[2].headers["authorization"] == "Basic [redacted]"


def test_get_and_head_by_digest_and_tag_serve_the_pushed_bytes(fake: FakeRegistry, oci: httpx.Client) -> None:
    index = fake.push_index("example", "web", tags=["v1"])
    image = fake.push_image("example", "web", tags=["plain"], docker=True)
    token = token_for(oci, fake, "repository:example/web:pull")
    for reference, digest, media_type in [
        (index, index, "application/vnd.oci.image.index.v1+json"),
        ("v1", index, "application/vnd.oci.image.index.v1+json"),
        ("plain", image, "application/vnd.docker.distribution.manifest.v2+json"),
    ]:
        got = oci.get(f"/v2/example/web/manifests/{reference}", headers=bearer(token))
        assert got.status_code == 200
        assert got.content == fake.manifest_bytes("example", "web", digest)
        assert got.headers["content-type"] == media_type == json.loads(got.content)["mediaType"]
        assert got.headers["docker-content-digest"] == digest
        head = oci.head(f"/v2/example/web/manifests/{reference}", headers=bearer(token))
        assert head.status_code == 200
        assert head.content == b""
        assert int(head.headers["content-length"]) == len(got.content)
        assert head.headers["docker-content-digest"] == digest
    for child in json.loads(fake.manifest_bytes("example", "web", index))["manifests"]:
        got = oci.get(f"/v2/example/web/manifests/{child['digest']}", headers=bearer(token))
        assert (got.headers["content-type"], len(got.content)) == (child["mediaType"], child["size"])
        assert hashlib.sha256(got.content).hexdigest() == child["digest"].removeprefix("sha256:")


def test_unknown_manifests_and_repositories_are_404_with_oci_codes(fake: FakeRegistry, oci: httpx.Client) -> None:
    fake.push_image("example", "app", tags=["v1"])
    fake.generate("example", "listed", count=3, seed=1)
    token = token_for(
        oci, fake, "repository:example/app:pull", "repository:example/listed:pull", "repository:example/nope:pull"
    )
    cases = [
        ("/v2/example/app/manifests/v2", "MANIFEST_UNKNOWN"),
        ("/v2/example/app/manifests/sha256:" + "0" * 64, "MANIFEST_UNKNOWN"),
        (f"/v2/example/listed/manifests/{fake.manifests('example', 'listed')[0]['digest']}", "MANIFEST_UNKNOWN"),
        ("/v2/example/nope/manifests/v1", "NAME_UNKNOWN"),
    ]
    for path, code in cases:
        response = oci.get(path, headers=bearer(token))
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == code
    assert "listing only" in oci.get(cases[2][0], headers=bearer(token)).json()["errors"][0]["message"]


def test_a_token_grants_only_its_scopes(fake: FakeRegistry, oci: httpx.Client) -> None:
    fake.push_image("example", "app", tags=["v1"])
    fake.push_image("example", "other", tags=["v1"])
    fake.push_image("elsewhere", "app", tags=["v1"])
    token = token_for(oci, fake, "repository:example/app:pull,push", "repository:elsewhere/app:pull")
    assert oci.get("/v2/example/app/manifests/v1", headers=bearer(token)).status_code == 200
    for path in ("/v2/example/other/manifests/v1", "/v2/elsewhere/app/manifests/v1"):
        refused = oci.get(path, headers=bearer(token))
        assert refused.status_code == 401
        assert "scope=" in refused.headers["www-authenticate"]
    assert oci.get("/v2/example/app/manifests/v1", headers=bearer("made-up")).status_code == 401


def test_push_is_granted_only_to_read_write_credentials_outside_garbage_collection(
    fake: FakeRegistry, oci: httpx.Client
) -> None:
    fake.push_image("example", "app")
    scope = {"service": SERVICE, "scope": "repository:example/app:pull,push"}
    read_only = oci.get("/token", params=scope, headers=basic(*fake.docker_credentials("example")))
    assert read_only.json()["scope"] == "repository:example/app:pull"
    read_write = basic(*fake.docker_credentials("example", read_write=True))
    assert oci.get("/token", params=scope, headers=read_write).json()["scope"] == "repository:example/app:pull,push"
    fake.gc_step_seconds = 60
    with httpx.Client(base_url=fake.url, headers={"Authorization": "Bearer t"}) as api:
        assert api.post("/v2/registries/example/garbage-collection").status_code == 201
    assert oci.get("/token", params=scope, headers=read_write).json()["scope"] == "repository:example/app:pull"


@pytest.mark.parametrize(
    "authorization", [None, "Basic " + base64.b64encode(b"user:wrong").decode(), "Basic !!!", "Bearer x"]
)
def test_the_token_endpoint_needs_valid_credentials(
    fake: FakeRegistry, oci: httpx.Client, authorization: str | None
) -> None:
    fake.push_image("example", "app")
    headers = {} if authorization is None else {"Authorization": authorization}
    response = oci.get("/token", params={"service": SERVICE}, headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_credentials_and_tokens_expire(fake: FakeRegistry, oci: httpx.Client, clock: ManualClock) -> None:
    fake.push_image("example", "app", tags=["v1"])
    with httpx.Client(base_url=fake.url, headers={"Authorization": "Bearer t"}) as api:
        config = api.get("/v2/registries/example/docker-credentials", params={"expiry_seconds": 600}).json()
    auth = {"Authorization": "Basic " + config["auths"][SERVICE]["auth"]}
    scope = {"service": SERVICE, "scope": "repository:example/app:pull"}
    token = oci.get("/token", params=scope, headers=auth).json()["token"]
    clock.advance(299)
    assert oci.get("/v2/example/app/manifests/v1", headers=bearer(token)).status_code == 200
    clock.advance(1)
    assert oci.get("/v2/example/app/manifests/v1", headers=bearer(token)).status_code == 401
    assert oci.get("/token", params=scope, headers=auth).status_code == 200
    clock.advance(300)
    assert oci.get("/token", params=scope, headers=auth).status_code == 401
    # docker_credentials() hands out valid ones: the expired ones are not among them.
    assert oci.get("/token", params=scope, headers=basic(*fake.docker_credentials("example"))).status_code == 200


def test_other_methods_and_paths_are_unsupported(fake: FakeRegistry, oci: httpx.Client) -> None:
    digest = fake.push_image("example", "app")
    token = token_for(oci, fake, "repository:example/app:pull")
    deleted = oci.delete(f"/v2/example/app/manifests/{digest}", headers=bearer(token))
    assert deleted.status_code == 405
    assert deleted.json()["errors"][0]["code"] == "UNSUPPORTED"
    assert oci.get(f"/v2/example/app/blobs/{digest}", headers=bearer(token)).status_code == 404
    assert oci.get("/v2/app/manifests/v1", headers=bearer(token)).status_code == 404  # a name needs registry/repository
    assert [r.operation for r in fake.requests[-3:]] == [None, None, None]


def test_faults_reach_the_registry_api_by_operation(fake: FakeRegistry, oci: httpx.Client) -> None:
    fake.push_image("example", "app", tags=["v1"])
    token = token_for(oci, fake, "repository:example/app:pull")
    fake.fail_next(503, operation="oci_manifest")
    fake.fail_next(429, operation="oci_manifest", retry_after=2)
    first = oci.get("/v2/example/app/manifests/v1", headers=bearer(token))
    assert first.status_code == 503
    assert first.json()["errors"][0]["code"] == "UNKNOWN"
    second = oci.get("/v2/example/app/manifests/v1", headers=bearer(token))
    assert (second.status_code, second.headers["retry-after"]) == (429, "2")
    assert second.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert oci.get("/v2/example/app/manifests/v1", headers=bearer(token)).status_code == 200
    fake.fail_next("reset", operation="oci_manifest")
    with pytest.raises(httpx.TransportError):
        oci.get("/v2/example/app/manifests/v1", headers=bearer(token))
    assert [r.fault for r in fake.requests if r.operation == "oci_manifest"] == ["503", "429", None, "reset"]
    assert "ratelimit-limit" not in first.headers  # the registry API is not DO's rate-limited API
