"""Stopping a listing is prompt: leaving the loop, ``close()`` or the ``with`` block returns at once,
and no request or retry starts afterwards, however slow the server and however many pages are in
flight or waiting to be retried. ``docr`` on Ctrl-C exits 130 at once, quietly, cursor shown.

Each scenario runs against ``FakeRegistry`` with one second of latency per answer and 20 pages in
flight (``concurrency=20``); pages 3 to 21 first answer 503, so their retries are pending when the
listing stops on page 2. The scenarios run side by side, each on its own repository, and the
fake's request log is checked for every repository a few seconds after its listing stopped.
"""

from __future__ import annotations

import asyncio
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import docr
from docr.testing import FakeRegistry

LATENCY = 1.0
QUIET_PERIOD = 3 * LATENCY  # an answer in flight, plus the longest backoff before its retry
COUNT = 1000  # 50 pages of 20: far more than one window
PER_PAGE = 20
STOP_AT = 30  # the 31st manifest, or the 2nd page: while pages 3-21 are in flight
CASES = [(how, kind) for how in ("break", "close", "with") for kind in ("manifests", "pages")]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry(latency=LATENCY) as registry:
        for index in range(2 * len(CASES)):
            registry.generate("example", f"repo-{index}", count=COUNT, seed=index)
        for page in range(3, 22):
            registry.fail_next(503, page=page, count=2 * len(CASES))  # once per repository
        yield registry


def requests_for(fake: FakeRegistry, repository: str) -> int:
    return sum(1 for request in fake.requests if f"/repositories/{repository}/" in request.raw_path)


# -- sync: each way of stopping, each kind of listing ----------------------------------------------


def stop_at(index: int, kind: str) -> bool:
    return index == (STOP_AT if kind == "manifests" else 1)


def stop_by_break(listing: Callable[[], Iterator[Any]], kind: str) -> float:
    for index, _ in enumerate(listing()):
        if stop_at(index, kind):
            started = time.monotonic()
            break
    return started  # the listing was a temporary: leaving the loop dropped (and closed) it


def stop_by_close(listing: Callable[[], Any], kind: str) -> float:
    items = listing()
    for index, _ in enumerate(items):
        if stop_at(index, kind):
            break
    started = time.monotonic()
    items.close()
    return started


def stop_by_with(listing: Callable[[], Any], kind: str) -> float:
    with listing() as items:
        for index, _ in enumerate(items):
            if stop_at(index, kind):
                started = time.monotonic()
                break
    return started


STOPS = {"break": stop_by_break, "close": stop_by_close, "with": stop_by_with}


def run_sync(fake: FakeRegistry, repository: str, how: str, kind: str) -> tuple[float, int]:
    """Stop a listing of ``repository``; (seconds the stop took, requests seen by then)."""
    with docr.Client("cancel-token", base_url=fake.url, concurrency=20, timeout=30, max_retries=20) as client:

        def listing() -> Any:
            method = client.iter_manifests if kind == "manifests" else client.iter_pages
            return method("example", repository, per_page=PER_PAGE)

        started = STOPS[how](listing, kind)
        took = time.monotonic() - started
        seen = requests_for(fake, repository)
    return took, seen


