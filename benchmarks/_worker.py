"""One contender, measured in a fresh process: ``python benchmarks/_worker.py '<json spec>'``.

The spec names the contender, the fake's URL, the repository, ``per_page``, a warm-up
repository and a time budget. The worker lists the warm-up repository once (imports, first
connection, lazily built code paths), then the measured repository ``reps`` times, and prints
one JSON line: per run the wall time (``perf_counter``), the CPU time of this whole process
(``process_time``: every thread, so docr's page threads count) and the manifests listed, and
the peak RSS of the process (``ru_maxrss``) after the warm-up and at the end.

Fresh processes keep the numbers independent: one contender's imports, caches or garbage never
weigh on another's, and ``ru_maxrss`` is the peak of this contender alone.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from typing import Any

from _contenders import CONTENDERS


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    listing = CONTENDERS[spec["contender"]]
    url, token, per_page, keep = spec["url"], spec["token"], spec["per_page"], spec.get("keep", True)
    warmup = spec.get("warmup_repository")
    if warmup:
        listing(url, token, warmup, per_page, keep)
    rss_after_warmup = peak_rss_mb()
    walls: list[float] = []
    cpus: list[float] = []
    counts: list[int] = []
    min_reps, max_reps, budget = spec.get("min_reps", 3), spec.get("max_reps", 5), spec.get("budget", 10.0)
    started = time.perf_counter()
    while len(walls) < max_reps:
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        count = listing(url, token, spec["repository"], per_page, keep)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        counts.append(count)
        if len(walls) >= min_reps and time.perf_counter() - started + walls[-1] > budget:
            break
    return {
        "walls": walls,
        "cpus": cpus,
        "counts": counts,
        "rss_after_warmup_mb": rss_after_warmup,
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(measure(json.loads(sys.argv[1]))))
