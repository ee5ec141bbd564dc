"""Every answer that is not a page becomes the right docr exception, never an internal one."""

from __future__ import annotations

import httpx
import pytest

import docr
from tests.mock_api import TOKEN, PagedAPI, error


def make_client(api: PagedAPI, **kwargs: object) -> docr.Client:
    client = docr.Client(
        TOKEN,
        base_url="http://api.test",
        http_client=httpx.Client(transport=httpx.MockTransport(api)),
        **kwargs,  # type: ignore[arg-type]
    )
    client._sleep = lambda seconds: None
    return client


NOT_FOUND = {"id": "not_found", "message": "The resource you requested could not be found."}


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, {"id": "unauthorized", "message": "Unable to authenticate you."}, docr.AuthenticationError),
        (403, {"id": "forbidden", "message": "You do not have access."}, docr.PermissionDenied),
        (404, NOT_FOUND, docr.NotFoundError),
        (429, {"id": "too_many_requests", "message": "API rate limit exceeded."}, docr.RateLimitError),
        (500, {"id": "server_error", "message": "Unexpected server-side error"}, docr.ServerError),
        (503, {"id": "service_unavailable", "message": "down"}, docr.ServerError),
        (418, {"id": "teapot", "message": "short and stout"}, docr.APIError),
        (422, {"id": "unprocessable_entity", "message": "bad"}, docr.APIError),
    ],
)
def test_status_maps_to_its_exception(status: int, body: dict[str, str], cls: type[docr.APIError]) -> None:
    api = PagedAPI(3)
    api.fail(*[error(status, body, headers={"x-request-id": "rid-1"})] * 10)
    with pytest.raises(cls) as info:
        make_client(api, max_retries=0).list_manifests("example", "my/repo")
    exc = info.value
    assert type(exc) is cls
    assert (exc.status_code, exc.error_id, exc.message, exc.request_id) == (
        status,
        body["id"],
        body["message"],
        "rid-1",
    )
    assert str(exc).startswith(f"{status} {body['id']}: {body['message']} (request_id=rid-1)")


def test_not_found_reads_like_a_sentence() -> None:
    api = PagedAPI()
    api.fail(error(404, {**NOT_FOUND, "request_id": "from-body"}))
    with pytest.raises(docr.NotFoundError) as info:
        make_client(api).list_manifests("example", "my/repo")
    assert str(info.value) == "404 not_found: The resource you requested could not be found. (request_id=from-body)"
    assert info.value.headers["content-type"] == "application/json"


def test_404_is_never_returned_as_data() -> None:
    api = PagedAPI()
    api.fail(error(404, NOT_FOUND))
    with pytest.raises(docr.NotFoundError):
        list(make_client(api).iter_manifests("example", "my/repo"))


@pytest.mark.parametrize(
    ("response", "cls", "excerpt"),
    [
        (
            error(
                502,
                content=b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                headers={"content-type": "text/html"},
            ),
            docr.ServerError,
            "<html><body><h1>502 Bad Gateway",
        ),
        (error(520, content=b""), docr.ServerError, "(empty body)"),
        (error(599, content=b"oops"), docr.ServerError, "oops"),
        (error(404, {"message": "no id here"}), docr.NotFoundError, None),
        (error(404, content=b'{"id": "not_fo'), docr.NotFoundError, '{"id": "not_fo'),
        (error(401, ["not", "an", "object"]), docr.AuthenticationError, '["not","an","object"]'),
        (error(409, content=b"\xff\xfe binary"), docr.ConflictError, "binary"),
        (error(412, {"id": "precondition_failed", "message": "several registries"}), docr.ConflictError, None),
        (error(418, content=b"\xff\xfe binary"), docr.APIError, "binary"),
    ],
)
def test_garbage_error_bodies_still_give_the_right_exception(
    response: httpx.Response, cls: type[docr.APIError], excerpt: str | None
) -> None:
    api = PagedAPI()
    api.fail(*[response] * 10)
    with pytest.raises(cls) as info:
        make_client(api, max_retries=0).list_manifests("example", "my/repo")
    exc = info.value
    assert type(exc) is cls
    assert exc.status_code == response.status_code
    if excerpt is None:
        assert exc.message in ("no id here", "several registries")
    else:
        assert excerpt in (exc.body_excerpt or "")
        assert excerpt in str(exc)


