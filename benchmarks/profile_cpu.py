"""Where docr's CPU per request goes, step by step: ``.venv/bin/python benchmarks/profile_cpu.py``.

Two ladders from a plain httpx loop to docr's walk, each rung adding one thing docr does, all
against the fake in its own process at 0 ms latency (so CPU, not waiting, is what differs). A
rung's figure is the target's metric: CPU (user+sys of this process, every thread) per *extra*
request, i.e. (CPU of a walk at ``per_page`` 1 - CPU at ``per_page`` 200) / (the requests in
between), over the same manifests: parsing and per-walk constants cancel out, what is left is
what one more request costs. Rungs run interleaved, ``--runs`` times each; medians.

Threads (``docr.Client``; the floor is a sequential ``httpx.Client`` loop):

1. ``httpx loop``: ``http.get`` page after page, ``response.json()`` dicts (the target's floor);
2. ``+ docr request, streamed read``: the request built from ``PageRequest.call`` (generated
   ``build_request``) and sent by ``_transport.send`` (per-request headers, streamed body through
   ``BodyReader``, the deadline), then ``json.loads``: docr's exchange without reading the answer;
3. ``+ settle``: ``_exchange.settle`` on the reply: status, request id, JSON, ``_parse`` checks,
   ``Manifest``s, the rate limit: a ``ManifestPage``;
4. ``list_manifests``: ``Client.list_manifests`` page by page (argument checks, the retry loop,
   attempt accounting), one thread;
5. ``iter_manifests, concurrency 1``: plus the walk (planning, dedupe) and one daemon page thread;
6. ``iter_manifests, default (4)``: four page threads (the benchmark's ``docr`` contender);
7. ``... with gc off``: rung 6 with the cyclic garbage collector disabled during the walk.

asyncio (``docr.AsyncClient``; the floor is an ``httpx.AsyncClient`` loop with 4 in flight):

A. ``httpx async, 4 in flight``: a window of four ``get`` tasks, in page order;
B. ``asend + settle, 4 in flight``: the same window over docr's ``_transport.asend`` and ``settle``;
C. ``AsyncClient.iter_manifests (4)``: the benchmark's ``docr-async`` contender.

``--cprofile`` adds a cProfile of rungs 1 and 4 at ``per_page`` 1 (the main thread does all the
work there; cProfile cannot see into docr's page threads), sorted by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _contenders import REGISTRY, TIMEOUT, httpx_async, httpx_loop, unpaced
from _fake import FakeProcess
from _measure import fresh_token

import docr
from docr import _transport
from docr._exchange import settle
from docr._operations import PageRequest
from docr._secrets import Secret

REPOSITORY = "my/repo"
PER_PAGES = (1, 200)
LIMIT = 32 * 1024 * 1024

Rung = Callable[[str, int], int]


def _template(per_page: int) -> PageRequest:
    return PageRequest(registry=REGISTRY, repository=REPOSITORY, page=1, per_page=per_page)


def transport_loop(parse: bool) -> Rung:
    """docr's request and streamed read, sequentially; ``parse`` adds ``settle``."""

    def rung(url: str, per_page: int) -> int:
        template, token = _template(per_page), Secret(fresh_token())
        authorization = Secret("Bearer " + token.reveal())  # as docr.Client sends it
        seen = 0
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as http:
            page = 1
            while True:
                call = template.call(page, per_page)
                reply = _transport.send(http, url, call, authorization, TIMEOUT, LIMIT, [token])
                if parse:
                    listed = settle(call, reply, 1, [token])
                    seen, total = seen + len(listed.manifests), listed.total
                else:
                    body = json.loads(reply.body)
                    seen, total = seen + len(body["manifests"]), body["meta"]["total"]
                if seen >= total:
                    return seen
                page += 1

    return rung


def page_by_page(url: str, per_page: int) -> int:
    seen = 0
    with docr.Client(fresh_token(), base_url=url, rate_limits=unpaced()) as client:
        page = 1
        while True:
            listed = client.list_manifests(REGISTRY, REPOSITORY, page=page, per_page=per_page)
            seen += len(listed.manifests)
            if seen >= listed.total:
                return seen
            page += 1


def walk(concurrency: int, collect_garbage: bool = True) -> Rung:
    def rung(url: str, per_page: int) -> int:
        if not collect_garbage:
            gc.disable()
        try:
            with docr.Client(fresh_token(), base_url=url, concurrency=concurrency, rate_limits=unpaced()) as client:
                return len(list(client.iter_manifests(REGISTRY, REPOSITORY, per_page=per_page)))
        finally:
            gc.enable()

    return rung


