"""docr.testing routes, auth, errors and the headers on every answer."""

from __future__ import annotations

import http.client
import json
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

import docr.testing
from docr.testing import FakeRegistry

NOT_FOUND = {"id": "not_found", "message": "The resource you requested could not be found."}
UNAUTHORIZED = {"id": "unauthorized", "message": "Unable to authenticate you."}


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        fake.generate("example", "my/repo", count=3, seed=1)
        yield fake


@pytest.fixture
def client(fake: FakeRegistry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers={"Authorization": "Bearer test-token"}) as client:
        yield client


def without_request_id(response: httpx.Response) -> dict[str, object]:
    body = dict(response.json())
    assert body.pop("request_id") == response.headers["x-request-id"]
    return body


def test_public_surface() -> None:
    assert docr.testing.__all__ == ["OPERATIONS", "FakeRegistry", "FaultKind", "ManualClock", "RecordedRequest"]


@pytest.mark.parametrize("endpoint", ["registry", "registries"])
@pytest.mark.parametrize("spelling", ["my%2Frepo", "my%2frepo", "%6dy%2Frepo"])
def test_an_encoded_repository_name_finds_the_repository(client: httpx.Client, endpoint: str, spelling: str) -> None:
    response = client.get(f"/v2/{endpoint}/example/repositories/{spelling}/digests")
    assert response.status_code == 200
    assert response.json()["meta"] == {"total": 3}


