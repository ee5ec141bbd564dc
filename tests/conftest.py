from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.tally import RELIABILITY_TALLY

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "docr.openapi.yaml"
UPSTREAM_REFERENCE = ROOT.parent / "shared" / "reference" / "do-openapi"


# CI runs the same examples every time (a failure there is reproducible from its log);
# developers' runs explore new ones and keep failures in .hypothesis/.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's real token or API URL; tests that need them set their own."""
    for variable in ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_API_URL"):
        monkeypatch.delenv(variable, raising=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RELIABILITY_TALLY:
        terminalreporter.section("reliability tally")
        for line in RELIABILITY_TALLY:
            terminalreporter.write_line(line)


@pytest.fixture
def cli_retries_without_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients the CLI builds skip their retry waits (the waits are tested in test_retry.py)."""
    from docr.cli import _client

    build = _client.make_client

    def no_sleep_client(*args: Any, **kwargs: Any) -> Any:
        client = build(*args, **kwargs)
        client._sleep = lambda seconds: None
        return client

    monkeypatch.setattr(_client, "make_client", no_sleep_client)
