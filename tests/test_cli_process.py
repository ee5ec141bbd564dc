"""``docr`` as users run it: real subprocesses of the console script. Fast start, exit codes,
``docr fake-server`` serving ``docr manifests``, a closed pipe and Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from docr.testing import FakeRegistry

BIN = Path(sys.executable).parent
DOCR = str(BIN / "docr")
SECRET = "dop_v1_" + "s3cr3t" * 10


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment without any DigitalOcean setting, nor the user's doctl config."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGITALOCEAN_")}
    clean["XDG_CONFIG_HOME"] = str(tmp_path)
    clean.pop("COLUMNS", None)
    return clean


def docr(*args: str, env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DOCR, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_help_imports_nothing_heavy(env: dict[str, str]) -> None:
    script = """
import contextlib, io, sys
from docr.cli import main
from docr.cli._commands import COMMANDS
modules = {command.module for command in COMMANDS.values()}
with contextlib.redirect_stdout(io.StringIO()) as out:
    codes = [main(["--help"])]
    commands = sorted(set(sys.modules) & modules)
    listed = [name for name in COMMANDS if f"    {name} " in out.getvalue()]
    codes += [main([name, "--help"]) for name in COMMANDS if name != "fake-server"]
    codes += [main(["gc", action, "--help"]) for action in ("start", "status", "list", "cancel", "wait")]
    codes += [main(["--version"])]
heavy = ("httpx", "rich", "yaml", "docr_api", "docr._client", "docr._errors", "docr.testing")
print(set(codes), commands, sorted(name for name in heavy if name in sys.modules), "usage: docr" in out.getvalue())
print(listed == list(COMMANDS), sorted(COMMANDS))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30, check=True
    )
    first, second = result.stdout.strip().splitlines()
    assert first == "{0} [] [] True"  # `docr --help` imports no command's module; no help imports a heavy one
    assert second.startswith("True ")  # and lists every command
    for name in ("manifests", "repos", "tags", "delete", "gc", "registry", "fake-server"):
        assert f"'{name}'" in second


