"""The issue's targets, the markdown report and the plot, from the measurements."""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import _startup
from _measure import CpuResult, Measurement
from _startup import Startup

BASELINE = "httpx-loop"
# The targets (issue 10, "Fast and light").
CPU_SYNC = 1.3  # docr.Client vs the httpx.Client page loop, CPU per extra request
CPU_ASYNC = 1.1  # docr.AsyncClient vs the httpx.AsyncClient loop with 4 in flight
PARSE = 1.3  # settle() of a per_page 200 answer vs response.json() plus plain dicts
IDEAL = 1.25  # listing time vs the ideal round trips for the concurrency (20 ms, per_page 20)
PYDO = 3.5  # at least this much faster than pydo's loop, same run
IMPORT = 1.2  # `import docr; docr.Client` vs `import httpx`, start-up beyond bare python
HELP = 2.0  # `docr --help` vs a bare argparse --help, start-up beyond bare python: "near bare python"
MEMORY_MB = 20.0  # peak RSS growth from 2,000 to 100,000 manifests
# (floor, docr) pairs for the CPU targets.
CPU_PAIRS = (("httpx-loop", "docr", CPU_SYNC), ("httpx-async", "docr-async", CPU_ASYNC))


@dataclass
class Target:
    name: str
    measured: str
    passed: bool | None  # None: could not be checked

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]


@dataclass
class ParseResult:
    baseline: list[float]  # seconds per page, per round
    docr: list[float]
    size: int  # bytes of the body
    manifests: int

    @property
    def ratio(self) -> float:
        """The median over the rounds of docr's time / the baseline's in the same round."""
        return statistics.median(d / b for d, b in zip(self.docr, self.baseline, strict=True))


def find(results: Sequence[Measurement], contender: str, latency: float, per_page: int) -> Measurement | None:
    for result in results:
        if (result.contender, result.latency, result.per_page) == (contender, latency, per_page):
            return result
    return None


def rounds(pages: int, concurrency: int) -> int:
    """Round trips of an ideal walk: the first page alone (its total sizes the walk), then windows."""
    return 1 + math.ceil((pages - 1) / concurrency)


