"""Registry-wide benchmarks (issue 13): ``docr.usage`` and a prune-like walk, at the rate limit.

``.venv/bin/python benchmarks/registry.py [--quick] [--time-scale N] [--prune-time-scale N]`` prints each target with
PASS/FAIL and its numbers, and writes ``benchmarks/results/registry.md`` (not with ``--quick``).
``main()`` returns the report's text, so ``run.py`` can call it too.

The fake (``docr.testing.FakeRegistry``) runs in its own process (``--serve``, a line protocol on
stdin), so this process spends only the client's CPU; registries are generated there with
layers shared across repositories (``generate_repositories``). Targets:

1. ``docr.usage`` of 200 repositories x 200 manifests with the fake's limiter on (250 a minute
   and 5,000 an hour, a minute lasting 60 / N seconds; the client paced just under them, see
   ``HEADROOM``): wall time within 1.1x of requests / rate, no 429, every manifest counted once;
2. the same walk deleting 2,000 manifests (10 untagged per repository, ``client.delete_manifest``
   as follow-ups of ``walk_registry``, as ``docr prune`` does): the same three checks; and, for
   a usage the rate binds, the usage of 1. with 20 manifests per page (2,000+ requests);
3. no limiter, 20 ms latency: ``docr.usage`` of 50 x 400 within 1.25x of the ideal for the
   client's concurrency: t x (1 + ceil(pages / concurrency)), t the measured time of one
   200-manifest page request (the repositories page first, then rounds of pages);
4. peak RSS of ``docr.usage`` over 1,000 x 100 within 50 MB of that over 10 x 100 (each in a
   fresh process).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import math
import platform
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "registry.md"
PER_MINUTE, PER_HOUR = 250, 5000
LATENCY = 0.02
DELETES_PER_REPOSITORY = 10
# The client paces itself this many requests a minute under the fake's limit. The budget books
# each request a margin of 2% of the window after the one 250 before it: 1.2 s at real speed, but
# 0.08 s with a minute lasting 4 s, less than a busy 2-core machine's stalls between a booking and
# the request's arrival (measured: up to ~0.1 s), which then makes a 429 now and then. 2% fewer
# requests per window stand in for the margin the compressed clock took away.
HEADROOM = 5


# --- the fake, in its own process -------------------------------------------------------------


def serve() -> int:
    """``--serve``: a FakeRegistry obeying one JSON command per stdin line, answering one JSON line."""
    from docr.testing import FakeRegistry

    with FakeRegistry() as fake:
        print(json.dumps({"url": fake.url, "oci_url": fake.oci_url}), flush=True)
        for line in sys.stdin:
            command = json.loads(line)
            name = command.pop("command")
            if name == "generate":
                answer: Any = len(fake.generate_repositories(**command, seed=1, shared_layers=True))
                fake.storage_usage_bytes(command["registry"])  # the fake's blob sums, cached before any timing
                # Hundreds of thousands of stored entries would make each full collection of this
                # process a pause of tens of milliseconds in the middle of answers: keep them out.
                gc.freeze()
            elif name == "limit":
                fake.rate_limit(**command) if command else fake.rate_limit(None)
                answer = "ok"
            elif name == "latency":
                fake.latency = command["seconds"]
                answer = "ok"
            elif name == "clear":
                fake.clear_requests()
                answer = "ok"
            elif name == "stats":
                registry = command["registry"]
                records = fake.requests
                answer = {
                    "requests": sum(1 for record in records if record.api == "do"),
                    "deletes": sum(1 for r in records if r.operation == "delete_manifest" and r.status == 204),
                    "rate_limited": fake.rate_limited,
                    "max_in_flight": fake.max_in_flight,
                    "manifests": sum(len(fake.manifests(registry, name)) for name in fake.repositories(registry)),
                }
            else:
                answer = f"error: unknown command {name!r}"
            print(json.dumps(answer), flush=True)
    return 0


class Fake:
    """The parent's handle on the ``--serve`` process."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        urls = json.loads(self._read())
        self.url, self.oci_url = urls["url"], urls["oci_url"]

    def _read(self) -> str:
        stdout: IO[str] | None = self._process.stdout
        assert stdout is not None
        return stdout.readline()

    def ask(self, command: str, **arguments: Any) -> Any:
        stdin: IO[str] | None = self._process.stdin
        assert stdin is not None
        stdin.write(json.dumps({"command": command, **arguments}) + "\n")
        stdin.flush()
        answer = json.loads(self._read())
        if isinstance(answer, str) and answer.startswith("error"):
            raise RuntimeError(answer)
        return answer

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)
        if self._process.stdout is not None:
            self._process.stdout.close()


