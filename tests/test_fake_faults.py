"""docr.testing faults, rate limits, latency and the request log, seen by an httpx client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from docr.testing import FakeRegistry

PATH = "/v2/registries/example/repositories/my%2Frepo/digests"
TOKEN = "dop_v1_0123456789abcdefsecret"


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        fake.generate("example", "my/repo", count=50, seed=1)
        yield fake


@pytest.fixture
def client(fake: FakeRegistry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def test_fail_next_answers_the_next_requests_then_recovers(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.fail_next(503, count=2)
    answers = [client.get(PATH) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [503, 503, 200]
    assert answers[0].json() == {
        "id": "service_unavailable",
        "message": "The service is temporarily unavailable. Please try again later.",
        "request_id": answers[0].headers["x-request-id"],
    }
    assert answers[0].headers["content-type"] == "application/json; charset=utf-8"
    assert fake.faults_injected == 2
    assert [request.fault for request in fake.requests] == ["503", "503", None]


def test_500_is_server_error(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.fail_next(500)
    response = client.get(PATH)
    assert response.status_code == 500
    assert response.json()["id"] == "server_error"
    assert int(response.headers["ratelimit-remaining"]) > 0


def test_429_carries_retry_after_and_the_reset_when_given(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.fail_next(429, retry_after=1, ratelimit_reset=1_900_000_000)
    response = client.get(PATH)
    assert response.status_code == 429
    assert response.json()["id"] == "too_many_requests"
    assert response.headers["retry-after"] == "1"
    assert response.headers["ratelimit-remaining"] == "0"
    assert response.headers["ratelimit-reset"] == "1900000000"


def test_429_without_retry_after_sends_none(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.fail_next(429)
    response = client.get(PATH)
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    int(response.headers["ratelimit-reset"])


def test_502_is_a_proxys_html_page(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.fail_next(502)
    response = client.get(PATH)
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert b"<h1>502 Bad Gateway</h1>" in response.content
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_520_has_an_empty_body(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.fail_next(520)
    response = client.get(PATH)
    assert response.status_code == 520
    assert response.content == b""
    assert response.headers["content-length"] == "0"
    assert "content-type" not in response.headers
    assert client.get(PATH).status_code == 200  # the connection is still usable


def test_reset_is_a_transport_error_and_the_client_can_reconnect(fake: FakeRegistry, client: httpx.Client) -> None:
    assert client.get(PATH).status_code == 200  # a pooled connection exists: the reset hits a reused one
    fake.fail_next("reset")
    # An RST (SO_LINGER 0), not a FIN: the client reads ECONNRESET, not a clean end of stream.
    with pytest.raises(httpx.ReadError, match="reset"):
        client.get(PATH)
    assert client.get(PATH).status_code == 200
    assert [(request.status, request.fault) for request in fake.requests] == [(200, None), (None, "reset"), (200, None)]


def test_truncated_is_a_200_cut_in_half(fake: FakeRegistry, client: httpx.Client) -> None:
    whole = client.get(PATH).content
    fake.fail_next("truncated")
    response = client.get(PATH)
    assert response.status_code == 200
    assert response.content == whole[: len(whole) // 2]
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert client.get(PATH).content == whole


def test_slow_answers_normally_but_late(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.fail_next("slow", delay=0.3)
    started = time.monotonic()
    response = client.get(PATH)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert response.json()["meta"] == {"total": 50}
    assert fake.requests[-1].fault == "slow"


def test_slow_trips_a_client_timeout_and_does_not_hold_up_shutdown() -> None:
    fake = FakeRegistry().start()
    try:
        fake.generate("example", "my/repo", count=5, seed=1)
        fake.fail_next("slow", delay=60)
        with httpx.Client(headers={"Authorization": "Bearer t"}, timeout=0.3) as client:
            with pytest.raises(httpx.ReadTimeout):
                client.get(fake.url + PATH)
            assert fake.in_flight == 1
    finally:
        started = time.monotonic()
        fake.stop()
    # Not a speed check: a handler sleeping out its 60 s would hold stop() for a minute.
    assert time.monotonic() - started < 10
    assert fake.in_flight == 0


def test_a_fault_can_wait_for_one_page(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.fail_next(500, page=3)
    statuses = [client.get(PATH, params={"page": page, "per_page": 10}).status_code for page in (1, 2, 4, 3, 3)]
    assert statuses == [200, 200, 200, 500, 200]


def test_a_request_without_page_is_for_page_1(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.fail_next(503, page=2)
    fake.fail_next(504, page=1)
    assert client.get(PATH).status_code == 504
    assert client.get(PATH, params={"page": 2}).status_code == 503


def test_queued_faults_are_answered_in_order(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.fail_next(500)
    fake.fail_next(429, count=2)
    fake.fail_next(520)
    assert [client.get(PATH).status_code for _ in range(5)] == [500, 429, 429, 520, 200]


def random_statuses(fake: FakeRegistry, client: httpx.Client, seed: int) -> list[int]:
    fake.fail_randomly(0.3, kinds=(500, 503), seed=seed)
    return [client.get(PATH).status_code for _ in range(200)]


def test_fail_randomly_honours_the_fraction_and_the_seed(fake: FakeRegistry, client: httpx.Client) -> None:
    first = random_statuses(fake, client, seed=7)
    failed = sum(status != 200 for status in first)
    assert 0.2 * 200 <= failed <= 0.4 * 200
    assert set(first) == {200, 500, 503}
    assert fake.faults_injected == failed
    assert random_statuses(fake, client, seed=7) == first
    assert random_statuses(fake, client, seed=8) != first
    fake.fail_randomly(0)
    assert {client.get(PATH).status_code for _ in range(30)} == {200}


def test_fail_randomly_with_the_default_kinds_includes_transport_faults(
    fake: FakeRegistry, client: httpx.Client
) -> None:
    fake.fail_randomly(0.5, seed=3)
    outcomes: set[str] = set()
    for _ in range(120):
        try:
            response = client.get(PATH)
        except httpx.TransportError:
            outcomes.add("reset")
            continue
        try:
            response.json()
            outcomes.add(str(response.status_code))
        except json.JSONDecodeError:
            outcomes.add("invalid json")
    assert outcomes == {"200", "429", "500", "503", "reset", "invalid json"}  # 502's HTML is invalid JSON too
    assert {request.fault for request in fake.requests} == {None, "429", "500", "502", "503", "reset", "truncated"}


@pytest.mark.parametrize(
    ("kind", "options"),
    [(200, {}), (600, {}), ("boom", {}), (True, {}), (503, {"count": 0}), (503, {"page": 0}), ("slow", {"delay": -1})],
)
def test_fail_next_refuses_what_it_cannot_do(fake: FakeRegistry, kind: object, options: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must"):
        fake.fail_next(kind, **options)  # type: ignore[arg-type]


def test_rate_limit_answers_429_beyond_n_per_token(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.rate_limit(requests=3, window=60)
    answers = [client.get(PATH) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["ratelimit-remaining"] for answer in answers] == ["2", "1", "0", "0"]
    refused = answers[-1]
    assert refused.json()["id"] == "too_many_requests"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert int(refused.headers["ratelimit-reset"]) >= int(time.time())
    assert {answer.headers["ratelimit-limit"] for answer in answers} == {"3"}
    other = httpx.get(fake.url + PATH, headers={"Authorization": "Bearer another-token"})
    assert other.status_code == 200
    fake.rate_limit(None)
    assert client.get(PATH).status_code == 200


def test_the_rate_limit_window_slides(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.rate_limit(requests=2, window=0.5)
    assert [client.get(PATH).status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(0.6)
    assert client.get(PATH).status_code == 200


def test_the_request_log_never_holds_the_token(fake: FakeRegistry, client: httpx.Client) -> None:
    client.get(PATH, params={"page": 2})
    httpx.get(fake.url + PATH, headers={"Authorization": TOKEN})  # no scheme: the whole value is the secret
    httpx.get(fake.url + PATH, headers={"Authorization": f"token {TOKEN}"})
    requests = fake.requests
    assert TOKEN not in repr(requests)
    assert [request.headers["authorization"] for request in requests] == [
        "Bearer [redacted]",
        "[redacted]",
        "[redacted]",
    ]
    first = requests[0]
    assert (first.method, first.raw_path, first.path, first.query, first.status) == (
        "GET",
        f"{PATH}?page=2",
        "/v2/registries/example/repositories/my/repo/digests",
        {"page": "2"},
        200,
    )


def test_in_flight_sees_concurrent_requests(fake: FakeRegistry) -> None:
    fake.latency = 0.3
    statuses: list[int] = []

    def fetch() -> None:
        with httpx.Client(headers={"Authorization": "Bearer t"}) as client:
            statuses.append(client.get(fake.url + PATH).status_code)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4
    assert fake.max_in_flight >= 2
    assert fake.in_flight == 0
    fake.clear_requests()
    assert (fake.requests, fake.max_in_flight) == ([], 0)


def test_latency_delays_every_answer() -> None:
    with FakeRegistry(latency=0.2) as fake, httpx.Client(headers={"Authorization": "Bearer t"}) as client:
        started = time.monotonic()
        assert client.get(fake.url + "/v2/nothing").status_code == 404
        assert time.monotonic() - started >= 0.2
        fake.latency = 0
        assert fake.latency == 0
        with pytest.raises(ValueError, match="latency"):
            fake.latency = -1


def test_a_failing_callback_answers_500_and_fails_the_with_block() -> None:
    def broken(request: object) -> None:
        raise RuntimeError("bug in the test's callback")

    with pytest.raises(RuntimeError, match="bug in the test's callback"), FakeRegistry() as fake:
        fake.on_request(broken)
        response = httpx.get(fake.url + PATH, headers={"Authorization": "Bearer t"})
        assert response.status_code == 500
        assert response.json()["message"] == "on_request callback raised RuntimeError: bug in the test's callback"


# Faults for one operation, and answers lost after the action


def test_a_fault_can_target_one_operation(fake: FakeRegistry, client: httpx.Client) -> None:
    digest = fake.push_image("example", "app", tags=["v1"])
    fake.fail_next(503, operation="delete_manifest", count=2)
    assert client.get(PATH).status_code == 200  # another operation passes untouched
    delete = f"/v2/registries/example/repositories/app/digests/{digest}"
    assert [client.delete(delete).status_code for _ in range(3)] == [503, 503, 204]
    assert [(r.operation, r.fault) for r in fake.requests] == [
        ("list_manifests", None),
        ("delete_manifest", "503"),
        ("delete_manifest", "503"),
        ("delete_manifest", None),
    ]


def test_operation_and_page_combine(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.push_image("example", "app", tags=[f"t{n}" for n in range(30)])
    fake.fail_next(500, operation="list_tags", page=2)
    assert client.get(PATH, params={"page": 2}).status_code == 200
    tags = "/v2/registries/example/repositories/app/tags"
    assert client.get(tags, params={"page": 1}).status_code == 200
    assert client.get(tags, params={"page": 2}).status_code == 500


def test_fail_next_refuses_an_unknown_operation(fake: FakeRegistry) -> None:
    with pytest.raises(ValueError, match="operation must be one of"):
        fake.fail_next(503, operation="delete_everything")
    with pytest.raises(ValueError, match="operation must be one of"):
        fake.fail_randomly(0.5, operation="nope")


def test_fail_randomly_for_one_operation_leaves_the_others_alone(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.fail_randomly(1.0, kinds=(503,), seed=1, operation="get_registry")
    assert {client.get(PATH).status_code for _ in range(10)} == {200}
    fake.push_image("example", "app")
    assert client.get("/v2/registries/example").status_code == 503


def test_a_lost_delete_happened_though_the_client_got_no_answer(fake: FakeRegistry, client: httpx.Client) -> None:
    digest = fake.push_image("example", "app", tags=["v1"])
    path = f"/v2/registries/example/repositories/app/digests/{digest}"
    fake.fail_next("lost", operation="delete_manifest")
    with pytest.raises(httpx.TransportError):
        client.delete(path)
    assert digest not in {m["digest"] for m in fake.manifests("example", "app")}
    # The client's retry, not knowing, finds it gone: an idempotent delete treats 404 as done.
    retry = client.delete(path)
    assert retry.status_code == 404
    assert [(r.status, r.fault) for r in fake.requests] == [(None, "lost"), (404, None)]
    assert fake.faults_injected == 1


def test_a_lost_tag_delete_and_a_lost_gc_start_happened_too(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.push_image("example", "app", tags=["v1", "v2"])
    fake.fail_next("lost", operation="delete_tag")
    with pytest.raises(httpx.TransportError):
        client.delete("/v2/registries/example/repositories/app/tags/v1")
    assert set(fake.tags("example", "app")) == {"v2"}
    fake.fail_next("lost", operation="start_garbage_collection")
    with pytest.raises(httpx.TransportError):
        client.post("/v2/registries/example/garbage-collection")
    assert len(fake.garbage_collections("example")) == 1
