"""Targets, the markdown report and the plot, from the measurements."""

from __future__ import annotations

import math
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from _measure import Measurement
from _startup import Startup

BASELINE = "httpx-loop"


@dataclass
class Target:
    name: str
    measured: str
    passed: bool | None  # None: could not be checked

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]


def find(results: Sequence[Measurement], contender: str, latency: float, per_page: int) -> Measurement | None:
    for result in results:
        if (result.contender, result.latency, result.per_page) == (contender, latency, per_page):
            return result
    return None


def ideal_wall(per_request: float, pages: int, concurrency: int) -> float:
    """A window of `concurrency` after the first page, which comes alone: its total sizes the walk."""
    return per_request * (1 + math.ceil((pages - 1) / concurrency))


def targets(
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
    docr = find(results, "docr", latency, per_page)
    httpx = find(results, BASELINE, latency, per_page)
    pydo = find(results, "pydo-loop", latency, per_page)
    where = f"{latency * 1000:.0f} ms, per_page {per_page}"
    if docr and httpx:
        speedup = httpx.wall / docr.wall
        checks.append(
            Target(
                f"docr >= 2.5x faster than the httpx loop ({where})",
                f"{speedup:.2f}x ({docr.wall:.3f} s vs {httpx.wall:.3f} s)",
                speedup >= 2.5,
            )
        )
    if docr and pydo:
        speedup = pydo.wall / docr.wall
        checks.append(
            Target(
                f"docr >= 3x faster than pydo's loop ({where})",
                f"{speedup:.2f}x ({docr.wall:.3f} s vs {pydo.wall:.3f} s)",
                speedup >= 3.0,
            )
        )
    else:
        checks.append(Target(f"docr >= 3x faster than pydo's loop ({where})", "pydo not measured", None))
    if docr and httpx:
        pages = math.ceil(total / per_page)
        per_request = httpx.wall / httpx.requests_per_run
        ideal = ideal_wall(per_request, pages, concurrency)
        checks.append(
            Target(
                f"docr within 1.5x of the ideal for concurrency {concurrency} ({where})",
                f"{docr.wall / ideal:.2f}x (ideal {ideal:.3f} s = {per_request * 1000:.1f} ms x"
                f" {1 + math.ceil((pages - 1) / concurrency)} rounds)",
                docr.wall <= 1.5 * ideal,
            )
        )
    for size in sorted({r.per_page for r in results}):
        docr0, httpx0 = find(results, "docr", 0.0, size), find(results, BASELINE, 0.0, size)
        if docr0 and httpx0 and docr0.cpu_per_request and httpx0.cpu_per_request:
            ratio = docr0.cpu_per_request / httpx0.cpu_per_request
            checks.append(
                Target(
                    f"docr CPU per request within 1.3x of the httpx loop (0 ms, per_page {size})",
                    f"{ratio:.2f}x ({docr0.cpu_per_request * 1000:.2f} ms vs {httpx0.cpu_per_request * 1000:.2f} ms)",
                    ratio <= 1.3,
                )
            )
    imports = {s.label: s for s in startup}
    if "import httpx" in imports:
        base = imports["import httpx"].net_s
        for label in ("import docr", "from docr import Client"):
            if label in imports:
                ratio = imports[label].net_s / base
                checks.append(
                    Target(
                        f"`{label}` within 1.3x of `import httpx`",
                        f"{ratio:.2f}x ({imports[label].net_s * 1000:.0f} ms vs {base * 1000:.0f} ms)",
                        ratio <= 1.3,
                    )
                )
    walks = sorted((m for m in memory if m.contender == "docr"), key=lambda m: m.manifests)
    if len(walks) >= 2:
        small, big = walks[0], walks[-1]
        growth = (big.peak_rss_mb or 0) - (small.peak_rss_mb or 0)
        checks.append(
            Target(
                f"peak RSS flat: {big.manifests:,} vs {small.manifests:,} manifests within 20 MB",
                f"+{growth:.1f} MB ({small.peak_rss_mb:.1f} -> {big.peak_rss_mb:.1f} MB)",
                growth <= 20,
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


def results_table(results: Sequence[Measurement]) -> list[str]:
    lines = [
        "| contender | latency | per_page | wall (median) | speed-up vs httpx loop | requests/run | CPU/request"
        " | runs | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        base = find(results, BASELINE, result.latency, result.per_page)
        speed = f"{base.wall / result.wall:.2f}x" if base else "—"
        cpu = result.cpu_per_request
        cpu_text = "— (wall only)" if cpu is None else f"{cpu * 1000:.2f} ms"
        if cpu is not None and base and base.cpu_per_request:
            cpu_text += f" ({cpu / base.cpu_per_request:.2f}x)"
        rss = "—" if result.peak_rss_mb is None else f"{result.peak_rss_mb:.0f} MB"
        lines.append(
            f"| {result.contender} | {result.latency * 1000:.0f} ms | {result.per_page} | {result.wall:.3f} s"
            f" | {speed} | {result.requests_per_run:g} | {cpu_text} | {len(result.walls)} | {rss} |"
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
    results: Sequence[Measurement],
    startup: Sequence[Startup],
    memory: Sequence[Measurement],
    checks: Sequence[Target],
    notes: Sequence[str],
    total: int,
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
        "## Listing every manifest",
        "",
        *results_table(results),
        "",
        "![wall time against repository size](time_vs_size.png)",
        "",
        "## Start-up (fresh processes, median of 7)",
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
            (size, ideal_wall(wall / math.ceil(size / per_page), math.ceil(size / per_page), concurrency))
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
