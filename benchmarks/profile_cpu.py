"""Where docr's CPU per request goes, step by step: ``.venv/bin/python benchmarks/profile_cpu.py``.

A ladder from the plain httpx loop to ``docr.Client().iter_manifests()``, each rung adding one
thing docr does, all against the fake in its own process at 0 ms latency (so CPU, not waiting,
is what differs). Rungs run interleaved, ``--runs`` times each, and the medians are printed as
CPU per request and as the step from the rung before:

1. ``httpx loop``: ``response.json()`` dicts, nothing else (the target's baseline);
2. ``+ generated models``: the same loop, each page parsed by ``docr_api``'s
   ``RepositoryManifestsPage.from_dict`` and wrapped in ``docr.Manifest`` (what typed results cost);
3. ``docr list_manifests``: docr's request path page by page, one thread (generated
   ``sync_detailed``, response hook, ``settle``), no walk;
4. ``iter_manifests, concurrency 1``: plus the walk (dedupe of digests) and one page thread;
5. ``iter_manifests, default``: plus three more threads (concurrency 4);
6. ``... with gc off``: rung 5 with the cyclic garbage collector disabled during the walk.

``--cprofile`` adds a cProfile of rung 3 (the main thread does all the work there; cProfile
cannot see into docr's page threads).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _contenders import REGISTRY, httpx_loop
from _fake import FakeProcess
from _measure import fresh_token

import docr
from docr_api.models import RepositoryManifestsPage

REPOSITORY = "my/repo"
TOTAL = 2_000
PATH = f"/v2/registry/{REGISTRY}/repositories/my%2Frepo/digests"

Rung = Callable[[str, int], int]


def typed_loop(url: str, per_page: int) -> int:
    manifests: list[docr.Manifest] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {fresh_token()}"}) as http:
        page = 1
        while True:
            body = http.get(PATH, params={"page": page, "per_page": per_page}).json()
            parsed = RepositoryManifestsPage.from_dict(body)
            manifests.extend(docr.Manifest(model) for model in parsed.manifests or [])
            if len(manifests) >= body["meta"]["total"]:
                return len(manifests)
            page += 1


def page_by_page(url: str, per_page: int) -> int:
    manifests: list[docr.Manifest] = []
    with docr.Client(fresh_token(), base_url=url) as client:
        page = 1
        while True:
            listed = client.list_manifests(REGISTRY, REPOSITORY, page=page, per_page=per_page)
            manifests.extend(listed.manifests)
            if len(manifests) >= listed.total:
                return len(manifests)
            page += 1


def walk(concurrency: int, collect_garbage: bool = True) -> Rung:
    def rung(url: str, per_page: int) -> int:
        if not collect_garbage:
            gc.disable()
        try:
            with docr.Client(fresh_token(), base_url=url, concurrency=concurrency) as client:
                return len(list(client.iter_manifests(REGISTRY, REPOSITORY, per_page=per_page)))
        finally:
            gc.enable()

    return rung


RUNGS: dict[str, Rung] = {
    "1 httpx loop (dicts)": lambda url, per_page: httpx_loop(url, fresh_token(), REPOSITORY, per_page),
    "2 + generated models": typed_loop,
    "3 docr list_manifests": page_by_page,
    "4 iter_manifests, concurrency 1": walk(1),
    "5 iter_manifests, default (4)": walk(4),
    "6 ... with gc off": walk(4, collect_garbage=False),
}


def ladder(url: str, per_page: int, runs: int) -> None:
    requests = -(-TOTAL // per_page)
    for rung in RUNGS.values():  # warm-up: imports, connections, lazily built code
        assert rung(url, per_page) == TOTAL
    cpu: dict[str, list[float]] = {name: [] for name in RUNGS}
    for _ in range(runs):
        for name, rung in RUNGS.items():
            gc.collect()
            started = time.process_time()
            rung(url, per_page)
            cpu[name].append(time.process_time() - started)
    print(f"\nper_page {per_page} ({requests} requests a walk), CPU per request, median of {runs}:")
    previous = None
    for name, samples in cpu.items():
        per_request = statistics.median(samples) / requests * 1000
        step = "" if previous is None else f"  step {per_request - previous:+.3f} ms"
        base = statistics.median(cpu[next(iter(cpu))]) / requests * 1000
        print(f"  {name:<34} {per_request:7.3f} ms  ({per_request / base:4.2f}x){step}")
        if not name.startswith("6"):
            previous = per_request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cprofile", action="store_true", help="also cProfile rung 3 at per_page 200")
    args = parser.parse_args()
    with FakeProcess() as fake:
        fake.generate(REPOSITORY, TOTAL)
        for per_page in (20, 200):
            ladder(fake.url, per_page, args.runs)
        if args.cprofile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(5):
                page_by_page(fake.url, 200)
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
