"""Every CLI command and error path, run with a recognisable token: it never shows up anywhere.

Checked: stdout, stderr, every log record (at DEBUG), and the exception a library user would
catch on the same path (str, repr and formatted traceback).
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import docr
from docr.cli import _client, main
from docr.testing import FakeRegistry

SECRET = "dop_v1_" + "c0ffee" * 10
REF = "example/my/repo"


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli_retries_without_waits: None) -> None:
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", SECRET)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as registry:
        registry.generate("example", "my/repo", count=45, seed=2)
        yield registry


SCENARIOS: dict[str, tuple[Callable[[FakeRegistry], None], list[str], int]] = {
    "table": (lambda f: None, ["-o", "table"], 0),
    "json": (lambda f: None, ["-o", "json"], 0),
    "jsonl-with-retries": (lambda f: f.fail_next(503, count=2), ["-o", "jsonl"], 0),
    "csv": (lambda f: None, ["-o", "csv", "--untagged"], 0),
    "quiet": (lambda f: None, ["-q", "--sort", "size", "--limit", "3"], 0),
    "not-found": (lambda f: None, [], 1),
    "server-error-gives-up": (lambda f: f.fail_next(500, count=10), [], 1),
    "html-502": (lambda f: f.fail_next(502, count=10), [], 1),
    "rate-limited-too-long": (lambda f: f.fail_next(429, retry_after=3600), [], 1),
    "resets": (lambda f: f.fail_next("reset", count=10), [], 1),
    "truncated": (lambda f: f.fail_next("truncated", count=10), [], 1),
    "legacy-endpoint": (lambda f: None, ["--legacy-endpoint"], 0),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_cli_never_shows_the_token(
    name: str, fake: FakeRegistry, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    prepare, flags, expected = SCENARIOS[name]
    prepare(fake)
    ref = "example/no-such-repo" if name == "not-found" else REF
    with caplog.at_level(logging.DEBUG):
        code = main(["-v", "manifests", ref, "--api-url", fake.url, *flags])
    out, err = capsys.readouterr()
    assert code == expected, err
    assert err  # -v always logs something
    for text in [out, err, *(record.getMessage() for record in caplog.records)]:
        assert SECRET not in text


def test_an_echoing_proxy_cannot_make_the_cli_print_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    def proxy(request: httpx.Request) -> httpx.Response:
        page = f"<html>502 Bad Gateway. Debug: {request.headers['authorization']}</html>"
        return httpx.Response(502, text=page, headers={"content-type": "text/html"})

    def client(*args: Any, token: str, base_url: str | None) -> docr.Client:
        made = docr.Client(
            token, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(proxy))
        )
        made._sleep = lambda seconds: None
        return made

    monkeypatch.setattr(_client, "make_client", client)
    with caplog.at_level(logging.DEBUG):
        code = main(["-v", "manifests", REF, "-o", "json"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "502" in err
    assert "[redacted]" in err  # the excerpt of the page is shown, the token in it is not
    for text in [out, err, *(r.getMessage() for r in caplog.records)]:
        assert SECRET not in text


def test_fake_server_command_never_shows_the_token(tmp_path: Path) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "docr", "-v", "fake-server", "--token", SECRET, "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as server:
        try:
            _wait_for(port)
            answer = httpx.get(
                f"http://127.0.0.1:{port}/v2/registry/example/repositories/my%2Frepo/digests",
                headers={"Authorization": f"Bearer {SECRET}"},
            )
            assert answer.status_code == 200
        finally:
            server.send_signal(signal.SIGINT)
            out, err = server.communicate(timeout=10)
    assert f"127.0.0.1:{port}" in err
    assert SECRET not in out + err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the fake server did not start")


def test_a_rejected_token_is_never_echoed(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    with FakeRegistry(token="the-only-valid-token") as fake, caplog.at_level(logging.DEBUG):
        fake.generate("example", "my/repo", count=3, seed=1)
        code = main(["-v", "manifests", REF, "--api-url", fake.url])
    out, err = capsys.readouterr()
    assert code == 1
    assert "401" in err
    for text in [out, err, *(r.getMessage() for r in caplog.records)]:
        assert SECRET not in text


# -- the registry commands ------------------------------------------------------------------------

REGISTRY_SCENARIOS: dict[str, tuple[Callable[[FakeRegistry], object], list[str], int]] = {
    "repos": (lambda f: None, ["repos", "example", "-o", "table"], 0),
    "repos-unknown": (lambda f: None, ["repos", "nope"], 1),
    "tags-with-retries": (lambda f: f.fail_next(503, count=2), ["tags", REF, "-o", "csv"], 0),
    "registry": (lambda f: None, ["registry", "example", "-o", "table"], 0),
    "registry-denied": (lambda f: f.fail_next(403, count=1), ["registry", "example"], 1),
    "delete-manifest": (lambda f: None, ["delete", "DIGEST", "--yes"], 0),
    "delete-tag-lost-answer": (lambda f: f.fail_next("lost", operation="delete_tag"), ["delete", "TAG", "--yes"], 0),
    "delete-unauthorized": (lambda f: f.fail_next(401, count=1), ["delete", "TAG", "--yes"], 1),
    "gc-start-wait": (lambda f: None, ["gc", "start", "example", "--wait", "--poll", "0.01"], 0),
    "gc-start-conflict": (lambda f: _running(f), ["gc", "start", "example"], 1),
    "gc-status": (lambda f: _running(f), ["gc", "status", "example", "-o", "table"], 0),
    "gc-list": (lambda f: _running(f), ["gc", "list", "example", "-o", "jsonl"], 0),
    "gc-cancel": (lambda f: _running(f), ["gc", "cancel", "example"], 0),
}


def _running(fake: FakeRegistry) -> None:
    fake.gc_step_seconds = 3600
    with docr.Client("another-token", base_url=fake.url) as client:
        client.start_garbage_collection("example")


@pytest.mark.parametrize("name", sorted(REGISTRY_SCENARIOS))
def test_registry_commands_never_show_the_token(
    name: str, fake: FakeRegistry, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    prepare, argv, expected = REGISTRY_SCENARIOS[name]
    fake.gc_step_seconds = 0
    tagged = next(m for m in fake.manifests("example", "my/repo") if m.get("tags"))
    prepare(fake)
    argv = [
        f"{REF}@{tagged['digest']}" if arg == "DIGEST" else f"{REF}:{tagged['tags'][0]}" if arg == "TAG" else arg
        for arg in argv
    ]
    with caplog.at_level(logging.DEBUG):
        code = main(["-v", *argv, "--api-url", fake.url])
    out, err = capsys.readouterr()
    assert code == expected, err
    assert "docr: debug: " in err  # -v logs each request...
    for text in [out, err, *(record.getMessage() for record in caplog.records)]:
        assert SECRET not in text  # ...never the token
