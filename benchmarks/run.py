"""docr benchmarks: ``make bench`` (or ``.venv/bin/python benchmarks/run.py [--quick]``).

Lists a repository on the local fake API with docr (sync and async), the docr CLI, a plain
httpx page loop and pydo's page loop; measures start-up and memory; checks the targets and
writes ``benchmarks/results/latest.md`` and ``benchmarks/results/time_vs_size.png``.
See ``benchmarks/README.md`` for what each number means.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _report
import _startup
from _fake import FakeProcess
from _measure import WARMUP_REPOSITORY, Measurement, docr_script, run_cli, run_worker

RESULTS = Path(__file__).resolve().parent / "results"
TOTAL = 2_000
BIG = 100_000
LATENCIES = (0.0, 0.02)
PER_PAGES = (20, 200)
SIZES = (200, 1_000, 2_000, 5_000)
CONCURRENCY = 4  # docr's default
DOCR_REPOSITORY = "my/repo"
PYDO_REPOSITORY = "bench"  # the same manifests under a name without "/"
LIBRARIES = ("docr", "docr-async", "httpx-loop", "pydo-loop")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and sizes, no files written (a smoke test)")
    args = parser.parse_args()
    have_pydo = importlib.util.find_spec("pydo") is not None
    have_plot = importlib.util.find_spec("matplotlib") is not None
    script = docr_script()
    notes = [
        "Requests are counted by the fake (server side); CPU is `time.process_time()` of the client process"
        " (all its threads) divided by its requests; peak RSS is `ru_maxrss` of that process, warm-up included.",
        f"`httpx-loop`: `httpx.Client`, pages one after another until `meta.total` manifests are collected (the floor"
        f" for a sequential client). docr uses its defaults (concurrency {CONCURRENCY}, retries on).",
        f"pydo lists the same {TOTAL:,} manifests served as repository `{PYDO_REPOSITORY}` (no `/` in the name; the"
        f" others list `{DOCR_REPOSITORY}`), over plain http, so each call passes `enforce_https=False`"
        " (azure-core refuses a bearer token over http otherwise).",
        "`docr-cli` is `docr manifests example/my/repo -o json --per-page N --api-url URL > /dev/null`: wall time"
        " of the whole command, interpreter start-up and JSON writing included.",
        "Each measurement uses a fresh token: the fake, like the API, reports a per-token hourly quota, and docr"
        " narrows its window when little of it is left.",
    ]
    if not have_pydo:
        notes.append("SKIPPED pydo: not installed (`make bench` installs it: `pip install --group bench`).")
    if script is None:
        notes.append("TODO docr-cli: `docr manifests --help` does not work in this checkout yet; CLI not measured.")
    reps = (1, 1) if args.quick else (3, 5)
    print(f"docr benchmarks — {_report.machine()}", flush=True)

    print("start-up: fresh subprocesses ...", flush=True)
    startup = _startup.measure(script)
    for line in _report.startup_table(startup):
        print(line)

    results: list[Measurement] = []
    with FakeProcess() as fake:
        print(f"fake API on {fake.url} (own process); generating repositories ...", flush=True)
        fake.generate(WARMUP_REPOSITORY, 200)
        fake.generate(DOCR_REPOSITORY, TOTAL)
        fake.generate(PYDO_REPOSITORY, TOTAL)
        for latency in LATENCIES:
            fake.set_latency(latency)
            for per_page in PER_PAGES:
                for contender in LIBRARIES:
                    if contender == "pydo-loop" and not have_pydo:
                        continue
                    repository = PYDO_REPOSITORY if contender == "pydo-loop" else DOCR_REPOSITORY
                    result = run_worker(
                        fake, contender, repository, per_page, latency=latency, min_reps=reps[0], max_reps=reps[1]
                    )
                    results.append(_show(result))
                if script is not None:
                    results.append(
                        _show(run_cli(fake, script, DOCR_REPOSITORY, per_page, latency=latency, reps=reps[1]))
                    )

        print(f"memory: {TOTAL:,} vs {BIG:,} manifests, iterated without keeping ...", flush=True)
        fake.set_latency(0.0)
        fake.generate("big", 1_000 if args.quick else BIG)
        memory = [
            _show(run_worker(fake, contender, name, 200, latency=0.0, warmup=False, keep=False, min_reps=1, max_reps=1))
            for contender in ("docr", "docr-pages")
            for name in (DOCR_REPOSITORY, "big")
        ]

        print("time against repository size ...", flush=True)
        fake.set_latency(LATENCIES[-1])
        series: dict[str, list[tuple[int, float]]] = {}
        for size in SIZES[:2] if args.quick else SIZES:
            fake.generate(f"size-{size}", size)
            for contender in ("docr", "httpx-loop", "pydo-loop"):
                if contender == "pydo-loop" and not have_pydo:
                    continue
                result = run_worker(fake, contender, f"size-{size}", 20, latency=LATENCIES[-1], min_reps=1, max_reps=1)
                series.setdefault(contender, []).append((size, _show(result).wall))

    checks = _report.targets(
        results,
        startup,
        memory,
        latency=LATENCIES[-1],
        per_page=PER_PAGES[0],
        total=TOTAL,
        concurrency=CONCURRENCY,
    )
    notes.append(
        "`docr-pages` in the memory table is `Client.iter_pages`: the same walk without remembering digests"
        " (`iter_manifests` keeps every digest it yielded, to never yield one twice)."
    )
    report = _report.markdown(results, startup, memory, checks, notes, TOTAL, _diagnostics(checks, args.quick))
    print()
    print(report)
    if args.quick:
        print("(--quick: nothing written)")
        return 0
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(report)
    if have_plot:
        _report.plot(series, RESULTS / "time_vs_size.png", LATENCIES[-1], 20, CONCURRENCY)
    else:
        print("SKIPPED the plot: matplotlib is not installed (`make bench` installs it: `pip install --group bench`).")
    print(f"wrote {RESULTS / 'latest.md'}" + (f" and {RESULTS / 'time_vs_size.png'}" if have_plot else ""))
    return 0


def _diagnostics(checks: list[_report.Target], quick: bool) -> list[str]:
    """For failed targets: where the CPU goes (profile_cpu.py) and what the import loads."""
    lines: list[str] = []
    if any(check.passed is False and "CPU per request" in check.name for check in checks):
        print("a CPU target failed: running benchmarks/profile_cpu.py ...", flush=True)
        script = Path(__file__).resolve().parent / "profile_cpu.py"
        argv = [sys.executable, str(script), "--runs", "3" if quick else "9"]
        ladder = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()
        lines += ["", "## Where docr's CPU per request goes (`benchmarks/profile_cpu.py`, 0 ms latency)", ""]
        lines += ["Each rung adds one thing docr does to the rung above it; see the script's docstring.", ""]
        lines += ["```", ladder, "```"]
    if any(check.passed is False and "from docr import Client" in check.name for check in checks):
        lines += ["", "## What `from docr import Client` imports (`-X importtime`, top-level modules, cumulative)", ""]
        lines += [
            "A module shared with another is charged to whichever imports it first (asyncio, imported before httpx,"
            " carries ssl and socket, which httpx would load anyway); the start-up table's"
            " `import httpx, attrs, docr_api.models` row is the floor while those are imported eagerly.",
            "",
            "| module | ms |",
            "| --- | ---: |",
        ]
        modules = _startup.breakdown("from docr import Client")
        lines += [f"| `{name}` | {seconds * 1000:.1f} |" for name, seconds in modules]
    return lines


def _show(result: Measurement) -> Measurement:
    cpu = result.cpu_per_request
    print(
        f"  {result.contender:<11} {result.repository:<10} {result.latency * 1000:>3.0f} ms"
        f"  per_page {result.per_page:>3}"
        f"  wall {result.wall:7.3f} s  requests/run {result.requests_per_run:>5g}"
        + ("" if cpu is None else f"  CPU/request {cpu * 1000:6.2f} ms")
        + ("" if result.peak_rss_mb is None else f"  peak RSS {result.peak_rss_mb:5.0f} MB"),
        flush=True,
    )
    return result


if __name__ == "__main__":
    sys.exit(main())
