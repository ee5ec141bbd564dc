"""One contender, measured in a fresh process: ``python benchmarks/_worker.py '<json spec>'``.

The spec names the contender, the fake's URL, the repository, the ``per_pages`` to walk with, a
warm-up repository and a time budget. The worker lists the warm-up repository once (imports,
first connection, lazily built code paths), then, ``reps`` times, the measured repository once
with each ``per_page`` in turn (``[1, 200]``: a pair of walks side by side, whose CPU difference
is the cost of the extra requests). It prints one JSON line: per ``per_page`` and run the wall
time (``perf_counter``), the CPU time of this whole process (``process_time``: user + sys of every
thread, so docr's page threads count) and the manifests listed, and the peak RSS of the process
(``ru_maxrss``) after the warm-up and at the end.

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
    url, token, keep = spec["url"], spec["token"], spec.get("keep", True)
    per_pages: list[int] = spec["per_pages"]
    warmup = spec.get("warmup_repository")
    if warmup:
        listing(url, token, warmup, per_pages[0], keep)
    rss_after_warmup = peak_rss_mb()
    runs: dict[int, dict[str, list[Any]]] = {size: {"walls": [], "cpus": [], "counts": []} for size in per_pages}
    min_reps, max_reps, budget = spec.get("min_reps", 3), spec.get("max_reps", 5), spec.get("budget", 10.0)
    started = time.perf_counter()
    for rep in range(max_reps):
        took = 0.0
        for per_page in per_pages:
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            # A token per walk: the fake counts an hourly quota per token (5,000, like the API), and
            # docr narrows its window when little is left; a per_page 1 walk alone sends 2,000.
            count = listing(url, f"{token}-{rep}-{per_page}", spec["repository"], per_page, keep)
            took += time.perf_counter() - wall
            runs[per_page]["walls"].append(time.perf_counter() - wall)
            runs[per_page]["cpus"].append(time.process_time() - cpu)
            runs[per_page]["counts"].append(count)
        if rep + 1 >= min_reps and time.perf_counter() - started + took > budget:
            break
    return {
        "runs": {str(size): run for size, run in runs.items()},
        "rss_after_warmup_mb": rss_after_warmup,
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(measure(json.loads(sys.argv[1]))))