# --- measurements -----------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    measured: str
    passed: bool

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"


def _client(fake: Fake, *, time_scale: float | None = None, concurrency: int = 4) -> Any:
    import docr

    # Without a limiter (time_scale None) the client must not pace itself to the real limits either.
    limits = (
        docr.RateLimits(per_minute=10**6, per_hour=10**7)
        if time_scale is None
        else docr.RateLimits(PER_MINUTE - HEADROOM, PER_HOUR, time_scale)
    )
    # A fresh token per run: the fake counts requests per token, as DigitalOcean does.
    return docr.Client(
        f"bench-{uuid.uuid4().hex}",
        base_url=fake.url,
        oci_base_url=fake.oci_url,
        rate_limits=limits,
        concurrency=concurrency,
    )


def rate_limited_usage(
    fake: Fake, registry: str, repositories: int, count: int, time_scale: float, per_page: int = 200
) -> Target:
    from docr._usage import measure

    fake.ask("limit", per_minute=PER_MINUTE, per_hour=PER_HOUR, time_scale=time_scale)
    fake.ask("clear")
    with _client(fake, time_scale=time_scale) as client:
        started = time.perf_counter()
        report = measure(client, registry, per_page=per_page)
        wall = time.perf_counter() - started
    stats = fake.ask("stats", registry=registry)
    fake.ask("limit")
    ideal = stats["requests"] / (PER_MINUTE / (60.0 / time_scale))
    exact = report.totals.manifests == stats["manifests"] == repositories * count
    passed = wall <= 1.1 * ideal and stats["rate_limited"] == 0 and exact
    pages = "" if per_page == 200 else f", {per_page} per page"
    return Target(
        f"usage {repositories} x {count}{pages}, limiter on (a minute = {60 / time_scale:g} s): within 1.1x of"
        " requests / rate, no 429, every manifest once",
        f"{wall:.2f} s = {wall / ideal:.2f}x of {stats['requests']} requests / rate = {ideal:.2f} s;"
        f" {stats['rate_limited']} 429s; {report.totals.manifests:,} manifests counted of {stats['manifests']:,}",
        passed,
    )


def rate_limited_prune(fake: Fake, registry: str, repositories: int, count: int, time_scale: float) -> Target:
    from docr._registry_walk import FollowUp, RepositoryManifests, walk_registry

    fake.ask("limit", per_minute=PER_MINUTE, per_hour=PER_HOUR, time_scale=time_scale)
    fake.ask("clear")
    before = fake.ask("stats", registry=registry)["manifests"]
    asked: list[str] = []
    deleted: list[str] = []
    with _client(fake, time_scale=time_scale) as client:

        def on_repository(repository: RepositoryManifests) -> list[FollowUp]:
            doomed = [m.digest for m in repository.manifests if not m.tags and m.digest][:DELETES_PER_REPOSITORY]
            asked.extend(doomed)
            return [
                FollowUp(
                    functools.partial(client.delete_manifest, registry, repository.name, digest),
                    functools.partial(lambda digest, _: deleted.append(digest), digest),
                )
                for digest in doomed
            ]

        started = time.perf_counter()
        stats_walk = walk_registry(client, registry, on_repository=on_repository)
        wall = time.perf_counter() - started
    stats = fake.ask("stats", registry=registry)
    fake.ask("limit")
    ideal = stats["requests"] / (PER_MINUTE / (60.0 / time_scale))
    wanted = len(asked)
    exact = (
        sorted(deleted) == sorted(asked)
        and len(deleted) == stats["deletes"] == wanted
        and before - stats["manifests"] == wanted
        and stats_walk.manifests == before
    )
    passed = wall <= 1.1 * ideal and stats["rate_limited"] == 0 and exact
    return Target(
        f"prune walk deleting {wanted:,} of {repositories} x {count}, limiter on (a minute = {60 / time_scale:g} s):"
        " within 1.1x of requests / rate,"
        " no 429, every manifest once",
        f"{wall:.2f} s = {wall / ideal:.2f}x of {stats['requests']:,} requests / rate = {ideal:.2f} s;"
        f" {stats['rate_limited']} 429s; {stats['deletes']:,} deleted; {stats_walk.manifests:,} manifests walked"
        f" of {before:,}",
        passed,
    )


