"""What the tests of the registry commands share (tests/test_cli_{repos,tags,delete,gc,registry}.py):
the environment, a runner with stdin/stdout/stderr as terminals or pipes, golden files, and a
fake whose garbage collections follow a clock that the client's sleeps move.

Regenerate golden files after an intended change with ``DOCR_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docr.cli import _client, _demo, _filters, main
from docr.testing import FakeRegistry, ManualClock

NOW = dt.datetime(2026, 5, 2, 12, 0, tzinfo=dt.UTC)
SECRET = "dop_v1_" + "5ecre7" * 10
GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("DOCR_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"differs from tests/golden/{name} (DOCR_UPDATE_GOLDEN=1 to rewrite)"


def setup_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A known token, no doctl config, a fixed "now", demo collections that stay in one status."""
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", SECRET)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("DIGITALOCEAN_CONTEXT", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(_filters, "now", lambda: NOW)
    monkeypatch.setattr(_demo, "DEMO_GC_STEP", 3600.0)  # the demo's running collection: an hour per status
    numbers = iter(range(1, 1_000_000))
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(numbers)))  # the fake's collection UUIDs


class Stream(io.StringIO):
    """stdin, stdout or stderr, as a terminal (``tty=True``) or a pipe."""

    def __init__(self, text: str = "", *, tty: bool) -> None:
        super().__init__(text)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)

    def lines(self) -> list[str]:
        return self.out.splitlines()

    def __repr__(self) -> str:
        return f"Run(code={self.code}, out={self.out[:300]!r}, err={self.err[:300]!r})"


def run_docr(*argv: str, stdin: str | None = None, tty: bool = False) -> Run:
    """``docr ARGV``; ``stdin`` given: a terminal holding that input (else a pipe with nothing);
    ``tty``: stdout and stderr are terminals."""
    out, err = Stream(tty=tty), Stream(tty=tty)
    given = Stream(stdin, tty=True) if stdin is not None else Stream(tty=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", given)
        patch.setattr("sys.stdout", out)
        patch.setattr("sys.stderr", err)
        code = main(list(argv))
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def clocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeRegistry, ManualClock]]:
    """A fake on a ManualClock that the CLI's clients move when they sleep: a poll every 10 s
    sees the next status of a collection with 10 s steps, and no test waits for real."""
    clock = ManualClock(NOW)
    build = _client.make_client

    def client(*args: Any, **kwargs: Any) -> Any:
        made = build(*args, **kwargs)
        made._sleep = clock.advance
        return made

    monkeypatch.setattr(_client, "make_client", client)
    with FakeRegistry(clock=clock) as fake:
        fake.gc_step_seconds = 10
        fake.seed_demo("example", now=NOW)
        yield fake, clock