def targets(
    cpu: dict[str, CpuResult],
    parse: ParseResult | None,
    results: Sequence[Measurement],
    startup: Sequence[Startup],
    memory: Sequence[Measurement],
    *,
    latency: float,
    per_page: int,
    total: int,
    concurrency: int,
) -> list[Target]:
    checks: list[Target] = []
    for floor_name, name, limit in CPU_PAIRS:
        floor, docr = cpu.get(floor_name), cpu.get(name)
        label = f"`{name}` CPU per extra request <= {limit}x `{floor_name}` (0 ms, per_page 1 vs 200)"
        if floor is None or docr is None:
            checks.append(Target(label, "not measured", None))
            continue
        ratio = docr.per_extra_request / floor.per_extra_request
        checks.append(
            Target(
                label,
                f"{ratio:.2f}x ({docr.per_extra_request * 1000:.3f} ms vs {floor.per_extra_request * 1000:.3f} ms)",
                ratio <= limit,
            )
        )
    if parse is not None:
        checks.append(
            Target(
                f"parsing a per_page 200 answer <= {PARSE}x `response.json()` + plain dicts",
                f"{parse.ratio:.2f}x ({statistics.median(parse.docr) * 1000:.2f} ms vs"
                f" {statistics.median(parse.baseline) * 1000:.2f} ms a page)",
                parse.ratio <= PARSE,
            )
        )
    where = f"{latency * 1000:.0f} ms, per_page {per_page}"
    httpx = find(results, BASELINE, latency, per_page)
    pydo = find(results, "pydo-loop", latency, per_page)
    pages = math.ceil(total / per_page)
    trips = rounds(pages, concurrency)
    for name in ("docr", "docr-async", "docr-cli"):
        measured = find(results, name, latency, per_page)
        if measured is None or httpx is None:
            checks.append(Target(f"`{name}` within {IDEAL}x of the ideal ({where})", "not measured", None))
            continue
        per_request = httpx.wall / httpx.requests_per_run
        ideal = per_request * trips
        checks.append(
            Target(
                f"`{name}` within {IDEAL}x of the ideal ({where})",
                f"{measured.wall / ideal:.2f}x ({measured.wall:.3f} s; ideal {ideal:.3f} s ="
                f" {trips} round trips x {per_request * 1000:.1f} ms)",
                measured.wall <= IDEAL * ideal,
            )
        )
    for name in ("docr", "docr-async"):
        measured = find(results, name, latency, per_page)
        label = f"`{name}` >= {PYDO}x faster than pydo's loop ({where})"
        if measured is None or pydo is None:
            checks.append(Target(label, "pydo not measured", None))
            continue
        speedup = pydo.wall / measured.wall
        checks.append(Target(label, f"{speedup:.2f}x ({measured.wall:.3f} s vs {pydo.wall:.3f} s)", speedup >= PYDO))
    imports = {s.label: s for s in startup}
    if "import httpx" in imports and "import docr; docr.Client" in imports:
        base, docr_import = imports["import httpx"].net_s, imports["import docr; docr.Client"].net_s
        ratio = docr_import / base
        checks.append(
            Target(
                f"`import docr; docr.Client` <= {IMPORT}x `import httpx` (start-up beyond bare python)",
                f"{ratio:.2f}x ({docr_import * 1000:.0f} ms vs {base * 1000:.0f} ms)",
                ratio <= IMPORT,
            )
        )
    if "docr --help" in imports and _startup.ARGPARSE_HELP in imports:
        help_s, floor_s = imports["docr --help"].net_s, imports[_startup.ARGPARSE_HELP].net_s
        checks.append(
            Target(
                f"`docr --help` near bare python: <= {HELP}x a bare argparse `--help` (start-up beyond bare python)",
                f"{help_s / floor_s:.2f}x (+{help_s * 1000:.0f} ms vs +{floor_s * 1000:.0f} ms;"
                f" bare python {imports['python -c pass'].raw_s * 1000:.0f} ms)",
                help_s <= HELP * floor_s,
            )
        )
    walks = sorted((m for m in memory if m.contender == "docr"), key=lambda m: m.manifests)
    if len(walks) >= 2:
        small, big = walks[0], walks[-1]
        growth = (big.peak_rss_mb or 0) - (small.peak_rss_mb or 0)
        checks.append(
            Target(
                f"peak RSS flat: {big.manifests:,} vs {small.manifests:,} manifests within {MEMORY_MB:.0f} MB",
                f"+{growth:.1f} MB ({small.peak_rss_mb:.1f} -> {big.peak_rss_mb:.1f} MB)",
                growth <= MEMORY_MB,
            )
        )
    return checks


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = sys.version.split()[0]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    python = f"Python {version} ({platform.python_implementation()})"
    return f"{when}; {os.cpu_count()} CPUs ({cpu}); {python}; {platform.system()} {platform.release()}"


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.2f}"


