"""docr benchmarks: ``make bench`` (or ``.venv/bin/python benchmarks/run.py [--quick]``).

Measures docr against the issue's targets on the local fake API: CPU per request (sync and
async, each against its plain-httpx floor), parsing one page, listing time at 20 ms latency
(docr, docr-async and the CLI against the ideal and against pydo), start-up and memory. Writes
``benchmarks/results/latest.md`` (PASS/FAIL with the numbers) and
``benchmarks/results/time_vs_size.png``. See ``benchmarks/README.md`` for what each number means.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _report
import _startup
from _fake import FakeProcess
from _measure import WARMUP_REPOSITORY, CpuResult, Measurement, docr_script, run_cli, run_one, run_worker

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TOTAL = 2_000
BIG = 100_000
LATENCY = 0.02
PER_PAGE = 20  # the latency targets' page size
CPU_PER_PAGES = (1, 200)  # CPU per extra request: the difference between these two walks
CPU_CONTENDERS = ("httpx-loop", "docr", "httpx-async", "docr-async")
SIZES = (200, 1_000, 2_000, 5_000)
CONCURRENCY = 4  # docr's default
DOCR_REPOSITORY = "my/repo"
PYDO_REPOSITORY = "bench"  # the same manifests under a name without "/"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and sizes, no files written (a smoke test)")
    args = parser.parse_args()
    # Every subprocess runs with bytecode cached, as an installed wheel has it: without .pyc files
    # (PYTHONDONTWRITEBYTECODE, an editable install) each start-up would compile docr from source
    # while httpx's site-packages are compiled. A temporary PYTHONPYCACHEPREFIX holds them.
    with tempfile.TemporaryDirectory(prefix="docr-bench-pyc-") as cache:
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = cache
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    have_pydo = importlib.util.find_spec("pydo") is not None
    have_plot = importlib.util.find_spec("matplotlib") is not None
    script = docr_script()
    notes = _notes(have_pydo, script is not None)
    print(f"docr benchmarks — {_report.machine()}", flush=True)

    print("start-up: fresh subprocesses, interleaved ...", flush=True)
    startup = _startup.measure(script)
    for line in _report.startup_table(startup):
        print(line)

    with FakeProcess() as fake:
        print(f"fake API on {fake.url} (own process); generating repositories ...", flush=True)
        fake.generate(WARMUP_REPOSITORY, 200)
        fake.generate(DOCR_REPOSITORY, TOTAL)
        fake.generate(PYDO_REPOSITORY, TOTAL)

        fake.set_latency(0.0)
        print(f"CPU: walks at per_page {CPU_PER_PAGES[0]} and {CPU_PER_PAGES[1]}, side by side, 0 ms ...", flush=True)
        cpu = _cpu(fake, rounds=1 if args.quick else 3, pairs=1 if args.quick else 2)
        for line in _report.cpu_table(cpu):
            print(line)

        print("parsing one per_page 200 answer ...", flush=True)
        parse = _parse(fake)
        base, docr = (statistics.median(samples) * 1000 for samples in (parse.baseline, parse.docr))
        print(f"  baseline {base:.2f} ms, docr {docr:.2f} ms a page: {parse.ratio:.2f}x", flush=True)

        print(f"listing at {LATENCY * 1000:.0f} ms latency, per_page {PER_PAGE} ...", flush=True)
        fake.set_latency(LATENCY)
        reps = (1, 1) if args.quick else (3, 5)
        results: list[Measurement] = []
        for contender in ("httpx-loop", "docr", "docr-async", "pydo-loop"):
            if contender == "pydo-loop" and not have_pydo:
                continue
            repository = PYDO_REPOSITORY if contender == "pydo-loop" else DOCR_REPOSITORY
            options = {"latency": LATENCY, "min_reps": reps[0], "max_reps": reps[1]}
            results.append(_show(run_one(fake, contender, repository, PER_PAGE, **options)))
        if script is not None:
            results.append(_show(run_cli(fake, script, DOCR_REPOSITORY, PER_PAGE, latency=LATENCY, reps=reps[1])))

        print(f"memory: {TOTAL:,} vs {BIG:,} manifests, iterated without keeping ...", flush=True)
        fake.set_latency(0.0)
        fake.generate("big", 1_000 if args.quick else BIG)
        memory = [
            _show(run_one(fake, contender, name, 200, latency=0.0, warmup=False, keep=False, min_reps=1, max_reps=1))
            for contender in ("docr", "docr-pages")
            for name in (DOCR_REPOSITORY, "big")
        ]

        print("time against repository size ...", flush=True)
        fake.set_latency(LATENCY)
        series: dict[str, list[tuple[int, float]]] = {}
        for size in SIZES[:2] if args.quick else SIZES:
            fake.generate(f"size-{size}", size)
            for contender in ("docr", "httpx-loop", "pydo-loop"):
                if contender == "pydo-loop" and not have_pydo:
                    continue
                result = run_one(fake, contender, f"size-{size}", PER_PAGE, latency=LATENCY, min_reps=1, max_reps=1)
                series.setdefault(contender, []).append((size, _show(result).wall))

    checks = _report.targets(
        cpu, parse, results, startup, memory, latency=LATENCY, per_page=PER_PAGE, total=TOTAL, concurrency=CONCURRENCY
    )
    report = _report.markdown(
        checks=checks,
        cpu=cpu,
        parse=parse,
        results=results,
        startup=startup,
        memory=memory,
        notes=notes,
        total=TOTAL,
        concurrency=CONCURRENCY,
        diagnostics=_diagnostics(checks, args.quick),
    )
    print()
    print(report)
    print(f"({time.perf_counter() - began:.0f} s)")
    if args.quick:
        _registry_wide(quick=True)
        print("(--quick: nothing written)")
        return 0
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(report)
    if have_plot:
        _report.plot(series, RESULTS / "time_vs_size.png", LATENCY, PER_PAGE, CONCURRENCY)
    else:
        print("SKIPPED the plot: matplotlib is not installed (`make bench` installs it: `pip install --group bench`).")
    print(f"wrote {RESULTS / 'latest.md'}" + (f" and {RESULTS / 'time_vs_size.png'}" if have_plot else ""))
    _registry_wide(quick=False)
    return 0


def _registry_wide(*, quick: bool) -> None:
    """The registry-wide targets (usage and prune at the rate limit): ``benchmarks/registry.py``."""
    import registry

    print("\nregistry-wide: usage and a prune walk at the rate limit, 20 ms latency, memory ...", flush=True)
    print(registry.main(["--quick"] if quick else []))


def _cpu(fake: FakeProcess, *, rounds: int, pairs: int) -> dict[str, CpuResult]:
    """Every CPU contender, in `rounds` interleaved rounds of a fresh process each doing `pairs` pairs."""
    measured: dict[str, CpuResult] = {name: CpuResult(name, [], []) for name in CPU_CONTENDERS}
    for number in range(rounds):
        order = CPU_CONTENDERS[number % 2 :] + CPU_CONTENDERS[: number % 2]  # who goes first alternates
        for contender in order:
            walks = run_worker(
                fake, contender, DOCR_REPOSITORY, CPU_PER_PAGES, latency=0.0, min_reps=pairs, max_reps=pairs
            )
            small, big = (walks[size] for size in CPU_PER_PAGES)
            measured[contender].small.append(small)
            measured[contender].big.append(big)
            print(
                f"  round {number + 1} {contender:<11} CPU a walk {_ms(small.cpus)} / {_ms(big.cpus)} ms"
                f"  requests {small.requests_per_run:g} / {big.requests_per_run:g}",
                flush=True,
            )
    return measured


def _parse(fake: FakeProcess) -> _report.ParseResult:
    argv = [sys.executable, str(HERE / "_parse_bench.py"), fake.url, DOCR_REPOSITORY, "200"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=HERE)
    if done.returncode != 0:
        raise RuntimeError(f"the parse benchmark failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    samples = result["samples"]
    return _report.ParseResult(samples["baseline"], samples["docr"], result["bytes"], result["manifests"])


def _notes(have_pydo: bool, have_cli: bool) -> list[str]:
    notes = [
        "CPU is `time.process_time()` of the client process (user + sys, every thread); requests are counted by"
        " the fake (server side). *CPU per extra request* is (CPU of a walk at per_page 1 - CPU of a walk at"
        f" per_page 200) / (the requests in between), over the same {TOTAL:,} manifests, for pairs of walks run"
        " back to back in one process, in rounds of fresh processes that alternate the contenders: parsing the"
        " manifests and per-walk constants (the client, its CA bundle) cancel out; the median is over the pairs.",
        "`httpx-loop`: `httpx.Client`, pages one after another until `meta.total` manifests are collected (the floor"
        " for `docr.Client`). `httpx-async`: `httpx.AsyncClient`, page 1 alone, then a window of 4 requests in"
        f" flight consumed in page order (the floor for `docr.AsyncClient`). docr uses its defaults (concurrency"
        f" {CONCURRENCY}, retries on).",
        "Parsing: one per_page 200 answer of the fake (body and headers as served) turned into results again and"
        " again in one process: `response.json()` plus `[dict(m) for m in body['manifests']]`, against docr's"
        " `settle` (JSON, every field checked, a `Manifest` per item, the rate limit: the `ManifestPage`).",
        f"The ideal at {LATENCY * 1000:.0f} ms is {_report.rounds(-(-TOTAL // PER_PAGE), CONCURRENCY)} round trips"
        f" (page 1 alone, its total sizes the walk, then the other {-(-TOTAL // PER_PAGE) - 1} pages"
        f" {CONCURRENCY} at a time) x one round trip as the httpx loop measured it (its wall / its requests).",
        "`docr-cli` is `docr manifests example/my/repo -o json --per-page N --api-url URL > /dev/null`: wall time"
        " of the whole command, interpreter start-up and JSON writing included. Its speed-up over pydo is shown"
        " but not a target: pydo's loop is timed in a warm process, without its ~150 ms of imports.",
        f"pydo lists the same {TOTAL:,} manifests served as repository `{PYDO_REPOSITORY}` (no `/` in the name; the"
        f" others list `{DOCR_REPOSITORY}`), over plain http, so each call passes `enforce_https=False`"
        " (azure-core refuses a bearer token over http otherwise).",
        "Each walk uses a fresh token: the fake, like the API, reports a per-token hourly quota (5,000), and docr"
        " narrows its window when little of it is left.",
        "`docr-pages` in the memory table is `Client.iter_pages`: the same walk without remembering digests"
        " (`iter_manifests` keeps every digest it yielded, to never yield one twice).",
    ]
    if not have_pydo:
        notes.append("SKIPPED pydo: not installed (`make bench` installs it: `pip install --group bench`).")
    if not have_cli:
        notes.append("TODO docr-cli: `docr manifests --help` does not work in this checkout; CLI not measured.")
    return notes


def _diagnostics(checks: list[_report.Target], quick: bool) -> list[str]:
    """For failed targets: where the CPU goes (profile_cpu.py) and what the import loads."""
    lines: list[str] = []
    if any(check.passed is False and "CPU per extra request" in check.name for check in checks):
        print("a CPU target failed: running benchmarks/profile_cpu.py ...", flush=True)
        argv = [sys.executable, str(HERE / "profile_cpu.py"), "--runs", "1" if quick else "3", "--total", "500"]
        ladder = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()
        lines += ["", "## Where docr's CPU per request goes (`benchmarks/profile_cpu.py`, 0 ms latency)", ""]
        lines += ["Each rung adds one thing docr does to the rung above it; see the script's docstring.", ""]
        lines += ["```", ladder, "```"]
    if any(check.passed is False and "import docr" in check.name for check in checks):
        lines += ["", "## What `import docr; docr.Client` imports (`-X importtime`, top-level modules, cumulative)"]
        lines += [
            "",
            "A module shared with another is charged to whichever imports it first; `import httpx` is the floor.",
            "",
            "| module | ms |",
            "| --- | ---: |",
        ]
        modules = _startup.breakdown("import docr; docr.Client")
        lines += [f"| `{name}` | {seconds * 1000:.1f} |" for name, seconds in modules]
    return lines


def _ms(seconds: list[float]) -> str:
    return "/".join(f"{value * 1000:.0f}" for value in seconds) if len(seconds) > 1 else f"{seconds[0] * 1000:.2f}"


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