def asend_window(url: str, per_page: int) -> int:
    template, token = _template(per_page), Secret(fresh_token())
    authorization = Secret("Bearer " + token.reveal())  # as docr.AsyncClient sends it

    async def fetch(http: httpx.AsyncClient, page: int) -> Any:
        call = template.call(page, per_page)
        return settle(call, await _transport.asend(http, url, call, authorization, TIMEOUT, LIMIT, [token]), 1, [token])

    async def run() -> int:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as http:
            first = await fetch(http, 1)
            seen, last = len(first.manifests), first.last_page
            pending: deque[asyncio.Task[Any]] = deque()
            page = 2
            while page <= last or pending:
                while page <= last and len(pending) < 4:
                    pending.append(asyncio.ensure_future(fetch(http, page)))
                    page += 1
                seen += len((await pending.popleft()).manifests)
            return seen

    return asyncio.run(run())


def async_walk(url: str, per_page: int) -> int:
    async def run() -> int:
        async with docr.AsyncClient(fresh_token(), base_url=url, rate_limits=unpaced()) as client:
            return len([m async for m in client.iter_manifests(REGISTRY, REPOSITORY, per_page=per_page)])

    return asyncio.run(run())


SYNC: dict[str, Rung] = {
    "1 httpx loop (dicts)": lambda url, per_page: httpx_loop(url, fresh_token(), REPOSITORY, per_page),
    "2 + docr request, streamed read": transport_loop(parse=False),
    "3 + settle (parse, models)": transport_loop(parse=True),
    "4 list_manifests, page by page": page_by_page,
    "5 iter_manifests, concurrency 1": walk(1),
    "6 iter_manifests, default (4)": walk(4),
    "7 ... with gc off": walk(4, collect_garbage=False),
}
ASYNC: dict[str, Rung] = {
    "A httpx async, 4 in flight": lambda url, per_page: httpx_async(url, fresh_token(), REPOSITORY, per_page),
    "B asend + settle, 4 in flight": asend_window,
    "C AsyncClient.iter_manifests (4)": async_walk,
}


def _cpu(rung: Rung, url: str, per_page: int, total: int) -> float:
    gc.collect()
    started = time.process_time()
    seen = rung(url, per_page)
    spent = time.process_time() - started
    if seen != total:
        raise RuntimeError(f"a rung listed {seen} manifests, not {total}")
    return spent


def ladder(title: str, rungs: dict[str, Rung], url: str, total: int, runs: int) -> list[str]:
    """Each rung's CPU per extra request (median of ``runs`` paired walks), as printable lines."""
    extra = -(-total // PER_PAGES[0]) - -(-total // PER_PAGES[1])
    for rung in rungs.values():  # warm-up: imports, connections, lazily built code
        for per_page in PER_PAGES:
            _cpu(rung, url, per_page, total)
    samples: dict[str, list[float]] = {name: [] for name in rungs}
    for _ in range(runs):
        for name, rung in rungs.items():
            small, big = (_cpu(rung, url, per_page, total) for per_page in PER_PAGES)
            samples[name].append((small - big) / extra)
    lines = [f"{title}: CPU per extra request (per_page {PER_PAGES[0]} vs {PER_PAGES[1]}), median of {runs}"]
    base = statistics.median(next(iter(samples.values())))
    previous: float | None = None
    for name, values in samples.items():
        per_request = statistics.median(values)
        step = "" if previous is None else f"  step {(per_request - previous) * 1000:+.3f} ms"
        lines.append(f"  {name:<36} {per_request * 1000:7.3f} ms  ({per_request / base:4.2f}x){step}")
        if "gc off" not in name:
            previous = per_request
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--total", type=int, default=1_000, help="manifests in the repository walked")
    parser.add_argument("--only", choices=("sync", "async"), help="one ladder only")
    parser.add_argument("--cprofile", action="store_true", help="also cProfile rungs 1 and 4 at per_page 1")
    args = parser.parse_args()
    with FakeProcess() as fake:
        fake.generate(REPOSITORY, args.total)
        print(f"{args.total:,} manifests on the fake at 0 ms latency", flush=True)
        for title, rungs in (("threads", SYNC), ("asyncio", ASYNC)):
            if args.only in (None, "sync" if rungs is SYNC else "async"):
                print("\n".join(ladder(title, rungs, fake.url, args.total, args.runs)), flush=True)
        if args.cprofile:
            for name in ("1 httpx loop (dicts)", "4 list_manifests, page by page"):
                profile = cProfile.Profile()
                profile.enable()
                SYNC[name](fake.url, 1)
                profile.disable()
                print(f"\ncProfile of {name!r}, per_page 1:")
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