def test_deeper_names_and_other_escapes_decode_too(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.generate("example", "team/app/web-1", count=2, seed=1)
    response = client.get("/v2/registry/example/repositories/team%2Fapp%2Fweb%2D1/digests")
    assert response.json()["meta"] == {"total": 2}


@pytest.mark.parametrize(
    "path",
    [
        "/v2/registry/example/repositories/my/repo/digests",  # a raw "/" makes extra segments, as upstream
        "/v2/registries/example/repositories/my/repo/digests",
        "/v2/registry/example/repositories/repo/digests",  # unknown repository
        "/v2/registry/nope/repositories/my%2Frepo/digests",  # unknown registry
        "/v2/registry/example/repositories/my%2Frepo/digests/",
        "/v2/registry/example/repositories/my%2Frepo",
        "/v2/registry/example/repositories//digests",
        "/v2/registry/example/repositories/my%2Frepo/labels",
        "/v2/registry/example",  # get registry is under /v2/registries only
        "/v2/account",
        "/",
    ],
)
def test_anything_else_is_404_not_found(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert without_request_id(response) == NOT_FOUND


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "test-token", "Bearer a b"]
)
def test_no_well_formed_bearer_token_is_401(fake: FakeRegistry, authorization: str | None) -> None:
    # http.client, not httpx: httpx refuses to send a header value with trailing whitespace.
    address = urlsplit(fake.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        headers = {} if authorization is None else {"Authorization": authorization}
        connection.request("GET", "/v2/registry/example/repositories/my%2Frepo/digests", headers=headers)
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 401
    assert body == {**UNAUTHORIZED, "request_id": response.headers["x-request-id"]}


def test_any_bearer_token_is_accepted_when_none_is_configured(fake: FakeRegistry) -> None:
    for token in ("a", "dop_v1_0123456789abcdef", "x" * 200):
        response = httpx.get(
            f"{fake.url}/v2/registry/example/repositories/my%2Frepo/digests",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200


def test_only_the_configured_token_is_accepted() -> None:
    with FakeRegistry(token="s3cret") as fake:
        fake.generate("example", "my/repo", count=1, seed=1)
        url = f"{fake.url}/v2/registries/example/repositories/my%2Frepo/digests"
        assert httpx.get(url, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert httpx.get(url, headers={"Authorization": "bearer s3cret"}).status_code == 200
        for wrong in ("Bearer s3cre", "Bearer s3cret2", "Bearer S3CRET", "Bearer other"):
            response = httpx.get(url, headers={"Authorization": wrong})
            assert response.status_code == 401
            assert without_request_id(response) == UNAUTHORIZED


def test_an_empty_configured_token_is_refused() -> None:
    with pytest.raises(ValueError, match="token"):
        FakeRegistry(token="")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_are_405_with_an_error_body(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/v2/registry/example/repositories/my%2Frepo/digests", content=b'{"x": 1}')
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert without_request_id(response)["id"] == "method_not_allowed"
    # The request body was consumed: the connection still serves the next request.
    assert client.get("/v2/registry/example/repositories/my%2Frepo/digests").status_code == 200


def test_head_is_405_without_a_body(fake: FakeRegistry, client: httpx.Client) -> None:
    response = client.head("/v2/registry/example/repositories/my%2Frepo/digests")
    assert response.status_code == 405
    assert response.content == b""
    assert client.get("/v2/registry/example/repositories/my%2Frepo/digests").status_code == 200


@pytest.mark.parametrize(
    ("path", "authorization", "status"),
    [
        ("/v2/registry/example/repositories/my%2Frepo/digests", "Bearer t", 200),
        ("/v2/registries/example/repositories/my%2Frepo/digests?per_page=0", "Bearer t", 400),
        ("/v2/registries/example/repositories/my%2Frepo/digests", None, 401),
        ("/v2/registries/example/repositories/nope/digests", "Bearer t", 404),
    ],
)
def test_every_answer_carries_rate_limit_headers_and_a_request_id(
    fake: FakeRegistry, path: str, authorization: str | None, status: int
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(fake.url + path, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"):
        int(response.headers[name])
    assert uuid.UUID(response.headers["x-request-id"]).version == 4
    assert fake.requests[-1].request_id == response.headers["x-request-id"]
    assert fake.requests[-1].status == status


def test_ratelimit_remaining_counts_down_per_token(fake: FakeRegistry) -> None:
    url = f"{fake.url}/v2/registry/example/repositories/my%2Frepo/digests"

    def remaining(token: str) -> int:
        return int(httpx.get(url, headers={"Authorization": f"Bearer {token}"}).headers["ratelimit-remaining"])

    assert [remaining("a"), remaining("a"), remaining("b"), remaining("a")] == [4999, 4998, 4999, 4997]


def test_an_unenforced_quota_never_reports_zero_remaining() -> None:
    with FakeRegistry(ratelimit_limit=3) as fake:
        fake.generate("example", "my/repo", count=1, seed=1)
        url = f"{fake.url}/v2/registry/example/repositories/my%2Frepo/digests"
        with httpx.Client(headers={"Authorization": "Bearer t"}) as client:
            answers = [client.get(url) for _ in range(5)]
    assert [answer.status_code for answer in answers] == [200] * 5
    assert [answer.headers["ratelimit-remaining"] for answer in answers] == ["2", "1", "1", "1", "1"]
    assert {answer.headers["ratelimit-limit"] for answer in answers} == {"3"}


def test_connections_are_kept_alive_with_exact_lengths(fake: FakeRegistry) -> None:
    address = urlsplit(fake.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        for path in (
            "/v2/registry/example/repositories/my%2Frepo/digests",
            "/v2/account",
            "/v2/registry/x/repositories/y/digests",
        ):
            connection.request("GET", path, headers={"Authorization": "Bearer t"})
            response = connection.getresponse()
            body = response.read()
            assert int(response.headers["content-length"]) == len(body)
            assert not response.will_close
            assert connection.sock is not None  # the same socket, still open
    finally:
        connection.close()


def test_a_request_http_server_refuses_still_gets_a_json_error(fake: FakeRegistry) -> None:
    address = urlsplit(fake.url)
    with socket.create_connection((address.hostname or "", address.port or 0), timeout=10) as sock:
        sock.sendall(b"BREW /v2/account HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 501 ")
    assert b"ratelimit-remaining:" in head.lower()
    assert b'"id": "error"' in body


def test_an_absolute_form_target_is_routed_on_its_path(fake: FakeRegistry) -> None:
    address = urlsplit(fake.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.request(
            "GET",
            f"{fake.url}/v2/registry/example/repositories/my%2Frepo/digests?per_page=1",
            headers={"Authorization": "Bearer t"},
        )
        response = connection.getresponse()
        assert response.status == 200
        assert len(json.loads(response.read())["manifests"]) == 1
    finally:
        connection.close()
