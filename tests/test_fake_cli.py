"""`python -m docr.testing` (docr.testing._serve): serves until a signal, then exits 0."""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from docr.testing._serve import add_arguments

PATH = "/v2/registries/example/repositories/my%2Frepo/digests"


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "docr.testing", "--port", "0", "--manifests", "30", "--seed", "3", "--token", "T"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line
        yield process, match.group(0)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()


def test_defaults_of_the_options() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert (
        args.host,
        args.port,
        args.manifests,
        args.registry,
        args.repository,
        args.seed,
        args.latency,
        args.token,
        args.oci_port,
        args.demo,
    ) == (
        "127.0.0.1",
        8080,
        500,
        "example",
        "my/repo",
        1,
        0.0,
        None,
        0,
        False,
    )


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_it_serves_until_a_signal_and_exits_0(server: tuple[subprocess.Popen[str], str], stop: signal.Signals) -> None:
    process, url = server
    response = httpx.get(url + PATH, headers={"Authorization": "Bearer T"}, params={"per_page": 200})
    assert response.status_code == 200
    assert response.json()["meta"] == {"total": 30}
    assert httpx.get(url + PATH, headers={"Authorization": "Bearer other"}).status_code == 401
    process.send_signal(stop)
    assert process.wait(timeout=30) == 0
    assert process.stderr is not None
    assert "Traceback" not in process.stderr.read()


def test_demo_serves_the_seeded_registry_and_its_registry_api() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "docr.testing", "--port", "0", "--demo", "--manifests", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        found = re.search(
            r"the demo registry example on (http://127\.0\.0\.1:\d+) \(registry API on (http://[^;]+);", line
        )
        assert found, line
        api, registry = found.groups()
        body = httpx.get(api + "/v2/registries/example/repositoriesV2", headers={"Authorization": "Bearer t"}).json()
        assert [repo["name"] for repo in body["repositories"]] == [
            "api",
            "base/debian",
            "tools/migrate",
            "web/admin",
            "web/frontend",
        ]
        assert httpx.get(registry + "/v2/").status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        if process.stderr is not None:
            process.stderr.close()


def test_a_busy_port_exits_1_with_a_message() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "docr.testing", "--port", str(port), "--manifests", "1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--port", "-1"], "-1 is out of range: must be from 0 to 65535"),
        (["--port", "70000"], "70000 is out of range"),
        (["--manifests", "-5"], "must be 0 or more"),
        (["--manifests", "many"], "'many' is not a whole number"),
        (["--latency", "-0.5"], "must be 0 or more seconds"),
        (["--latency", "nan"], "must be 0 or more seconds"),
    ],
)
def test_bad_options_are_usage_errors(flags: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="fake")
    add_arguments(parser)
    with pytest.raises(SystemExit) as info:
        parser.parse_args(flags)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
