"""Retries: what is retried, how long docr waits (never really sleeping here), when it gives up."""

from __future__ import annotations

import email.utils

import httpx
import pytest

import docr
from docr._retry import RetryPolicy, server_wait
from tests.mock_api import TOKEN, PagedAPI, error


def make_client(api: PagedAPI, sleeps: list[float], **kwargs: object) -> docr.Client:
    client = docr.Client(
        TOKEN,
        base_url="http://api.test",
        http_client=httpx.Client(transport=httpx.MockTransport(api)),
        **kwargs,  # type: ignore[arg-type]
    )
    client._sleep = sleeps.append
    return client


SERVER_ERROR = {"id": "server_error", "message": "Unexpected server-side error"}


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 520, 522])
def test_transient_statuses_are_retried_then_succeed(status: int) -> None:
    api, sleeps = PagedAPI(3), []
    api.fail(error(status, SERVER_ERROR), error(status, SERVER_ERROR))
    page = make_client(api, sleeps).list_manifests("example", "my/repo")
    assert len(page.manifests) == 3
    assert len(api.calls) == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    "fault", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("reset")]
)
def test_connection_faults_are_retried(fault: Exception) -> None:
    api, sleeps = PagedAPI(3), []
    api.fail(fault)
    assert len(make_client(api, sleeps).list_manifests("example", "my/repo").manifests) == 3
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_other_errors_are_not_retried(status: int) -> None:
    api, sleeps = PagedAPI(3), []
    api.fail(error(status, {"id": "x", "message": "y"}))
    with pytest.raises(docr.APIError) as info:
        make_client(api, sleeps).list_manifests("example", "my/repo")
    assert info.value.status_code == status
    assert len(api.calls) == 1 and sleeps == []
    assert "attempts" not in str(info.value)


def test_backoff_doubles_from_half_a_second_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(max_retries=10, random=lambda: 0.0)
    assert [policy.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    jittered = RetryPolicy(random=lambda: 1.0)
    assert jittered.backoff(1) == 0.375  # up to 25% taken off


def test_sleeps_follow_the_policy_and_the_message_counts_attempts() -> None:
    api, sleeps = PagedAPI(3), []
    api.fail(*[error(503, SERVER_ERROR)] * 10)
    client = make_client(api, sleeps, max_retries=3)
    client._retry = RetryPolicy(max_retries=3, random=lambda: 0.0)
    with pytest.raises(docr.ServerError) as info:
        client.list_manifests("example", "my/repo")
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(api.calls) == 4
    assert info.value.attempts == 4
    assert "gave up after 4 attempts" in str(info.value)


def test_max_retries_zero_disables_retries() -> None:
    api, sleeps = PagedAPI(3), []
    api.fail(error(500, SERVER_ERROR))
    with pytest.raises(docr.ServerError):
        make_client(api, sleeps, max_retries=0).list_manifests("example", "my/repo")
    assert len(api.calls) == 1 and sleeps == []


def test_retry_after_seconds_is_honoured() -> None:
    api, sleeps = PagedAPI(3), []
    api.fail(error(429, {"id": "too_many_requests", "message": "slow down"}, headers={"retry-after": "7"}))
    make_client(api, sleeps).list_manifests("example", "my/repo")
    assert sleeps == [7.0]


def test_ratelimit_reset_is_the_fallback_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("docr._exchange.time.time", lambda: 1_700_000_000.0)
    api, sleeps = PagedAPI(3), []
    api.fail(error(429, {"id": "too_many_requests", "message": "x"}, headers={"ratelimit-reset": "1700000012"}))
    make_client(api, sleeps).list_manifests("example", "my/repo")
    assert sleeps == [12.0]


def test_a_wait_above_the_cap_raises_at_once_with_retry_after() -> None:
    api, sleeps = PagedAPI(3), []
    api.fail(
        error(
            429,
            {"id": "too_many_requests", "message": "API rate limit exceeded."},
            headers={"retry-after": "3600", "ratelimit-remaining": "0", "ratelimit-limit": "5000"},
        )
    )
    with pytest.raises(docr.RateLimitError) as info:
        make_client(api, sleeps).list_manifests("example", "my/repo")
    assert info.value.retry_after == 3600
    assert info.value.rate_limit is not None and info.value.rate_limit.remaining == 0
    assert "Retry after 3600s" in str(info.value)
    assert sleeps == [] and len(api.calls) == 1


def test_server_wait_parses_seconds_dates_and_reset() -> None:
    now = 1_700_000_000.0
    assert server_wait("29", None, now) == 29.0
    assert server_wait("1.5", None, now) == 1.5
    assert server_wait(email.utils.formatdate(now + 30, usegmt=True), None, now) == 30.0
    assert server_wait(email.utils.formatdate(now - 30, usegmt=True), None, now) == 0.0
    assert server_wait(None, str(int(now) + 5), now) == 5.0
    assert server_wait("garbage", "also garbage", now) is None
    assert server_wait(None, None, now) is None


def test_iteration_retries_a_failed_page_and_never_drops_it() -> None:
    api, sleeps = PagedAPI(50), []
    api.fail(error(502, content=b"<html>bad gateway</html>"), error(500, SERVER_ERROR), page=3)
    digests = [m.digest for m in make_client(api, sleeps).iter_manifests("example", "my/repo", per_page=10)]
    assert digests == [m["digest"] for m in api.items]
    assert api.pages_requested().count(3) == 3


def test_iteration_raises_when_a_page_keeps_failing() -> None:
    api, sleeps = PagedAPI(50), []
    api.fail(*[error(500, SERVER_ERROR)] * 10, page=4)
    seen = []
    with pytest.raises(docr.ServerError, match="gave up after 4 attempts"):
        for manifest in make_client(api, sleeps).iter_manifests("example", "my/repo", per_page=10):
            seen.append(manifest.digest)
    assert seen == [m["digest"] for m in api.items[:30]]  # pages 1-3, then a loud failure


def test_a_429_whose_reset_is_already_past_backs_off_instead_of_hammering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("docr._exchange.time.time", lambda: 1_700_000_100.0)
    api, sleeps = PagedAPI(3), []
    api.fail(error(429, {"id": "too_many_requests", "message": "x"}, headers={"ratelimit-reset": "1700000000"}))
    client = make_client(api, sleeps)
    client._retry = RetryPolicy(random=lambda: 0.0)
    client.list_manifests("example", "my/repo")
    assert sleeps == [0.5]
