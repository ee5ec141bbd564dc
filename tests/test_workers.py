"""``docr._workers``: daemon page threads and the light futures of their jobs."""

from __future__ import annotations

import threading

import pytest

from docr._workers import Cancelled, Workers


def test_results_come_back_in_the_futures_of_their_jobs() -> None:
    workers = Workers(3)
    futures = [workers.submit(lambda n: n * n, n) for n in range(20)]
    assert [future.result(timeout=10) for future in futures] == [n * n for n in range(20)]
    assert all(future.done() and not future.running() and not future.cancelled() for future in futures)
    assert len(workers._threads) <= 3
    workers.cancel()


def test_an_error_is_raised_by_result_and_returned_by_exception() -> None:
    workers = Workers(1)

    def fail() -> None:
        raise ValueError("boom")

    future = workers.submit(fail)
    with pytest.raises(ValueError, match="boom"):
        future.result(timeout=10)
    assert isinstance(future.exception(timeout=0), ValueError)
    workers.cancel()


def test_every_waiter_wakes_and_a_timeout_raises_while_pending() -> None:
    workers = Workers(1)
    gate = threading.Event()
    future = workers.submit(lambda: gate.wait(10) and "done")
    with pytest.raises(TimeoutError):
        future.result(timeout=0.01)
    assert not future.done() and not future.cancel()
    seen: list[object] = []
    waiters = [threading.Thread(target=lambda: seen.append(future.result(timeout=10))) for _ in range(3)]
    for waiter in waiters:
        waiter.start()
    gate.set()
    for waiter in waiters:
        waiter.join(10)
    assert seen == ["done"] * 3
    assert future.result() == "done"  # and again, after everyone
    workers.cancel()


def test_jobs_not_started_when_cancelled_end_in_cancelled() -> None:
    workers = Workers(1)
    gate = threading.Event()
    running = workers.submit(gate.wait, 10)
    queued = workers.submit(lambda: "never")
    workers.cancel()
    gate.set()
    assert running.result(timeout=10) is True
    with pytest.raises(Cancelled):
        queued.result(timeout=10)


def test_callbacks_are_refused_rather_than_silently_dropped() -> None:
    workers = Workers(1)
    future = workers.submit(lambda: 1)
    with pytest.raises(NotImplementedError):
        future.add_done_callback(lambda f: None)
    assert future.result(timeout=10) == 1
    workers.cancel()


def test_waitable_workers_give_futures_concurrent_futures_can_wait_on() -> None:
    # retention.apply waits on its deletes with concurrent.futures.wait(FIRST_COMPLETED): the
    # light _Job has no Condition for it (an AttributeError once, in `docr prune --apply`).
    import concurrent.futures
    import threading

    release = threading.Event()
    workers = Workers(2, waitable=True)
    try:
        slow = workers.submit(release.wait, 30)
        quick = workers.submit(lambda: "done")
        ended, pending = concurrent.futures.wait([slow, quick], return_when=concurrent.futures.FIRST_COMPLETED)
        assert quick in ended and slow in pending
        release.set()
        ended, pending = concurrent.futures.wait([slow, quick], timeout=30)
        assert not pending and slow.result() is True
    finally:
        release.set()
        workers.cancel()
