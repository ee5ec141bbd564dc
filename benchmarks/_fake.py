"""The fake API in its own process, so the benchmark process only ever measures client CPU.

``python benchmarks/_fake.py`` serves ``docr.testing.FakeRegistry`` on a free loopback port,
prints its URL on the first line of stdout, then obeys one command per line on stdin (one
line of answer each); end of stdin stops it::

    generate REPOSITORY COUNT   add COUNT manifests (seed 1) to example/REPOSITORY
    latency SECONDS             seconds added to every request
    clear                       empty the request log
    count [REPOSITORY [PER_PAGE]]  requests since the last clear (for example/REPOSITORY only,
                                   and only those asking for PER_PAGE)

It is ``python -m docr.testing`` plus that control channel: one process serves every
repository a run needs (``my/repo`` for docr and httpx, ``bench`` for pydo, which cannot
send a ``/`` in a name) and counts requests server side, for every client including the CLI.
``FakeProcess`` is the parent's handle on it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import IO, Self
from urllib.parse import parse_qs, unquote

REGISTRY = "example"
SEED = 1


def serve() -> int:
    from docr.testing import FakeRegistry

    with FakeRegistry(port=0) as fake:
        print(fake.url, flush=True)
        for line in sys.stdin:
            command, *args = line.split()
            if command == "generate":
                fake.generate(REGISTRY, args[0], count=int(args[1]), seed=SEED)
                answer = "ok"
            elif command == "latency":
                fake.latency = float(args[0])
                answer = "ok"
            elif command == "clear":
                fake.clear_requests()
                answer = "ok"
            elif command == "count":
                answer = str(sum(1 for record in fake.requests if _matches(record.raw_path, args)))
            else:
                answer = f"error: unknown command {command!r}"
            print(answer, flush=True)
    return 0


def _matches(raw_path: str, args: list[str]) -> bool:
    path, _, query = raw_path.partition("?")
    parts = path.split("/")  # "", "v2", "registries", REGISTRY, "repositories", NAME, ...
    if args and (len(parts) <= 5 or unquote(parts[5]) != args[0]):
        return False
    return len(args) < 2 or parse_qs(query).get("per_page") == [args[1]]


class FakeProcess:
    """Start ``_fake.py`` in a subprocess and drive it; a context manager that stops it."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.url = self._read()
        if not self.url.startswith("http://"):
            self.close()
            raise RuntimeError(f"the fake API did not start: {self.url!r}")
        self.repositories: dict[str, int] = {}

    def _read(self) -> str:
        stdout: IO[str] | None = self._process.stdout
        assert stdout is not None
        return stdout.readline().strip()

    def _ask(self, line: str) -> str:
        stdin: IO[str] | None = self._process.stdin
        assert stdin is not None
        stdin.write(line + "\n")
        stdin.flush()
        answer = self._read()
        if answer.startswith("error") or not answer:
            raise RuntimeError(f"fake API: {line!r} -> {answer!r}")
        return answer

    def generate(self, repository: str, count: int) -> None:
        if self.repositories.get(repository) != count:
            if repository in self.repositories:
                raise ValueError(f"{repository} already holds {self.repositories[repository]} manifests")
            self._ask(f"generate {repository} {count}")
            self.repositories[repository] = count

    def set_latency(self, seconds: float) -> None:
        self._ask(f"latency {seconds}")

    def clear(self) -> None:
        self._ask("clear")

    def count(self, repository: str | None = None, per_page: int | None = None) -> int:
        if repository is None:
            return int(self._ask("count"))
        return int(self._ask(f"count {repository}" + ("" if per_page is None else f" {per_page}")))

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.terminate()
            self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


if __name__ == "__main__":
    sys.exit(serve())