def latency_usage(fake: Fake, registry: str, repositories: int, count: int, concurrency: int) -> Target:
    import httpx

    import docr

    fake.ask("latency", seconds=LATENCY)
    per_page = 200
    with httpx.Client(base_url=fake.url, headers={"authorization": "Bearer bench"}) as http:
        path = f"/v2/registries/{registry}/repositories/team-00%2Fservice-0000/digests"
        http.get(path, params={"per_page": per_page})  # warm the connection
        samples = 10
        started = time.perf_counter()
        for _ in range(samples):
            http.get(path, params={"per_page": per_page}).json()
        one = (time.perf_counter() - started) / samples
    pages = repositories * math.ceil(count / per_page)
    rounds = 1 + math.ceil(pages / concurrency)
    ideal = one * rounds
    from docr._registry_walk import walk_registry

    def timed(run: Callable[[Any], object]) -> float:
        with _client(fake, concurrency=concurrency) as client:
            started = time.perf_counter()
            run(client)
            return time.perf_counter() - started

    # Medians of three: the machine is shared, and one run is 26 round trips.
    walk_alone = statistics.median(
        timed(lambda client: walk_registry(client, registry, on_repository=lambda repository: None)) for _ in range(3)
    )
    reports: list[Any] = []
    walls = [timed(lambda client: reports.append(docr.usage(client, registry))) for _ in range(3)]
    wall, report = statistics.median(walls), reports[-1]
    fake.ask("clear")
    timed(lambda client: docr.usage(client, registry))
    stats = fake.ask("stats", registry=registry)
    fake.ask("latency", seconds=0.0)
    passed = wall <= 1.25 * ideal and report.totals.manifests == repositories * count
    return Target(
        f"usage {repositories} x {count}, {LATENCY * 1000:g} ms latency, concurrency {concurrency}:"
        " within 1.25x of the ideal",
        f"{wall:.3f} s (median of 3) = {wall / ideal:.2f}x of ideal {ideal:.3f} s"
        f" = {one * 1000:.1f} ms x {rounds} rounds"
        f" ({stats['requests']} requests, at most {stats['max_in_flight']} in flight); the walk alone, without"
        f" usage's per-repository work: {walk_alone:.3f} s = {walk_alone / ideal:.2f}x",
        passed,
    )


def memory_worker(spec: str) -> int:
    """``--memory SPEC``: run docr.usage once in this fresh process, print its peak RSS (JSON)."""
    import docr

    settings = json.loads(spec)
    # No limiter here: the client's budget (250 a minute by default) would pace 1,000 repositories to 4 minutes.
    unlimited = docr.RateLimits(per_minute=10**6, per_hour=10**7)
    with docr.Client(
        settings["token"], base_url=settings["url"], oci_base_url=settings["oci_url"], rate_limits=unlimited
    ) as client:
        started = time.perf_counter()
        report = docr.usage(client, settings["registry"])
        wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"peak_mb": peak, "manifests": report.totals.manifests, "wall": wall}))
    return 0


def memory(fake: Fake, small: str, big: str, sizes: tuple[int, int], count: int) -> Target:
    results = []
    for registry in (small, big):
        spec = {"url": fake.url, "oci_url": fake.oci_url, "token": f"bench-{uuid.uuid4().hex}", "registry": registry}
        argv = [sys.executable, str(Path(__file__).resolve()), "--memory", json.dumps(spec)]
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    growth = results[1]["peak_mb"] - results[0]["peak_mb"]
    exact = results[0]["manifests"] == sizes[0] * count and results[1]["manifests"] == sizes[1] * count
    return Target(
        f"peak RSS of usage {sizes[1]:,} x {count} within 50 MB of {sizes[0]} x {count}",
        f"+{growth:.1f} MB ({results[0]['peak_mb']:.1f} -> {results[1]['peak_mb']:.1f} MB;"
        f" {results[1]['manifests']:,} manifests in {results[1]['wall']:.1f} s)",
        growth <= 50 and exact,
    )


