"""Names and paging arguments are checked before any request; valid ones travel encoded once."""

from __future__ import annotations

import httpx
import pytest

import docr
from tests.mock_api import TOKEN, PagedAPI


@pytest.fixture
def api() -> PagedAPI:
    return PagedAPI(count=3)


@pytest.fixture
def client(api: PagedAPI) -> docr.Client:
    return docr.Client(TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(api)))


@pytest.mark.parametrize(
    ("repository", "rule"),
    [
        ("", "must not be empty"),
        (".", "'.' path component"),
        ("..", "'..' path component"),
        ("my/../repo", "'..' path component"),
        ("my/./repo", "'.' path component"),
        ("my%2Frepo", "pass the plain name 'my/repo'"),
        ("my%zzrepo", "looks URL-encoded"),
        ("my repo", "whitespace"),
        ("my\trepo", "whitespace"),
        ("my\x00repo", "control character"),
        ("my\x7frepo", "control character"),
        ("café", "non-ASCII"),
        ("my//repo", "empty path component"),
        ("/my/repo", "must not start or end with '/'"),
        ("my/repo/", "must not start or end with '/'"),
        ("My/Repo", "must be lowercase"),
        ("my/-repo", "component '-repo'"),
        ("my/repo_", "component 'repo_'"),
        ("my/re___po", "component 're___po'"),
        ("my/repo?x=1", "component 'repo?x=1'"),
        ("my/repo#frag", "component 'repo#frag'"),
        ("a" * 256, "the limit is 255"),
    ],
)
def test_bad_repository_names_are_refused_before_any_request(
    client: docr.Client, api: PagedAPI, repository: str, rule: str
) -> None:
    with pytest.raises(docr.InvalidArgument, match="repository_name") as info:
        client.list_manifests("example", repository)
    assert rule in str(info.value)
    assert info.value.argument == "repository_name"
    with pytest.raises(docr.InvalidArgument):
        client.iter_manifests("example", repository)  # raised at call time, not on first next()
    assert api.calls == []


@pytest.mark.parametrize(
    ("registry", "rule"),
    [
        ("", "must not be empty"),
        ("Example", "lowercase"),
        ("ex ample", "whitespace"),
        ("example/my", "contains '/'"),
        ("ex_ample", "1-63 lowercase letters, digits or '-'"),
        ("..", "1-63 lowercase letters"),
        ("e" * 64, "1-63 lowercase letters"),
        ("ex%41mple", "URL-encoded"),
    ],
)
def test_bad_registry_names_are_refused(client: docr.Client, api: PagedAPI, registry: str, rule: str) -> None:
    with pytest.raises(docr.InvalidArgument, match="registry_name") as info:
        client.list_manifests(registry, "my/repo")
    assert rule in str(info.value)
    assert api.calls == []


@pytest.mark.parametrize("value", [None, 3, b"my/repo", ["my", "repo"]])
def test_non_string_names_are_refused(client: docr.Client, value: object) -> None:
    with pytest.raises(docr.InvalidArgument, match="must be a str"):
        client.list_manifests("example", value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"per_page": 0}, "per_page"),
        ({"per_page": 201}, "per_page"),
        ({"per_page": -5}, "per_page"),
        ({"per_page": 2.0}, "per_page"),
        ({"per_page": True}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": "2"}, "page"),
    ],
)
def test_bad_paging_arguments(client: docr.Client, api: PagedAPI, kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(docr.InvalidArgument) as info:
        client.list_manifests("example", "my/repo", **kwargs)  # type: ignore[arg-type]
    assert info.value.argument == argument
    assert api.calls == []


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"max_items": -1}, "max_items"), ({"start_page": 0}, "start_page"), ({"per_page": 500}, "per_page")],
)
def test_bad_iteration_arguments(client: docr.Client, api: PagedAPI, kwargs: dict[str, int], argument: str) -> None:
    with pytest.raises(docr.InvalidArgument) as info:
        client.iter_manifests("example", "my/repo", **kwargs)
    assert info.value.argument == argument
    assert api.calls == []


@pytest.mark.parametrize(
    ("repository", "sent"),
    [
        ("repo", "repo"),
        ("my/repo", "my%2Frepo"),
        ("a/b/c", "a%2Fb%2Fc"),
        ("my-app.v2/web__api", "my-app.v2%2Fweb__api"),
        ("a--b/c_d/e.f", "a--b%2Fc_d%2Fe.f"),
    ],
)
def test_valid_names_travel_as_one_segment_encoded_once(
    client: docr.Client, api: PagedAPI, repository: str, sent: str
) -> None:
    client.list_manifests("my-registry", repository)
    path = api.calls[0].url.raw_path.decode()
    assert path.startswith(f"/v2/registries/my-registry/repositories/{sent}/digests?")


def test_legacy_endpoint_selects_the_deprecated_twin(api: PagedAPI) -> None:
    client = docr.Client(
        TOKEN,
        base_url="http://api.test",
        legacy_endpoint=True,
        http_client=httpx.Client(transport=httpx.MockTransport(api)),
    )
    client.list_manifests("example", "my/repo", page=2, per_page=5)
    assert api.calls[0].url.raw_path == b"/v2/registry/example/repositories/my%2Frepo/digests?per_page=5&page=2"
