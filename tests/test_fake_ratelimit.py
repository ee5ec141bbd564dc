"""docr.testing's enforcement of DigitalOcean's two rate limits (per minute and per hour), on a clock the test moves."""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import pytest

from docr.testing import FakeRegistry, ManualClock

PATH = "/v2/registries/example/repositories/app/digests"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeRegistry]:
    with FakeRegistry(clock=clock) as fake:
        fake.push_image("example", "app")
        yield fake


@pytest.fixture
def client(fake: FakeRegistry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers={"Authorization": "Bearer one"}, timeout=10) as client:
        yield client


def statuses(client: httpx.Client, count: int) -> list[int]:
    return [client.get(PATH).status_code for _ in range(count)]


def test_dos_real_numbers_a_burst_past_250_a_minute(
    fake: FakeRegistry, client: httpx.Client, clock: ManualClock
) -> None:
    fake.rate_limit(per_minute=250, per_hour=5000)
    assert statuses(client, 250) == [200] * 250
    refused = client.get(PATH)
    assert refused.status_code == 429
    assert refused.json()["id"] == "too_many_requests"
    assert refused.headers["retry-after"] == "60"
    # The headers report the hourly quota, which still has room: only retry-after says when.
    assert (refused.headers["ratelimit-limit"], refused.headers["ratelimit-remaining"]) == ("5000", "4750")
    assert refused.headers["ratelimit-reset"] == str(math.ceil(clock() + 3600))
    clock.advance(59)
    assert client.get(PATH).headers["retry-after"] == "1"
    clock.advance(1)
    assert client.get(PATH).status_code == 200
    assert fake.rate_limited == 2


def test_the_hourly_limit_with_a_scaled_clock(fake: FakeRegistry, client: httpx.Client, clock: ManualClock) -> None:
    # time_scale=60: a minute lasts one second and an hour one minute.
    fake.rate_limit(per_minute=3, per_hour=7, time_scale=60)
    started = clock()
    assert statuses(client, 4) == [200, 200, 200, 429]
    burst = client.get(PATH)
    assert burst.headers["retry-after"] == "1"
    clock.advance(0.25)
    assert client.get(PATH).headers["retry-after"] == "0.75"  # fractional when scaled
    clock.advance(0.75)
    assert statuses(client, 4) == [200, 200, 200, 429]  # the minute has room again
    clock.advance(1)
    assert statuses(client, 2) == [200, 429]  # 7 in the "hour": now the hourly limit
    hourly = client.get(PATH)
    assert hourly.status_code == 429
    assert "retry-after" not in hourly.headers
    assert hourly.headers["ratelimit-remaining"] == "0"
    assert hourly.headers["ratelimit-reset"] == str(math.ceil(started + 60))
    clock.advance(60 - (clock() - started))
    assert client.get(PATH).status_code == 200  # the first request has left the hour
    assert fake.rate_limited == 6


def test_limits_are_per_token_and_refused_requests_are_not_counted(
    fake: FakeRegistry, client: httpx.Client, clock: ManualClock
) -> None:
    fake.rate_limit(per_minute=2, per_hour=100)
    assert statuses(client, 5) == [200, 200, 429, 429, 429]
    other = httpx.get(fake.url + PATH, headers={"Authorization": "Bearer two"})
    assert other.status_code == 200
    clock.advance(60)
    answers = [client.get(PATH) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[-1].headers["ratelimit-remaining"] == str(100 - 4)  # 4 allowed so far, 3 refused not counted


def test_every_operation_counts_and_no_token_is_not_counted(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.rate_limit(per_minute=3, per_hour=100)
    assert client.get("/v2/registries/example").status_code == 200
    assert client.get("/v2/registries/subscription").status_code == 200
    assert httpx.get(fake.url + PATH).status_code == 401
    assert client.delete(f"{PATH}/sha256:{'0' * 64}").status_code == 404
    assert client.get("/v2/registries/example/repositoriesV2").status_code == 429


def test_rate_limit_refuses_what_it_cannot_do(fake: FakeRegistry) -> None:
    with pytest.raises(ValueError, match="not both"):
        fake.rate_limit(10, per_minute=5)
    with pytest.raises(ValueError, match="time_scale"):
        fake.rate_limit(per_minute=5, per_hour=10, time_scale=0)
    with pytest.raises(ValueError, match="per_minute"):
        fake.rate_limit(per_minute=0, per_hour=10)


def test_turning_it_off_stops_enforcing(fake: FakeRegistry, client: httpx.Client) -> None:
    fake.rate_limit(per_minute=1, per_hour=1)
    assert statuses(client, 2) == [200, 429]
    fake.rate_limit(None)
    assert statuses(client, 3) == [200, 200, 200]
    assert client.get(PATH).headers["ratelimit-limit"] == "5000"