# --- the run ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None, *, say: Callable[[str], None] = print) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small registries, nothing written (a smoke test)")
    parser.add_argument(
        "--time-scale", type=float, default=10.0, help="how much faster the clock runs for usage (10: a minute in 6 s)"
    )
    parser.add_argument(
        "--prune-time-scale", type=float, default=15.0, help="the same for 2,000+ requests (15: a minute in 4 s)"
    )
    args = parser.parse_args(argv)
    scale, prune_scale = args.time_scale, args.prune_time_scale
    big = (20, 50) if args.quick else (200, 200)
    wide = (10, 400) if args.quick else (50, 400)
    mem = (10, 100 if args.quick else 1000)
    fake = Fake()
    targets: list[Target] = []
    try:
        say("generating registries in the fake...")
        fake.ask("generate", registry="rate", repositories=big[0], count=big[1])
        fake.ask("generate", registry="prune", repositories=big[0], count=big[1])
        fake.ask("generate", registry="wide", repositories=wide[0], count=wide[1])
        fake.ask("generate", registry="mem-small", repositories=mem[0], count=100)
        fake.ask("generate", registry="mem-big", repositories=mem[1], count=100)
        fake.ask("generate", registry="warm", repositories=5, count=20)
        import docr

        with _client(fake) as client:
            docr.usage(client, "warm")  # imports and lazily built code, before anything is timed
        runs: list[Callable[[], Target]] = [
            lambda: rate_limited_usage(fake, "rate", *big, scale),
            lambda: rate_limited_prune(fake, "prune", *big, prune_scale),
            lambda: rate_limited_usage(fake, "rate", *big, prune_scale, per_page=20),
            lambda: latency_usage(fake, "wide", *wide, concurrency=4),
            lambda: memory(fake, "mem-small", "mem-big", mem, 100),
        ]
        for run in runs:
            target = run()
            say(f"{target.verdict}  {target.name}: {target.measured}")
            targets.append(target)
    finally:
        fake.close()
    report = _report(targets)
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(report)
        say(f"wrote {RESULTS.relative_to(HERE.parent)}")
    return report


def _report(targets: list[Target]) -> str:
    machine = (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.processor() or platform.machine()};"
        f" Python {platform.python_version()}; the fake in its own process on 127.0.0.1"
    )
    lines = [
        "# Registry-wide benchmarks (`benchmarks/registry.py`)",
        "",
        f"Machine: {machine}. Limits: {PER_MINUTE}/min and {PER_HOUR:,}/h on a faster clock, enforced by the fake;"
        f" the client paces itself to {PER_MINUTE - HEADROOM}/min on the same clock (see HEADROOM in the script:"
        " the budget's 2% margin shrinks with the clock, this machine's stalls do not). Ideals are computed for"
        f" {PER_MINUTE}/min. Requests are counted by the fake (the DigitalOcean API only; manifest bodies go to"
        " the registry, which is not rate-limited). Usage runs on a slower clock than the prune walk: it parses"
        " 40,000 manifests, and on a faster clock this machine's CPU, not the rate, would be the limit.",
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
        *(f"| {t.name} | {t.measured} | **{t.verdict}** |" for t in targets),
        "",
        "At 20 ms the walk alone is the scheduler's own figure (every slot kept busy across repositories);"
        " `docr.usage` adds its per-repository work on the same core (blob keys and sets, the retention"
        " planner under the default policy), about as much CPU again as parsing the pages, so with 4"
        " requests of 200 manifests per 26 ms round it is bound by this machine's CPU, not by round trips."
        " Timings vary with the load of the shared machine; rerun before comparing.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        sys.exit(serve())
    if sys.argv[1:2] == ["--memory"]:
        sys.exit(memory_worker(sys.argv[2]))
    main()