WITHOUT_EXTRA = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None  # as if the 'cli' extra (rich, PyYAML) were not installed
del sys.argv[1]
from docr.cli import main
sys.exit(main())
"""
EXTRA_LINE = "docr: the command line needs the 'cli' extra: pip install 'docr[cli]'\n"


def without(modules: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", WITHOUT_EXTRA, modules, *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize(
    "args",
    [
        ["manifests", "example/my/repo", "--demo"],
        ["manifests", "example/my/repo", "-o", "json"],
        ["-v", "manifests", "example/my/repo", "--demo", "-q"],
    ],
)
def test_without_the_cli_extra_one_line_names_it(env: dict[str, str], args: list[str]) -> None:
    env["DIGITALOCEAN_TOKEN"] = SECRET
    for blocked in ("rich,yaml", "rich", "yaml"):
        result = without(blocked, *args, env=env)
        assert (result.returncode, result.stdout, result.stderr) == (2, "", EXTRA_LINE), blocked


def test_a_broken_cli_extra_is_named_too(env: dict[str, str]) -> None:
    """rich is found but part of it cannot be imported: the same line, not a traceback."""
    result = without("rich.table", "manifests", "example/my/repo", "--demo", "-o", "table", env=env)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", EXTRA_LINE)


def test_help_version_and_the_fake_server_work_without_the_cli_extra(env: dict[str, str]) -> None:
    assert without("rich,yaml", "--version", env=env).stdout.startswith("docr ")
    for args in (["--help"], ["manifests", "--help"], ["fake-server", "--help"]):
        result = without("rich,yaml", *args, env=env)
        assert (result.returncode, result.stderr) == (0, ""), args
        assert result.stdout.startswith("usage: docr")


def test_console_script_exits_with_mains_code(env: dict[str, str]) -> None:
    usage = docr("manifests", "registry.digitalocean.com/example/my/repo:v1", env=env)
    assert (usage.returncode, usage.stdout) == (2, "")
    assert usage.stderr.startswith("docr: 'registry.digitalocean.com/example/my/repo:v1' names a tag (:v1)")
    assert usage.stderr.count("\n") == 1
    no_token = docr("manifests", "example/my/repo", env=env)
    assert no_token.returncode == 2
    assert "DIGITALOCEAN_TOKEN" in no_token.stderr
    assert "--demo" in no_token.stderr


def test_make_demo(env: dict[str, str]) -> None:
    """What `make demo` runs, with no account and no token."""
    result = docr("manifests", "registry.digitalocean.com/example/my/repo", "--demo", "--limit", "15", env=env)
    assert result.returncode == 0
    assert len(json.loads(result.stdout)) == 15  # stdout is a pipe here: json
    assert result.stderr.startswith("docr: demo: ")
    table = docr(
        "manifests", "registry.digitalocean.com/example/my/repo", "--demo", "--limit", "15", "-o", "table", env=env
    )
    lines = table.stdout.splitlines()
    assert lines[0].startswith("Digest ")
    assert lines[-1].startswith("15 of 60 manifests, ")
    assert len(lines) == 18


def test_every_command_of_make_demo_runs_without_an_account(env: dict[str, str]) -> None:
    """The demo recipe as the Makefile has it: listing, usage, a prune's dry run; no token."""
    import shlex

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    commands = [shlex.split(line.strip())[1:] for line in recipe if "/docr " in line]
    assert [c[0] for c in commands] == ["manifests", "usage", "prune"]
    firsts = []
    for command in commands:
        result = docr(*command, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stderr.startswith("docr: demo: ")
        firsts.append(result.stdout.splitlines()[0].split()[0])
    assert firsts == ["Digest", "Repository", "example/web/frontend:"]


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[str]:
    """``docr fake-server`` on a free port, with 3000 generated manifests; yields its URL."""
    process = subprocess.Popen(
        [DOCR, "fake-server", "--port", "0", "--manifests", "3000", "--seed", "7"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"on (http://127\.0\.0\.1:\d+) ", line)
        assert match, f"no URL in {line!r}"
        url = match.group(1)
        _wait_until_answering(url)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=10) == 0  # Ctrl-C is how a server's run ends
        finally:
            if process.poll() is None:
                process.kill()
            if process.stderr is not None:
                process.stderr.close()


def _wait_until_answering(url: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            urllib.request.urlopen(f"{url}/v2/registry/example/repositories/my%2Frepo/digests", timeout=1)
        except urllib.error.HTTPError as error:
            if error.code == 401:  # answering: it wants a token
                return
            raise
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_fake_server_serves_docr_manifests(server: str, env: dict[str, str]) -> None:
    env["DIGITALOCEAN_TOKEN"] = SECRET
    result = docr("manifests", "example/my/repo", "-o", "json", "--api-url", server, env=env)
    assert (result.returncode, result.stderr) == (0, "")
    manifests = json.loads(result.stdout)
    assert len(manifests) == 3000
    assert len({m["digest"] for m in manifests}) == 3000
    assert SECRET not in result.stdout + result.stderr


def test_a_closed_pipe_ends_quietly(server: str, env: dict[str, str]) -> None:
    """`docr manifests ... -q | head -1`: no BrokenPipeError traceback."""
    env["DIGITALOCEAN_TOKEN"] = SECRET
    process = subprocess.Popen(
        [DOCR, "manifests", "example/my/repo", "-q", "--per-page", "50", "--api-url", server],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    assert first.startswith("sha256:")
    assert process.wait(timeout=30) == 0
    assert process.stderr.read() == ""
    process.stderr.close()


def test_ctrl_c_during_a_listing_exits_130_at_once_without_a_traceback(env: dict[str, str]) -> None:
    """Even with requests in flight that would take seconds more to answer."""
    env["DIGITALOCEAN_TOKEN"] = SECRET
    with FakeRegistry(latency=5) as fake:
        fake.generate("example", "my/repo", count=100, seed=1)
        process = subprocess.Popen(
            [DOCR, "manifests", "example/my/repo", "--per-page", "1", "-o", "json", "--api-url", fake.url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while not fake.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fake.requests, "the listing never started"
        time.sleep(0.2)  # past start-up: the listing is waiting for its first answers
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
        took = time.monotonic() - interrupted
    assert process.returncode == 130
    assert took < 3
    assert (out, err) == ("", "")
