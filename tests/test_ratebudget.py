"""The client's rate budget: paced to both windows, corrected by the server, no 429 in a long run."""

from __future__ import annotations

import time

import pytest

import docr
from docr._ratebudget import RateBudget, RateLimits
from docr.testing import FakeRegistry


def test_requests_go_at_once_until_the_minute_is_full_then_wait_for_the_oldest() -> None:
    budget = RateBudget(RateLimits(per_minute=3, per_hour=100))
    assert [budget.reserve(10.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert budget.reserve(10.0) == pytest.approx(60.0 + 3.02)  # the 4th waits for the 1st to leave the window
    assert budget.reserve(30.0) == pytest.approx(40.0 + 3.02)  # after the 2nd leaves: spread, not stacked


def test_the_hour_limit_holds_too() -> None:
    budget = RateBudget(RateLimits(per_minute=1000, per_hour=5))
    waits = [budget.reserve(0.0) for _ in range(6)]
    assert waits[:5] == [0.0] * 5
    assert waits[5] == pytest.approx(3600.0 + 3.02)


def test_the_servers_remaining_wins_when_another_process_shares_the_token() -> None:
    budget = RateBudget(RateLimits())
    budget.reserve(100.0)
    budget.observe({"ratelimit-remaining": "0", "ratelimit-reset": str(1_000_000 + 30)}, 100.0, 1_000_000.0)
    assert budget.reserve(100.0) == pytest.approx(30.0)


def test_a_reset_in_the_past_or_beyond_the_window_is_ignored() -> None:
    budget = RateBudget(RateLimits())
    budget.observe({"ratelimit-remaining": "0", "ratelimit-reset": "10"}, 100.0, 1_000_000.0)
    assert budget.reserve(100.0) == 0.0
    budget.observe({"ratelimit-remaining": "0", "ratelimit-reset": str(10**17)}, 100.0, 1_000_000.0)
    assert budget.reserve(100.0) == 0.0


def test_a_time_scale_shrinks_both_windows() -> None:
    limits = RateLimits(per_minute=2, per_hour=10, time_scale=60)
    assert (limits.minute, limits.hour) == (1.0, 60.0)
    budget = RateBudget(limits)
    assert [budget.reserve(0.0) for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0 + 0.07)]


@pytest.mark.parametrize("bad", [{"per_minute": 0}, {"per_hour": -1}, {"time_scale": 0}, {"per_minute": True}])
def test_bad_limits_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(docr.InvalidArgument):
        RateLimits(**bad)  # type: ignore[arg-type]


def test_a_long_run_against_the_limits_meets_no_429() -> None:
    # 20 a minute, a minute lasting 0.5 s: 60 requests are three "minutes".
    scale = 120.0
    limits = RateLimits(per_minute=20, per_hour=5000, time_scale=scale)
    with FakeRegistry() as fake:
        fake.rate_limit(per_minute=20, per_hour=5000, time_scale=scale)
        fake.generate("example", "my/repo", count=60, seed=1)
        with docr.Client("t0ken-for-the-budget", base_url=fake.url, rate_limits=limits) as client:
            started = time.monotonic()
            got = list(client.iter_manifests("example", "my/repo", per_page=1))
            elapsed = time.monotonic() - started
        assert len(got) == 60
        assert fake.rate_limited == 0
        assert not any(r.status == 429 for r in fake.requests)
    # 60 requests at 20 per 0.05 s need at least two full windows.
    assert elapsed >= 2 * limits.minute * 0.9
