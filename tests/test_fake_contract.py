"""Every answer docr.testing gives validates against openapi/docr.openapi.yaml.

Every operation the fragment has is exercised (`OPERATION_CASES`: happy paths and the errors
each can answer) and each answer validated against that operation; the test is parametrised
over the fragment itself, so an operation added to it is checked from then on, and one without
cases here fails rather than being skipped. List manifests is also probed by hypothesis across
valid and invalid `page`/`per_page` values (non-integers too), registry and repository names
(encoded, unencoded, unknown), auth present and absent, both endpoints, GET and not, and every
injected fault that answers with the API's own error model (401, 404, 429, 500 and the
`default` ones: 400, 405, 503, 504...).

Deliberately out of the contract, and so out of this test: the injected proxy garbage that
imitates what sits in front of the API, not the API (`reset`, `truncated`, 502's HTML page and
520's empty body). tests/test_fake_faults.py checks those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.response.exceptions import ResponseValidationError

from docr.testing import FakeRegistry, ManualClock
from tests.conftest import SPEC

TOKEN = "contract-token"
PATTERN = "/v2/{endpoint}/{{registry_name}}/repositories/{{repository_name}}/digests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CLOCK = ManualClock()  # stands still: a started collection stays active


@dataclass(frozen=True)
class Case:
    endpoint: str
    registry: str
    repository: str  # as it travels in the path
    query: str
    authorization: str | None
    fault: tuple[int, int | None] | str | None
    method: str

    @property
    def path(self) -> str:
        return f"/v2/{self.endpoint}/{self.registry}/repositories/{self.repository}/digests{self.query}"


@pytest.fixture(scope="module")
def spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry(token=TOKEN, clock=CLOCK) as fake:
        fake.generate("example", "my/repo", count=45, seed=1)
        fake.generate("example", "solo", count=3, seed=2)
        fake.add_manifests("example", "empty", [])
        # Upstream's own example manifest, typo included (a blob's `compressed_size_byte`).
        fake.add_manifests(
            "example",
            "upstream",
            [
                {
                    "digest": "sha256:cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221",
                    "registry_name": "example",
                    "repository": "upstream",
                    "compressed_size_bytes": 1972332,
                    "size_bytes": 2816445,
                    "updated_at": "2021-04-09T23:54:25Z",
                    "tags": ["v1", "v2"],
                    "blobs": [
                        {
                            "digest": "sha256:14119a10abf4669e8cdbdff324a9f9605d99697215a0d21c360fe8dfa8471bab",
                            "compressed_size_bytes": 1471,
                        },
                        {
                            "digest": "sha256:a0d0a0d46f8b52473982a3c466318f479767577551a53ffc9074c9fa7035982e",
                            "compressed_size_byte": 2814446,
                        },
                    ],
                }
            ],
        )
        yield fake


@pytest.fixture(scope="module")
def client(fake: FakeRegistry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, timeout=10) as client:
        yield client


def check(spec: OpenAPI, fake: FakeRegistry, endpoint: str, response: httpx.Response) -> None:
    """Validate one list-manifests answer against the operation of `endpoint`, whatever path the request used."""
    # The operation is given by its pattern, so answers to paths that match no operation (a raw
    # "/" in the repository name, unknown paths) are held to the same operation's responses; POST
    # has no operation there, so its 405 is checked as the GET operation's `default` error.
    check_operation(spec, fake, "get", PATTERN.format(endpoint=endpoint), response)


def check_operation(spec: OpenAPI, fake: FakeRegistry, method: str, pattern: str, response: httpx.Response) -> None:
    """Validate one answer against the operation at (`method`, `pattern`), and what the spec says in prose."""
    names = [part[1:-1] for part in pattern.split("/") if part.startswith("{")]
    view_args = {name: "x" for name in names}
    request = MockRequest(
        "https://api.digitalocean.com",
        method,
        pattern.format(**view_args),
        path_pattern=pattern,
        view_args=view_args,
    )
    answer = MockResponse(
        response.content,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=response.headers.get("content-type", ""),
    )
    spec.validate_response(request, answer)
    # Beyond the schema: the parts of every answer the spec describes only in prose.
    for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"):
        int(response.headers[name])
    if response.status_code == 200 and "links" in response.json():
        home = urlsplit(fake.url)
        for url in response.json()["links"]["pages"].values():
            parts = urlsplit(url)
            assert (parts.scheme, parts.netloc) == (home.scheme, home.netloc), url
    elif response.status_code >= 400:
        assert response.json()["request_id"] == response.headers["x-request-id"]
    if response.status_code == 429 and "retry-after" in response.headers:
        assert int(response.headers["retry-after"]) >= 0


repositories = st.sampled_from(
    ["my%2Frepo", "my%2frepo", "my/repo", "solo", "empty", "upstream", "nope", "my%2Fnope", quote("my/repo", safe="")]
)
numbers = st.one_of(
    st.integers(min_value=-3, max_value=12).map(str),
    st.integers(min_value=195, max_value=205).map(str),
    st.sampled_from(["", "x", "1.5", "+1", " 2", "1e1", "0x10", str(2**63), "9" * 30]),
)
queries = st.builds(
    lambda page, per_page: (
        "?" + "&".join(f"{k}={v}" for k, v in (("page", page), ("per_page", per_page)) if v is not None)
        if page is not None or per_page is not None
        else ""
    ),
    st.none() | numbers,
    st.none() | numbers,
)
faults = st.one_of(
    st.none(),
    st.none(),
    st.tuples(st.sampled_from([400, 401, 403, 404, 409, 422, 500, 503, 504]), st.none()),
    st.tuples(st.just(429), st.none() | st.integers(min_value=0, max_value=60)),
    st.just("slow"),
)
cases = st.builds(
    Case,
    endpoint=st.sampled_from(["registry", "registries"]),
    registry=st.sampled_from(["example", "example", "nope"]),
    repository=repositories,
    query=queries,
    authorization=st.sampled_from([f"Bearer {TOKEN}", f"Bearer {TOKEN}", None, "", "Bearer wrong", f"Basic {TOKEN}"]),
    fault=faults,
    method=st.sampled_from(["GET", "GET", "GET", "POST", "DELETE"]),
)


# derandomize: the same 150 cases every run, so a failure here is never a fluke of the draw.
@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(case=cases)
def test_every_answer_matches_the_spec(spec: OpenAPI, fake: FakeRegistry, client: httpx.Client, case: Case) -> None:
    if isinstance(case.fault, tuple):
        status, retry_after = case.fault
        fake.fail_next(status, retry_after=retry_after)
    elif case.fault == "slow":
        fake.fail_next("slow", delay=0.01)
    headers = {} if case.authorization is None else {"Authorization": case.authorization}
    response = client.request(case.method, case.path, headers=headers)
    check(spec, fake, case.endpoint, response)


def test_the_spread_reaches_every_kind_of_answer(fake: FakeRegistry) -> None:
    # Runs after the property test (same module fake): the draw did reach each kind of answer.
    statuses = {request.status for request in fake.requests}
    assert {200, 400, 401, 404, 405, 429} <= statuses
    assert {request.fault for request in fake.requests} > {None, "slow"}


@pytest.mark.parametrize(
    ("kind", "retry_after"),
    [
        (400, None),
        (401, None),
        (403, None),
        (404, None),
        (429, None),
        (429, 7),
        (500, None),
        (503, 2),
        (504, None),
        ("slow", None),
    ],
)
def test_each_injected_error_matches_the_spec(
    spec: OpenAPI, fake: FakeRegistry, client: httpx.Client, kind: int | str, retry_after: int | None
) -> None:
    if kind == "slow":
        fake.fail_next("slow", delay=0.01)
    else:
        fake.fail_next(kind, retry_after=retry_after)
    response = client.get(
        "/v2/registry/example/repositories/solo/digests", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == (200 if kind == "slow" else kind)
    check(spec, fake, "registry", response)


@pytest.mark.parametrize(
    "path",
    [
        "/v2/registries/example/repositories/my%2Frepo/digests?page=3",
        "/v2/registries/example/repositories/my%2Frepo/digests?page=99",
        "/v2/registry/example/repositories/empty/digests",
        "/v2/registry/example/repositories/upstream/digests",
    ],
)
def test_edge_pages_match_the_spec(spec: OpenAPI, fake: FakeRegistry, client: httpx.Client, path: str) -> None:
    response = client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    check(spec, fake, path.split("/")[2], response)


def test_rate_limited_answers_match_the_spec(spec: OpenAPI, fake: FakeRegistry, client: httpx.Client) -> None:
    fake.rate_limit(requests=1, window=60)
    try:
        path = "/v2/registries/example/repositories/solo/digests"
        answers = [client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}) for _ in range(2)]
    finally:
        fake.rate_limit(None)
    assert [answer.status_code for answer in answers] == [200, 429]
    assert "retry-after" in answers[1].headers
    for answer in answers:
        check(spec, fake, "registries", answer)


def test_a_failing_check_is_caught(spec: OpenAPI, fake: FakeRegistry, client: httpx.Client) -> None:
    # The validation above can fail: a body missing `meta.total` does not pass it.
    response = client.get(
        "/v2/registry/example/repositories/solo/digests", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    broken = httpx.Response(200, headers=response.headers, content=response.content.replace(b'"total"', b'"count"'))
    with pytest.raises(ResponseValidationError):
        check(spec, fake, "registry", broken)
    bad_header = httpx.Response(200, headers={**response.headers, "ratelimit-limit": "many"}, content=response.content)
    with pytest.raises(ResponseValidationError):
        check(spec, fake, "registry", bad_header)


# Every operation of the fragment, exercised: each case function takes the fake, a client with the
# token, and the prefix of the paths ("registries", or "registry" for a deprecated twin), makes
# whatever state it needs in registries of its own, and returns (expected status, answer) pairs.
Cases = list[tuple[int, httpx.Response]]


def fragment_operations() -> list[tuple[str, str, str]]:
    """(operationId, method, path pattern) of every operation in openapi/docr.openapi.yaml."""
    document = yaml.safe_load(SPEC.read_text())
    found = []
    for pattern, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options"):
                found.append((operation["operationId"], method, pattern))
    return found


def _manifest_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    base = f"/v2/{prefix}/example/repositories/my%2Frepo/digests"
    fake.fail_next(429, retry_after=3, operation="list_manifests")
    return [
        (429, client.get(base)),
        (200, client.get(base, params={"page": 2, "per_page": 10})),
        (200, client.get(base, params={"page": 99})),
        (400, client.get(base, params={"per_page": 0})),
        (401, client.get(base, headers={"Authorization": ""})),
        (404, client.get(f"/v2/{prefix}/example/repositories/nope/digests")),
    ]


def _tag_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    base = f"/v2/{prefix}/demo/repositories/web%2Ffrontend/tags"
    return [
        (200, client.get(base, params={"per_page": 3})),
        (200, client.get(base, params={"page": 2, "per_page": 3})),
        (200, client.get(f"/v2/{prefix}/example/repositories/empty/tags")),
        (400, client.get(base, params={"page": 0})),
        (404, client.get(f"/v2/{prefix}/demo/repositories/nope/tags")),
    ]


def _repository_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    base = f"/v2/{prefix}/demo/repositoriesV2"
    first = client.get(base, params={"per_page": 2})
    following = client.get(first.json()["links"]["pages"]["next"])
    return [
        (200, first),
        (200, following),
        (200, client.get(base, params={"page": 3, "per_page": 2})),
        (400, client.get(base, params={"page_token": "not-a-token"})),
        (404, client.get(f"/v2/{prefix}/nope/repositoriesV2")),
    ]


def _delete_manifest_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    digest = fake.push_image("example", "deletable", tags=["doomed"])
    base = f"/v2/{prefix}/example/repositories/deletable/digests"
    return [
        (204, client.delete(f"{base}/{digest}")),
        (404, client.delete(f"{base}/{digest}")),
        (404, client.delete(f"/v2/{prefix}/example/repositories/nope/digests/{digest}")),
        (409, client.delete(f"/v2/{prefix}/busy/repositories/app/digests/{fake.tags('busy', 'app')['v1']}")),
    ]


def _delete_tag_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    fake.push_image("example", "retag", tags=[f"{prefix}-1"])
    base = "/v2/{}/example/repositories/retag/tags/{}"
    return [
        (204, client.delete(base.format(prefix, f"{prefix}-1"))),
        (404, client.delete(base.format(prefix, f"{prefix}-1"))),
        (409, client.delete(f"/v2/{prefix}/busy/repositories/app/tags/v1")),
    ]


def _registry_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    return [(200, client.get(f"/v2/{prefix}/demo")), (404, client.get(f"/v2/{prefix}/nope"))]


def _subscription_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    return [
        (200, client.get(f"/v2/{prefix}/subscription")),
        (401, client.get(f"/v2/{prefix}/subscription", headers={"Authorization": "Bearer wrong"})),
    ]


def _credential_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    base = f"/v2/{prefix}/demo/docker-credentials"
    return [
        (200, client.get(base)),
        (200, client.get(base, params={"read_write": "true", "expiry_seconds": 3600})),
        (400, client.get(base, params={"read_write": "maybe"})),
        (404, client.get(f"/v2/{prefix}/nope/docker-credentials")),
    ]


def _start_gc_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    registry = f"gc-start-{prefix}"
    fake.push_image(registry, "app", tags=["v1"])
    base = f"/v2/{prefix}/{registry}/garbage-collection"
    return [
        (201, client.post(base, json={"type": "untagged manifests and unreferenced blobs"})),
        (409, client.post(base)),
        (400, client.post(base, json={"type": "everything"})),
        (404, client.post(f"/v2/{prefix}/nope/garbage-collection")),
    ]


def _get_gc_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    return [
        (200, client.get(f"/v2/{prefix}/busy/garbage-collection")),
        (404, client.get(f"/v2/{prefix}/demo/garbage-collection")),
    ]


def _list_gc_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    return [
        (200, client.get(f"/v2/{prefix}/busy/garbage-collections")),
        (200, client.get(f"/v2/{prefix}/demo/garbage-collections", params={"per_page": 1})),
        (404, client.get(f"/v2/{prefix}/nope/garbage-collections")),
    ]


def _cancel_gc_cases(fake: FakeRegistry, client: httpx.Client, prefix: str) -> Cases:
    active, ended = f"gc-cancel-{prefix}", f"gc-ended-{prefix}"
    fake.push_image(active, "app", tags=["v1"])
    fake.push_image(ended, "app", tags=["v1"])
    started = client.post(f"/v2/{prefix}/{active}/garbage-collection").json()["garbage_collection"]
    fake.gc_step_seconds = 0  # this one ends as it starts
    done = client.post(f"/v2/{prefix}/{ended}/garbage-collection").json()["garbage_collection"]
    fake.gc_step_seconds = 60
    base = f"/v2/{prefix}/{active}/garbage-collection"
    return [
        (200, client.put(f"{base}/{started['uuid']}", json={"cancel": True})),
        (200, client.put(f"{base}/{started['uuid']}", json={"cancel": True})),  # cancelling: the same answer
        (409, client.put(f"/v2/{prefix}/{ended}/garbage-collection/{done['uuid']}", json={"cancel": True})),
        (404, client.put(f"{base}/no-such-uuid", json={"cancel": True})),
        (400, client.put(f"{base}/{started['uuid']}", content=b"{not json")),
    ]


OPERATION_CASES: dict[str, Callable[[FakeRegistry, httpx.Client, str], Cases]] = {
    "list_repositoryManifests": _manifest_cases,
    "list_repositoryTags": _tag_cases,
    "list_repositoriesV2": _repository_cases,
    "delete_repositoryManifest": _delete_manifest_cases,
    "delete_repositoryTag": _delete_tag_cases,
    "get": _registry_cases,
    "get_subscription": _subscription_cases,
    "get_dockerCredentials": _credential_cases,
    "run_garbageCollection": _start_gc_cases,
    "get_garbageCollection": _get_gc_cases,
    "list_garbageCollections": _list_gc_cases,
    "update_garbageCollection": _cancel_gc_cases,
}


@pytest.fixture(scope="module")
def authed(fake: FakeRegistry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers=AUTH, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def seeded(fake: FakeRegistry) -> FakeRegistry:
    fake.seed_demo("demo")
    fake.gc_step_seconds = 60
    fake.push_image("busy", "app", tags=["v1"])
    fake.push_image("busy", "app", tags=["v2"])
    with httpx.Client(base_url=fake.url, headers=AUTH, timeout=10) as client:
        assert client.post("/v2/registries/busy/garbage-collection").status_code == 201
    return fake


@pytest.mark.parametrize(("operation_id", "method", "pattern"), fragment_operations(), ids=lambda value: str(value))
def test_every_operation_of_the_fragment_answers_by_its_responses(
    spec: OpenAPI, seeded: FakeRegistry, authed: httpx.Client, operation_id: str, method: str, pattern: str
) -> None:
    prefix, _, name = operation_id.partition("_")
    assert prefix in ("registry", "registries") and name in OPERATION_CASES, (
        f"{operation_id} is in openapi/docr.openapi.yaml but has no cases here: add them to OPERATION_CASES"
    )
    cases = OPERATION_CASES[name](seeded, authed, prefix)
    assert cases
    for expected, response in cases:
        assert response.status_code == expected, (operation_id, response.request.url, response.text)
        check_operation(spec, seeded, method, pattern, response)
    # The check can fail for this operation: a header its responses declare an integer is caught.
    status, response = cases[0]
    broken = httpx.Response(status, headers={**response.headers, "ratelimit-limit": "many"}, content=response.content)
    with pytest.raises(ResponseValidationError):
        check_operation(spec, seeded, method, pattern, broken)


def test_every_operation_in_the_fragment_is_checked() -> None:
    operations = fragment_operations()
    checked = [op for op, _, _ in operations if op.partition("_")[2] in OPERATION_CASES]
    assert len(checked) == len(operations) >= 2
    assert len({op for op, _, _ in operations}) == len(operations)