@pytest.mark.parametrize(
    "content",
    [
        b'{"manifests": [{"digest": "sha256:ab',  # truncated
        b"<html>ok</html>",
        b"",
    ],
)
def test_a_2xx_that_is_not_json_is_invalid_response_and_retried(content: bytes) -> None:
    api = PagedAPI()
    api.fail(*[httpx.Response(200, content=content, headers={"x-request-id": "r"})] * 10)
    with pytest.raises(docr.InvalidResponse) as info:
        make_client(api, max_retries=1).list_manifests("example", "my/repo")
    assert info.value.status_code == 200
    assert info.value.attempts == 2  # a cut body is retried like a 5xx
    assert "invalid response" in str(info.value)
    assert len(api.calls) == 2


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"[]", "(body)"),
        (b'{"manifests": []}', "meta"),  # no meta
        (b'{"manifests": [], "meta": {"total": "3"}}', "meta.total"),
        (b'{"manifests": [], "meta": {"total": -1}}', "meta.total"),
        (b'{"manifests": [], "meta": {"total": true}}', "meta.total"),
        (b'{"manifests": "nope", "meta": {"total": 1}}', "manifests"),
        (
            b'{"manifests": [{"digest": "sha256:1", "updated_at": "not a date"}], "meta": {"total": 1}}',
            "manifests[0].updated_at",
        ),
        (b'{"manifests": [{"digest": 5}], "meta": {"total": 1}}', "manifests[0].digest"),
        (b'{"manifests": [{}, {"tags": "latest"}], "meta": {"total": 2}}', "manifests[1].tags"),
        (b'{"manifests": [{"tags": ["a", 1]}], "meta": {"total": 1}}', "manifests[0].tags[1]"),
        (b'{"manifests": [{"size_bytes": "1234"}], "meta": {"total": 1}}', "manifests[0].size_bytes"),
        (
            b'{"manifests": [{"compressed_size_bytes": 1.5}], "meta": {"total": 1}}',
            "manifests[0].compressed_size_bytes",
        ),
        (b'{"manifests": [{"blobs": [{"digest": []}]}], "meta": {"total": 1}}', "manifests[0].blobs[0].digest"),
        (b'{"manifests": [{"blobs": {"digest": "x"}}], "meta": {"total": 1}}', "manifests[0].blobs"),
    ],
)
def test_well_formed_json_with_a_wrong_type_names_the_field_and_is_not_retried(content: bytes, field: str) -> None:
    api = PagedAPI()
    api.fail(*[httpx.Response(200, content=content, headers={"x-request-id": "r"})] * 10)
    with pytest.raises(docr.InvalidResponse) as info:
        make_client(api, max_retries=3).list_manifests("example", "my/repo", page=2)
    assert len(api.calls) == 1  # deterministic: asking again gives the same wrong answer
    assert info.value.transient is False
    assert f"example/my/repo page 2: {field} must be" in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)


def test_null_fields_read_exactly_as_absent_ones() -> None:
    api = PagedAPI()
    nulls = dict.fromkeys(
        ("digest", "registry_name", "repository", "compressed_size_bytes", "size_bytes", "updated_at", "tags", "blobs")
    )
    api.items = [nulls, {}, {"blobs": [{"digest": None, "compressed_size_bytes": None}]}]
    with_nulls, absent, null_blob = make_client(api).list_manifests("example", "my/repo").manifests
    for manifest in (with_nulls, absent):
        assert (manifest.digest, manifest.size_bytes, manifest.updated_at, manifest.tags, manifest.blobs) == (
            None,
            None,
            None,
            [],
            [],
        )
    assert (null_blob.blobs[0].digest, null_blob.blobs[0].compressed_size_bytes) == (None, None)


def test_transport_errors_are_wrapped() -> None:
    api = PagedAPI()
    api.fail(httpx.ConnectError("connection refused"))
    with pytest.raises(docr.TransportError, match="connection refused") as info:
        make_client(api, max_retries=0).list_manifests("example", "my/repo")
    assert not isinstance(info.value, docr.TimeoutError)
    # httpx's exception is described, scrubbed, in the message; not chained, since its text is not ours.
    assert info.value.__cause__ is None


def test_timeouts_are_wrapped() -> None:
    api = PagedAPI()
    api.fail(httpx.ReadTimeout("read timed out"))
    with pytest.raises(docr.TimeoutError, match="timed out"):
        make_client(api, max_retries=0).list_manifests("example", "my/repo")


def test_a_manifest_with_odd_fields_does_not_break_its_page() -> None:
    api = PagedAPI()
    odd = {"digest": "sha256:" + "a" * 64, "compressed_size_byte": 5, "flavour": "mint"}
    api.items = [odd, {}]
    page = make_client(api).list_manifests("example", "my/repo")
    first, empty = page.manifests
    assert first.compressed_size_bytes is None
    assert first.extra == {"compressed_size_byte": 5, "flavour": "mint"}
    assert first.to_dict() == odd
    assert (empty.digest, empty.tags, empty.blobs, empty.updated_at, empty.size_bytes) == (None, [], [], None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-04-09T23:54:25Z", "2021-04-09T23:54:25+00:00"),
        ("2021-04-09T23:54:25.123456789Z", "2021-04-09T23:54:25.123456+00:00"),  # Go's RFC3339Nano
        ("2021-04-09T23:54:25+02:00", "2021-04-09T23:54:25+02:00"),
        ("2021-04-09T23:54:25", "2021-04-09T23:54:25+00:00"),  # naive: taken as UTC
    ],
)
def test_timestamps_in_the_forms_servers_write_parse_to_aware_datetimes(text: str, expected: str) -> None:
    api = PagedAPI()
    api.items = [{"digest": "sha256:" + "b" * 64, "updated_at": text}]
    (manifest,) = make_client(api).list_manifests("example", "my/repo").manifests
    assert manifest.updated_at is not None
    assert manifest.updated_at.isoformat() == expected
