"""Property tests: any input is either refused before a request, or travels exactly right."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import docr
from docr.testing import FakeRegistry
from tests.mock_api import TOKEN, PagedAPI

COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
VALID_REPOSITORY = st.from_regex(rf"\A{COMPONENT}(?:/{COMPONENT}){{0,3}}\Z").filter(lambda s: len(s) <= 255)
VALID_REGISTRY = st.from_regex(r"\A[a-z0-9-]{1,63}\Z")
ANY_NAME = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="ab/.%_-Z \t\x00é", max_size=12),
    VALID_REPOSITORY,
)
DIGESTS_PATH = "/digests"


def recording_client() -> tuple[docr.Client, PagedAPI]:
    api = PagedAPI(1)
    client = docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(api))
    )
    return client, api


@settings(max_examples=400, deadline=None)
@given(registry=st.one_of(VALID_REGISTRY, ANY_NAME), repository=ANY_NAME)
def test_a_name_is_refused_before_any_request_or_sent_as_one_encoded_segment(registry: str, repository: str) -> None:
    client, api = recording_client()
    try:
        client.list_manifests(registry, repository)
    except docr.InvalidArgument as exc:
        assert api.calls == []
        assert exc.argument in ("registry_name", "repository_name")
        return
    (request,) = api.calls
    path = request.url.raw_path.decode("ascii").split("?")[0]
    prefix = f"/v2/registries/{registry}/repositories/"
    assert path.startswith(prefix)
    assert path.endswith(DIGESTS_PATH)
    segment = path[len(prefix) : -len(DIGESTS_PATH)]
    assert "/" not in segment  # exactly one path segment...
    assert unquote(segment) == repository  # ...that decodes back to the name
    assert segment.count("%2F") == repository.count("/")  # encoded exactly once


@settings(max_examples=300, deadline=None)
@given(
    page=st.one_of(st.integers(), st.floats(), st.booleans(), st.text(max_size=3), st.none()),
    per_page=st.one_of(st.integers(), st.floats(), st.booleans(), st.none()),
)
def test_paging_arguments_are_refused_or_sent_as_given(page: Any, per_page: Any) -> None:
    client, api = recording_client()
    try:
        client.list_manifests("example", "my/repo", page=page, per_page=per_page)
    except docr.InvalidArgument as exc:
        assert api.calls == []
        assert exc.argument in ("page", "per_page")
        valid_page = type(page) is int and page >= 1
        valid_per_page = type(per_page) is int and 1 <= per_page <= 200
        assert not (valid_page and valid_per_page)
        return
    assert type(page) is int and page >= 1
    assert type(per_page) is int and 1 <= per_page <= 200
    (request,) = api.calls
    assert request.url.params["page"] == str(page)
    assert request.url.params["per_page"] == str(per_page)


@settings(max_examples=200, deadline=None)
@given(max_items=st.one_of(st.integers(min_value=-10, max_value=60), st.floats(), st.none(), st.booleans()))
def test_max_items_is_refused_or_honoured(max_items: Any) -> None:
    api = PagedAPI(45)
    client = docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(api))
    )
    try:
        got = list(client.iter_manifests("example", "my/repo", per_page=10, max_items=max_items))
    except docr.InvalidArgument as exc:
        assert exc.argument == "max_items"
        assert api.calls == []
        return
    assert max_items is None or (type(max_items) is int and max_items >= 0)
    expected = 45 if max_items is None else min(45, max_items)
    assert [m.digest for m in got] == [m["digest"] for m in api.items[:expected]]


@pytest.fixture(scope="module")
def fake() -> Any:
    with FakeRegistry() as fake:
        yield fake


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(registry=VALID_REGISTRY, repository=VALID_REPOSITORY)
def test_the_real_server_decodes_every_valid_name_back(fake: FakeRegistry, registry: str, repository: str) -> None:
    digest = "sha256:" + format(abs(hash((registry, repository))), "064x")[-64:]
    fake.add_manifests(registry, repository, [{"digest": digest, "repository": repository}])
    with docr.Client(TOKEN, base_url=fake.url, max_retries=0) as client:
        page = client.list_manifests(registry, repository, per_page=200)
    assert digest in {m.digest for m in page.manifests}
