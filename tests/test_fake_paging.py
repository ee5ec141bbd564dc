"""docr.testing paging: page arithmetic, defaults, parameter checks and links.pages."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from docr.testing import FakeRegistry

PATH = "/v2/registry/example/repositories/my%2Frepo/digests"


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        yield fake


@pytest.fixture
def client(fake: FakeRegistry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers={"Authorization": "Bearer test-token"}) as client:
        yield client


def get_page(client: httpx.Client, path: str = PATH, **params: Any) -> dict[str, Any]:
    # params=None, not {}: an empty mapping would replace the query of a `next` link.
    response = client.get(path, params=params or None)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def digests(body: dict[str, Any]) -> list[str]:
    return [manifest["digest"] for manifest in body["manifests"]]


def link(fake: FakeRegistry, page: int, per_page: int, path: str = PATH) -> str:
    return f"{fake.url}{path}?page={page}&per_page={per_page}"


def test_defaults_are_page_1_of_20(fake: FakeRegistry, client: httpx.Client) -> None:
    listed = fake.generate("example", "my/repo", count=45, seed=1)
    body = get_page(client)
    assert digests(body) == [manifest["digest"] for manifest in listed[:20]]
    assert body["meta"] == {"total": 45}
    assert body["links"] == {"pages": {"next": link(fake, 2, 20), "last": link(fake, 3, 20)}}


def test_middle_page_has_all_four_links(fake: FakeRegistry, client: httpx.Client) -> None:
    listed = fake.generate("example", "my/repo", count=45, seed=1)
    body = get_page(client, page=2)
    assert digests(body) == [manifest["digest"] for manifest in listed[20:40]]
    assert body["links"]["pages"] == {
        "first": link(fake, 1, 20),
        "prev": link(fake, 1, 20),
        "next": link(fake, 3, 20),
        "last": link(fake, 3, 20),
    }


def test_last_page_is_partial_and_has_only_backward_links(fake: FakeRegistry, client: httpx.Client) -> None:
    listed = fake.generate("example", "my/repo", count=45, seed=1)
    body = get_page(client, page=3)
    assert digests(body) == [manifest["digest"] for manifest in listed[40:]]
    assert body["links"]["pages"] == {"first": link(fake, 1, 20), "prev": link(fake, 2, 20)}
    assert body["meta"] == {"total": 45}


@pytest.mark.parametrize(("total", "per_page", "last"), [(40, 20, 2), (200, 200, 1), (3, 1, 3), (400, 200, 2)])
def test_exact_multiples_of_per_page_add_no_empty_page(
    fake: FakeRegistry, client: httpx.Client, total: int, per_page: int, last: int
) -> None:
    fake.generate("example", "my/repo", count=total, seed=2)
    first = get_page(client, per_page=per_page)
    if last == 1:
        assert first["links"] == {"pages": {}}
    else:
        assert first["links"]["pages"]["last"] == link(fake, last, per_page)
    final = get_page(client, page=last, per_page=per_page)
    assert len(final["manifests"]) == per_page
    assert "next" not in final["links"]["pages"]
    assert "last" not in final["links"]["pages"]


def test_a_page_past_the_end_is_empty_with_the_right_total(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.generate("example", "my/repo", count=40, seed=1)
    body = get_page(client, page=3)
    assert body["manifests"] == []
    assert body["meta"] == {"total": 40}
    assert body["links"]["pages"] == {"first": link(fake, 1, 20), "prev": link(fake, 2, 20)}
    assert get_page(client, page=2**63 - 1)["manifests"] == []


def test_an_empty_repository_has_one_empty_page_and_no_links(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.add_manifests("example", "my/repo", [])
    assert get_page(client) == {"manifests": [], "links": {"pages": {}}, "meta": {"total": 0}}


def test_a_single_page_has_no_links(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.generate("example", "my/repo", count=5, seed=1)
    body = get_page(client)
    assert len(body["manifests"]) == 5
    assert body["links"] == {"pages": {}}


def test_per_page_1_and_200(fake: FakeRegistry, client: httpx.Client) -> None:
    listed = fake.generate("example", "my/repo", count=201, seed=3)
    assert digests(get_page(client, per_page=200)) == [manifest["digest"] for manifest in listed[:200]]
    assert digests(get_page(client, page=2, per_page=200)) == [listed[200]["digest"]]
    one = get_page(client, page=201, per_page=1)
    assert digests(one) == [listed[200]["digest"]]
    assert one["links"]["pages"] == {"first": link(fake, 1, 1), "prev": link(fake, 200, 1)}


def test_following_next_links_lists_every_manifest_once_in_order(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.generate("example", "my/repo", count=95, seed=4)
    seen: list[str] = []
    url: str | None = f"{PATH}?per_page=10"
    while url is not None and len(seen) <= 95:
        body = get_page(client, url)
        seen += digests(body)
        url = body["links"]["pages"].get("next")
    assert seen == [manifest["digest"] for manifest in fake.manifests("example", "my/repo")]
    assert len(fake.requests) == 10


@pytest.mark.parametrize(
    "path",
    [
        "/v2/registries/example/repositories/my%2frepo/digests",
        "/v2/registry/example/repositories/my%2Frepo/digests",
        "/v2/registries/exampl%65/repositories/my%2Frepo/digests",
    ],
)
def test_links_repeat_the_raw_path_the_client_used(fake: FakeRegistry, client: httpx.Client, path: str) -> None:
    fake.generate("example", "my/repo", count=30, seed=1)
    body = get_page(client, path, per_page=10, page=2)
    assert body["links"]["pages"]["next"] == link(fake, 3, 10, path)
    assert body["links"]["pages"]["first"] == link(fake, 1, 10, path)


def test_links_point_at_the_host_the_client_called(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.generate("example", "my/repo", count=30, seed=1)
    port = fake.url.rsplit(":", 1)[1]
    response = client.get(PATH, headers={"Host": f"localhost:{port}"})
    assert response.json()["links"]["pages"]["next"] == f"http://localhost:{port}{PATH}?page=2&per_page=20"
    # A Host header that is not a plain host[:port] is not echoed into links.
    response = client.get(PATH, headers={"Host": "evil.example/x?"})
    assert response.json()["links"]["pages"]["next"] == link(fake, 2, 20)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"per_page": "0"}, "per_page must be an integer from 1 to 200"),
        ({"per_page": "201"}, "per_page must be an integer from 1 to 200"),
        ({"per_page": "-1"}, "per_page must be an integer from 1 to 200"),
        ({"per_page": "ten"}, "per_page must be an integer from 1 to 200"),
        ({"per_page": "2.0"}, "per_page must be an integer from 1 to 200"),
        ({"per_page": ""}, "per_page must be an integer from 1 to 200"),
        ({"per_page": "+5"}, "per_page must be an integer from 1 to 200"),
        ({"per_page": "1e2"}, "per_page must be an integer from 1 to 200"),
        ({"page": "0"}, "page must be an integer from 1 to 9223372036854775807"),
        ({"page": "-2"}, "page must be an integer from 1 to 9223372036854775807"),
        ({"page": "two"}, "page must be an integer from 1 to 9223372036854775807"),
        ({"page": " 1"}, "page must be an integer from 1 to 9223372036854775807"),
        ({"page": str(2**63)}, "page must be an integer from 1 to 9223372036854775807"),
        ({"page": "9" * 5000}, "page must be an integer from 1 to 9223372036854775807"),
    ],
)
def test_parameters_outside_the_spec_are_400_bad_request(
    fake: FakeRegistry, client: httpx.Client, params: dict[str, str], message: str
) -> None:
    fake.generate("example", "my/repo", count=5, seed=1)
    response = client.get(PATH, params=params)
    assert response.status_code == 400
    body = response.json()
    assert body == {"id": "bad_request", "message": message, "request_id": response.headers["x-request-id"]}


def test_the_first_of_repeated_parameters_counts(fake: FakeRegistry, client: httpx.Client) -> None:
    listed = fake.generate("example", "my/repo", count=5, seed=1)
    body = get_page(client, f"{PATH}?per_page=2&per_page=3&page=2&page=1")
    assert digests(body) == [manifest["digest"] for manifest in listed[2:4]]
    assert fake.requests[-1].query == {"per_page": "2", "page": "2"}


def test_a_raw_path_with_braces_is_repeated_verbatim(fake: FakeRegistry) -> None:
    # http.client sends the path as given (httpx would encode the braces).
    fake.generate("example", "my/{repo}", count=30, seed=1)
    path = "/v2/registries/example/repositories/my%2F{repo}/digests"
    address = urlsplit(fake.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.request("GET", f"{path}?per_page=10", headers={"Authorization": "Bearer t"})
        body = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    assert body["links"]["pages"]["next"] == link(fake, 2, 10, path)
