"""Start-up costs, each measured in fresh subprocesses: imports and ``docr --help``.

Import time is the median wall time of ``python -c "import X"`` minus the median of
``python -c pass`` (the interpreter's own start-up), over ``RUNS`` runs taken in interleaved
rounds so that drift in the machine's load hits every command alike. ``python -X importtime``
gives a second opinion from inside the interpreter: the summed cumulative time of the
statement's top-level imports, which excludes interpreter start-up by construction.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

RUNS = 21
ARGPARSE_HELP = "argparse --help"

IMPORTS: dict[str, str] = {
    "import httpx": "import httpx",
    "import docr": "import docr",
    # The target's statement: names load on first use, so the attribute is what imports the client.
    "import docr; docr.Client": "import docr; docr.Client",
    "import docr; docr.AsyncClient": "import docr; docr.AsyncClient",
    "import pydo": "import pydo",
}


@dataclass
class Startup:
    label: str
    raw_s: float  # median wall time of the whole command
    net_s: float  # minus the median of `python -c pass`
    importtime_s: float | None  # from -X importtime (imports only)


def _wall(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def _importtime(statement: str, env: dict[str, str]) -> float:
    """Seconds of the top-level imports `statement` triggers, as ``-X importtime`` reports them."""
    argv = [sys.executable, "-X", "importtime", "-c", statement]
    stderr = subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stderr
    before = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"], check=True, capture_output=True, text=True, env=env
    ).stderr
    return max(0.0, _top_level_us(stderr) - _top_level_us(before)) / 1e6


def _top_level_us(report: str) -> int:
    # "import time:  self [us] | cumulative | imported package"; top-level names are not indented.
    return sum(_top_level(report).values())


def breakdown(statement: str, top: int = 8) -> list[tuple[str, float]]:
    """The top-level modules `statement` imports (beyond `python -c pass`), largest first, in seconds."""
    argv = [sys.executable, "-X", "importtime", "-c", statement]
    before = set(_top_level(subprocess.run([*argv[:3], "-c", "pass"], capture_output=True, text=True).stderr))
    found = _top_level(subprocess.run(argv, check=True, capture_output=True, text=True).stderr)
    items = [(name, us / 1e6) for name, us in found.items() if name not in before]
    return sorted(items, key=lambda item: -item[1])[:top]


def _top_level(report: str) -> dict[str, int]:
    modules: dict[str, int] = {}
    for line in report.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and parts[2].startswith(" ") and parts[2][1:2] != " ":
            modules[parts[2].strip()] = int(parts[1])
    return modules


def _have(module: str) -> bool:
    argv = [sys.executable, "-c", f"import {module}"]
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def measure(docr_script: Path | None) -> list[Startup]:
    """Imports of httpx, docr (bare and as used) and pydo; `docr --help` beside a bare argparse --help."""
    env = dict(os.environ)
    commands: dict[str, list[str]] = {"python -c pass": [sys.executable, "-c", "pass"]}
    for label, statement in IMPORTS.items():
        if label != "import pydo" or _have("pydo"):
            commands[label] = [sys.executable, "-c", statement]
    if docr_script is not None:
        # The floor for any argparse command line's --help: the module and a help page rendered.
        commands[ARGPARSE_HELP] = [sys.executable, "-c", "import argparse; argparse.ArgumentParser().print_help()"]
        commands["docr --help"] = [str(docr_script), "--help"]
    for argv in commands.values():  # warm the OS file cache and write any missing .pyc once
        subprocess.run(argv, check=False, capture_output=True)
    samples: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(RUNS):
        for label, argv in commands.items():
            samples[label].append(_wall(argv, env))
    bare = statistics.median(samples.pop("python -c pass"))
    results = [Startup("python -c pass", bare, 0.0, None)]
    for label, walls in samples.items():
        raw = statistics.median(walls)
        imported = IMPORTS.get(label)
        importtime = statistics.median([_importtime(imported, env) for _ in range(3)]) if imported else None
        results.append(Startup(label, raw, raw - bare, importtime))
    return results