def cpu_table(cpu: dict[str, CpuResult]) -> list[str]:
    lines = [
        "| contender | requests a walk (per_page 1 / 200) | CPU a walk (per_page 1 / 200) | wall at per_page 1"
        " | CPU per extra request | vs its floor | pairs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    floors = {name: floor for floor, name, _ in CPU_PAIRS}
    for name, result in cpu.items():
        small, big = result.requests
        floor = cpu.get(floors.get(name, ""))
        ratio = f"{result.per_extra_request / floor.per_extra_request:.2f}x" if floor else "(floor)"
        lines.append(
            f"| {name} | {small:g} / {big:g} | {result.cpu_small:.3f} s / {result.cpu_big:.3f} s"
            f" | {result.wall_small:.2f} s | {result.per_extra_request * 1000:.3f} ms | {ratio}"
            f" | {len(result.pairs())} |"
        )
    return lines


def latency_table(results: Sequence[Measurement], total: int, concurrency: int) -> list[str]:
    lines = [
        "| contender | latency | per_page | wall (median) | vs ideal | speed-up vs httpx loop | vs pydo"
        " | requests/run | CPU/request | runs | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        base = find(results, BASELINE, result.latency, result.per_page)
        pydo = find(results, "pydo-loop", result.latency, result.per_page)
        speed = f"{base.wall / result.wall:.2f}x" if base else "—"
        against_pydo = f"{pydo.wall / result.wall:.2f}x" if pydo else "—"
        ideal = "—"
        if base and result.contender.startswith("docr"):
            trips = rounds(math.ceil(total / result.per_page), concurrency)
            ideal = f"{result.wall / (base.wall / base.requests_per_run * trips):.2f}x"
        cpu = result.cpu_per_request
        cpu_text = "— (wall only)" if cpu is None else f"{cpu * 1000:.2f} ms"
        rss = "—" if result.peak_rss_mb is None else f"{result.peak_rss_mb:.0f} MB"
        lines.append(
            f"| {result.contender} | {result.latency * 1000:.0f} ms | {result.per_page} | {result.wall:.3f} s"
            f" | {ideal} | {speed} | {against_pydo} | {result.requests_per_run:g} | {cpu_text}"
            f" | {len(result.walls)} | {rss} |"
        )
    return lines


def startup_table(startup: Sequence[Startup]) -> list[str]:
    lines = [
        "| command | median wall (ms) | minus `python -c pass` (ms) | `-X importtime` (ms) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for item in startup:
        lines.append(f"| `{item.label}` | {_ms(item.raw_s)} | {_ms(item.net_s)} | {_ms(item.importtime_s)} |")
    return lines


def markdown(
    *,
    checks: Sequence[Target],
    cpu: dict[str, CpuResult],
    parse: ParseResult | None,
    results: Sequence[Measurement],
    startup: Sequence[Startup],
    memory: Sequence[Measurement],
    notes: Sequence[str],
    total: int,
    concurrency: int,
    diagnostics: Sequence[str] = (),
) -> str:
    parts = [
        "# docr benchmarks",
        "",
        f"Machine: {machine()}.",
        f"Fake API (`docr.testing.FakeRegistry`) in its own process on 127.0.0.1; {total:,} manifests;"
        " each library run in a fresh process after one warm-up walk; medians.",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
        *(f"| {check.name} | {check.measured} | **{check.verdict}** |" for check in checks),
        "",
        "## CPU per request (0 ms latency; walks at per_page 1 and 200 side by side)",
        "",
        *cpu_table(cpu),
    ]
    if parse is not None:
        parts += ["", f"## Parsing one answer (per_page 200, {parse.manifests} manifests, {parse.size:,} bytes)", ""]
        parts += ["| parser | CPU a page (median) | rounds |", "| --- | ---: | ---: |"]
        parts += [f"| `response.json()` + plain dicts | {_ms(statistics.median(parse.baseline))} ms |"]
        parts[-1] += f" {len(parse.baseline)} |"
        parts += [f"| docr `settle` (checked `ManifestPage`) | {_ms(statistics.median(parse.docr))} ms |"]
        parts[-1] += f" {len(parse.docr)} |"
    parts += [
        "",
        "## Listing every manifest at 20 ms latency",
        "",
        *latency_table(results, total, concurrency),
        "",
        "![wall time against repository size](time_vs_size.png)",
        "",
        "## Start-up (fresh processes, interleaved rounds, medians)",
        "",
        *startup_table(startup),
    ]
    if memory:
        parts += ["", "## Memory: iterating without keeping (per_page 200, 0 ms, a fresh process each)", ""]
        parts += ["| contender | manifests | peak RSS | wall |", "| --- | ---: | ---: | ---: |"]
        parts += [f"| {m.contender} | {m.manifests:,} | {m.peak_rss_mb:.1f} MB | {m.wall:.2f} s |" for m in memory]
    parts += ["", "## Notes", "", *(f"- {note}" for note in notes)]
    parts += [*diagnostics, ""]
    return "\n".join(parts)


def plot(
    series: dict[str, list[tuple[int, float]]], path: Path, latency: float, per_page: int, concurrency: int
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    for name, points in series.items():
        sizes, walls = zip(*sorted(points), strict=True)
        axes.plot(sizes, walls, marker="o", label=name)
    if BASELINE in series:
        # The ideal for docr's window, from the sequential loop's own time per request at each size.
        ideal = [
            (size, wall / math.ceil(size / per_page) * rounds(math.ceil(size / per_page), concurrency))
            for size, wall in sorted(series[BASELINE])
        ]
        axes.plot(*zip(*ideal, strict=True), linestyle="--", color="grey", label=f"ideal, concurrency {concurrency}")
    axes.set_xlabel("manifests in the repository")
    axes.set_ylabel("wall time to list them all (s)")
    axes.set_title(f"Listing time vs repository size ({latency * 1000:.0f} ms latency, per_page {per_page})")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
