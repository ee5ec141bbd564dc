"""Running the contenders against the fake: library workers in fresh processes, and the CLI."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _fake import FakeProcess

HERE = Path(__file__).resolve().parent
WARMUP_REPOSITORY = "warm"  # 200 manifests: imports, first connection, lazy code paths
CLI = "docr-cli"


@dataclass
class Measurement:
    contender: str
    repository: str
    latency: float
    per_page: int
    walls: list[float]
    requests_per_run: float
    manifests: int
    cpus: list[float] = field(default_factory=list)  # empty for the CLI (wall time only)
    peak_rss_mb: float | None = None

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu_per_request(self) -> float | None:
        if not self.cpus or not self.requests_per_run:
            return None
        return statistics.median(self.cpus) / self.requests_per_run


def fresh_token() -> str:
    # The fake counts requests per token over an hour, like DigitalOcean, and reports the
    # remaining quota; docr narrows its window when little is left. A token per measurement
    # keeps thousands of benchmark requests from looking like a nearly spent quota.
    return f"bench-{uuid.uuid4().hex}"


def run_worker(
    fake: FakeProcess,
    contender: str,
    repository: str,
    per_pages: Sequence[int],
    *,
    latency: float,
    warmup: bool = True,
    keep: bool = True,
    min_reps: int = 3,
    max_reps: int = 5,
    budget: float = 8.0,
) -> dict[int, Measurement]:
    """Measure one library contender in a fresh `_worker.py` process, walking with each of `per_pages` in turn."""
    spec = {
        "contender": contender,
        "url": fake.url,
        "token": fresh_token(),
        "repository": repository,
        "per_pages": list(per_pages),
        "keep": keep,
        "warmup_repository": WARMUP_REPOSITORY if warmup else None,
        "min_reps": min_reps,
        "max_reps": max_reps,
        "budget": budget,
    }
    fake.clear()
    argv = [sys.executable, str(HERE / "_worker.py"), json.dumps(spec)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=HERE)
    if done.returncode != 0:
        raise RuntimeError(f"{contender} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    measured: dict[int, Measurement] = {}
    for per_page in per_pages:
        run = result["runs"][str(per_page)]
        requests = fake.count(repository, per_page if len(per_pages) > 1 else None)
        measured[per_page] = Measurement(
            contender=contender,
            repository=repository,
            latency=latency,
            per_page=per_page,
            walls=run["walls"],
            cpus=run["cpus"],
            requests_per_run=requests / len(run["walls"]),
            manifests=_one(run["counts"], contender),
            peak_rss_mb=result["peak_rss_mb"],
        )
    fake.clear()
    return measured


def run_one(fake: FakeProcess, contender: str, repository: str, per_page: int, **options: Any) -> Measurement:
    """`run_worker` with a single `per_page`."""
    return run_worker(fake, contender, repository, [per_page], **options)[per_page]


@dataclass
class CpuResult:
    """CPU per extra request: walks at a small and a big `per_page`, in pairs run side by side."""

    contender: str
    small: list[Measurement]  # one per worker process (round)
    big: list[Measurement]

    def pairs(self) -> list[tuple[float, float, float]]:
        """(CPU at small, CPU at big, extra requests) for every pair of walks."""
        out = []
        for small, big in zip(self.small, self.big, strict=True):
            extra = small.requests_per_run - big.requests_per_run
            out += [(a, b, extra) for a, b in zip(small.cpus, big.cpus, strict=True)]
        return out

    @property
    def per_extra_request(self) -> float:
        """Median over the pairs of (CPU at small - CPU at big) / (requests at small - at big)."""
        return statistics.median((a - b) / extra for a, b, extra in self.pairs())

    @property
    def cpu_small(self) -> float:
        return statistics.median(a for a, _, _ in self.pairs())

    @property
    def cpu_big(self) -> float:
        return statistics.median(b for _, b, _ in self.pairs())

    @property
    def wall_small(self) -> float:
        return statistics.median(w for m in self.small for w in m.walls)

    @property
    def requests(self) -> tuple[float, float]:
        return self.small[0].requests_per_run, self.big[0].requests_per_run


def docr_script() -> Path | None:
    """The `docr` console script beside this interpreter, when its CLI answers `manifests --help`."""
    script = Path(sys.executable).with_name("docr")
    if not script.exists():
        found = shutil.which("docr")
        if found is None:
            return None
        script = Path(found)
    done = subprocess.run([str(script), "manifests", "--help"], capture_output=True, check=False)
    return script if done.returncode == 0 else None


def run_cli(
    fake: FakeProcess, script: Path, repository: str, per_page: int, *, latency: float, reps: int = 5
) -> Measurement:
    """`docr manifests REF -o json` to /dev/null: wall time of the whole command, start-up included."""
    env = {**os.environ, "DIGITALOCEAN_TOKEN": fresh_token()}
    argv = [str(script), "manifests", f"example/{repository}", "-o", "json", "--api-url", fake.url]
    argv += ["--per-page", str(per_page)]
    subprocess.run([*argv[:2], f"example/{WARMUP_REPOSITORY}", *argv[3:]], check=True, capture_output=True, env=env)
    fake.clear()
    walls: list[float] = []
    for _ in range(reps):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        walls.append(time.perf_counter() - started)
    requests = fake.count(repository)
    fake.clear()
    # The CLI's JSON is not parsed here: the server-side request count shows the whole walk happened.
    return Measurement(CLI, repository, latency, per_page, walls, requests / reps, manifests=-1)


def _one(counts: list[int], contender: str) -> int:
    if len(set(counts)) != 1:
        raise RuntimeError(f"{contender} listed a different number of manifests across runs: {counts}")
    return counts[0]