def test_stopping_a_sync_listing_is_prompt_and_final(fake: FakeRegistry) -> None:
    results: dict[tuple[str, str], tuple[float, int]] = {}

    def run(index: int, how: str, kind: str) -> None:
        results[how, kind] = run_sync(fake, f"repo-{index}", how, kind)

    threads = [threading.Thread(target=run, args=(i, how, kind)) for i, (how, kind) in enumerate(CASES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == sorted(CASES)
    time.sleep(QUIET_PERIOD)
    for index, case in enumerate(CASES):
        took, seen = results[case]
        assert took < LATENCY, f"{case}: stopping took {took:.2f}s, more than a round trip"
        assert requests_for(fake, f"repo-{index}") == seen, f"{case}: requests started after the stop"
        assert seen > 2  # pages were in flight when it stopped


# -- async -------------------------------------------------------------------------------------------


async def run_async(fake: FakeRegistry, repository: str, how: str, kind: str) -> tuple[float, int]:
    client = docr.AsyncClient("cancel-token", base_url=fake.url, concurrency=20, timeout=30, max_retries=20)
    method = client.iter_manifests if kind == "manifests" else client.iter_pages
    index = -1
    if how == "break":
        async for _ in method("example", repository, per_page=PER_PAGE):
            index += 1
            if stop_at(index, kind):
                break
        started = time.monotonic()
        await asyncio.sleep(0)  # the dropped generator is closed by the loop (its asyncgen hook)
        await asyncio.sleep(0)
    elif how == "close":
        items = method("example", repository, per_page=PER_PAGE)
        async for _ in items:
            index += 1
            if stop_at(index, kind):
                break
        started = time.monotonic()
        await items.aclose()
    else:
        async with method("example", repository, per_page=PER_PAGE) as items:
            async for _ in items:
                index += 1
                if stop_at(index, kind):
                    started = time.monotonic()
                    break
    took = time.monotonic() - started
    seen = requests_for(fake, repository)
    await client.close()
    return took, seen


def test_stopping_an_async_listing_is_prompt_and_final(fake: FakeRegistry) -> None:
    offset = len(CASES)

    async def main() -> list[tuple[float, int]]:
        return await asyncio.gather(
            *(run_async(fake, f"repo-{offset + i}", how, kind) for i, (how, kind) in enumerate(CASES))
        )

    results = asyncio.run(main())
    time.sleep(QUIET_PERIOD)
    for index, (case, (took, seen)) in enumerate(zip(CASES, results, strict=True)):
        assert took < LATENCY, f"{case}: stopping took {took:.2f}s, more than a round trip"
        assert requests_for(fake, f"repo-{offset + index}") == seen, f"{case}: requests started after the stop"
        assert seen > 2


# -- the command line: Ctrl-C --------------------------------------------------------------------------

DOCR = str(Path(sys.executable).parent / "docr")


def test_ctrl_c_exits_130_at_once_quietly_with_the_cursor_shown(tmp_path: Path) -> None:
    """SIGINT while a progress bar is drawn on a terminal and every later page takes a minute."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGITALOCEAN_")}
    env.update(DIGITALOCEAN_TOKEN="ctrl-c-token", XDG_CONFIG_HOME=str(tmp_path), TERM="xterm-256color")
    with FakeRegistry() as fake:
        fake.generate("example", "my/repo", count=400, seed=1)
        for page in range(2, 21):
            fake.fail_next("slow", page=page, delay=60.0)
        controller, terminal = pty.openpty()  # stderr is a terminal: the progress bar is drawn
        process = subprocess.Popen(
            [DOCR, "manifests", "example/my/repo", "--per-page", "20", "-o", "json", "--api-url", fake.url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=terminal,
        )
        os.close(terminal)
        try:
            screen = read_until(controller, b"Listing", timeout=30)
            assert b"\x1b[?25l" in screen  # the bar hid the cursor
            assert wait_for(lambda: len(fake.requests) >= 5)  # pages are waiting for their slow answers
            interrupted = time.monotonic()
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
            took = time.monotonic() - interrupted
            screen += read_until(controller, None, timeout=5)
            out = process.stdout.read() if process.stdout else b""
        finally:
            if process.poll() is None:
                process.kill()
            os.close(controller)
            if process.stdout:
                process.stdout.close()
    assert code == 130
    assert took < 5, f"Ctrl-C took {took:.1f}s to exit"
    assert out == b""
    assert b"Traceback" not in screen and b"KeyboardInterrupt" not in screen
    assert screen.rindex(b"\x1b[?25h") > screen.rindex(b"\x1b[?25l")  # the cursor was shown again


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> bool:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def read_until(fd: int, marker: bytes | None, timeout: float) -> bytes:
    """Read the terminal until ``marker`` shows up (or, for None, until it closes)."""
    data = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end and (marker is None or marker not in data):
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        data += chunk
    return data
