"""The composite GitHub Action (``action.yml``): its scripts, run with bash as the runner would.

Each step's ``run:`` is executed with the step's ``env:`` (``${{ inputs.X }}`` and
``${{ github.action_path }}`` filled in as the runner fills them), ``GITHUB_OUTPUT`` and
``GITHUB_PATH`` pointing at files, against the fake API or stubs of ``python3`` and ``docr``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import docr
from docr.testing import FakeRegistry

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = {step["name"]: step for step in ACTION["runs"]["steps"]}
SECRET = "dop_v1_" + "ac710400" * 8
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")

EXPRESSION = re.compile(r"\$\{\{\s*(inputs\.[\w-]+|github\.action_path)\s*\}\}")


class Ran:
    def __init__(self, result: subprocess.CompletedProcess[str], outputs: str, paths: str) -> None:
        self.code, self.out, self.err = result.returncode, result.stdout, result.stderr
        self.outputs, self.paths = outputs, paths


def run_step(name: str, tmp_path: Path, path: list[Path], **inputs: str) -> Ran:
    step = STEPS[name]
    given = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    given.update({key.replace("_", "-"): value for key, value in inputs.items()})
    values = {f"inputs.{key}": value for key, value in given.items()} | {"github.action_path": str(ROOT)}
    env = {key: EXPRESSION.sub(lambda m: values[m.group(1)], str(value)) for key, value in step["env"].items()}
    outputs, paths = tmp_path / "github_output", tmp_path / "github_path"
    outputs.touch()
    paths.touch()
    env |= {
        "PATH": os.pathsep.join([*map(str, path), "/usr/bin", "/bin"]),
        "HOME": str(tmp_path),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_PATH": str(paths),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }
    env |= {key: os.environ[key] for key in ("DIGITALOCEAN_API_URL", "DOCR_REGISTRY_URL") if key in os.environ}
    result = subprocess.run(
        [BASH or "bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return Ran(result, outputs.read_text(), paths.read_text())


def stub(directory: Path, name: str, script: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return directory


# --- the file itself ---------------------------------------------------------------------------


def test_inputs_and_outputs() -> None:
    assert set(ACTION["inputs"]) >= {"registry", "policy", "apply", "gc", "token"}
    assert ACTION["inputs"]["apply"]["default"] == "false"  # a dry run unless asked
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["outputs"]["summary"]["value"] == "${{ steps.prune.outputs.summary }}"


def test_no_input_is_spliced_into_a_script_and_nothing_traces_commands() -> None:
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step["run"], step["name"]  # inputs arrive as environment variables
        assert "set -x" not in step["run"] and "xtrace" not in step["run"]
        assert step["shell"] == "bash"
    token_uses = [key for step in ACTION["runs"]["steps"] for key, v in step["env"].items() if "inputs.token" in v]
    assert token_uses == ["DIGITALOCEAN_TOKEN"]


# --- install -------------------------------------------------------------------------------------


PYTHON_STUB = """\
# `python3 -m venv DIR` makes DIR/bin/python, a stub that logs its arguments.
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/bin/sh\\necho "$@" >> "%s/pip.log"\\n' "$3" > "$3/bin/python"
  chmod +x "$3/bin/python"
  exit 0
fi
exit 9
"""


@pytest.mark.parametrize(
    ("inputs", "spec"),
    [
        ({}, "docr[cli]"),
        ({"docr_version": "0.3.0"}, "docr[cli]==0.3.0"),
        ({"install": "repo"}, f"{ROOT}[cli]"),
    ],
)
def test_install_puts_a_venvs_docr_on_the_path(tmp_path: Path, inputs: dict[str, str], spec: str) -> None:
    bin_dir = stub(tmp_path / "stubs", "python3", PYTHON_STUB)
    ran = run_step("Install docr", tmp_path, [bin_dir], **inputs)
    assert ran.code == 0, ran.err
    venv = tmp_path / "docr-venv"
    assert (venv / "pip.log").read_text() == f"-m pip install --quiet --disable-pip-version-check {spec}\n"
    assert ran.paths == f"{venv}/bin\n"


def test_install_none_needs_docr_already_there(tmp_path: Path) -> None:
    assert run_step("Install docr", tmp_path, [Path(sys.executable).parent], install="none").code == 0
    missing = run_step("Install docr", tmp_path, [tmp_path / "empty"], install="none")
    assert missing.code == 1 and "no docr on PATH" in missing.out
    assert run_step("Install docr", tmp_path, [], install="conda").code == 1


# --- prune ---------------------------------------------------------------------------------------


DOCR_STUB = """\
# A docr with a prune command: logs its arguments, answers a multi-line JSON summary.
if [ "$2" = "--help" ]; then exit 0; fi
echo "$@" >> "$HOME/docr.log"
printf '{\\n  "registry": "%s",\\n  "deleted": 3\\n}\\n' "$2"
"""


@pytest.mark.parametrize(
    ("apply", "gc", "flags"),
    [
        ("false", "false", ""),
        ("true", "false", " --apply --yes"),
        ("true", "true", " --apply --yes --gc"),
        ("yes", "true", ""),  # only "true" applies; --gc only with --apply
    ],
)
def test_prune_runs_with_the_inputs_and_sets_a_one_line_summary(
    tmp_path: Path, apply: str, gc: str, flags: str
) -> None:
    bin_dir = stub(tmp_path / "stubs", "docr", DOCR_STUB)
    ran = run_step(
        "Prune",
        tmp_path,
        [bin_dir, Path(sys.executable).parent],
        registry="example",
        policy="retention toml",
        apply=apply,
        gc=gc,
        token=SECRET,
        extra_args="--repos web/*",
    )
    assert ran.code == 0, ran.err
    assert (
        (tmp_path / "docr.log").read_text()
        == f"prune example --policy retention toml -o json --plan-out {tmp_path}/docr-plan.json{flags} --repos web/*\n"
    )
    assert ran.out == '{"registry":"example","deleted":3}\n'  # one line a CI log can parse
    assert ran.outputs == f'plan={tmp_path}/docr-plan.json\nsummary={{"registry":"example","deleted":3}}\n'
    assert SECRET not in ran.out + ran.err + ran.outputs


def test_an_empty_token_is_refused_before_docr_runs(tmp_path: Path) -> None:
    bin_dir = stub(tmp_path / "stubs", "docr", DOCR_STUB)
    ran = run_step("Prune", tmp_path, [bin_dir], registry="example", policy="p.toml", token="")
    assert ran.code == 1 and "token input is empty" in ran.out
    assert not (tmp_path / "docr.log").exists()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Any:
    with FakeRegistry() as fake:
        fake.seed_demo("example")
        fake.gc_step_seconds = 0
        monkeypatch.setenv("DIGITALOCEAN_API_URL", fake.url)
        monkeypatch.setenv("DOCR_REGISTRY_URL", fake.oci_url)
        yield fake


def manifests(fake: FakeRegistry) -> set[str]:
    with docr.Client("t", base_url=fake.url) as client:
        return {
            f"{repo.name}@{m.digest}"
            for repo in client.iter_repositories("example")
            for m in client.iter_manifests("example", repo.name)
        }


def test_a_dry_run_then_an_apply_against_the_fake(tmp_path: Path, fake: FakeRegistry) -> None:
    policy = tmp_path / "retention.toml"
    policy.write_text('[[policy]]\nrepositories = "*"\ngrace = "1d"\n')
    docr_bin = [Path(sys.executable).parent]
    before = manifests(fake)

    dry = run_step("Prune", tmp_path, docr_bin, registry="example", policy=str(policy), token=SECRET)
    assert dry.code == 0, dry.err
    summary = json.loads(dry.out.splitlines()[-1])
    plans = json.loads((tmp_path / "docr-plan.json").read_text())
    candidates = {f"{p['repository']}@{c['digest']}" for p in plans for c in p["candidates"]}
    assert summary["dry_run"] is True and summary["deleted"] == 0
    assert summary["candidates"] == len(candidates) > 0
    assert summary["freed_bytes_expected"] == sum(p["summary"]["freed_bytes"] for p in plans) > 0
    assert dry.outputs == f"plan={tmp_path / 'docr-plan.json'}\nsummary={dry.out.splitlines()[-1]}\n"
    assert manifests(fake) == before  # a dry run deletes nothing

    applied = run_step(
        "Prune", tmp_path, docr_bin, registry="example", policy=str(policy), token=SECRET, apply="true", gc="true"
    )
    assert applied.code == 0, applied.err
    summary = json.loads(applied.out.splitlines()[-1])
    assert summary["deleted"] == len(candidates) and summary["failed"] == 0
    assert summary["gc"]["status"] == "succeeded"
    assert summary["gc"]["freed_bytes"] == summary["freed_bytes_expected"] > 0
    assert manifests(fake) == before - candidates  # exactly the plan, nothing else
    assert SECRET not in dry.out + dry.err + dry.outputs + applied.out + applied.err + applied.outputs


def test_a_failed_apply_still_reports_and_fails_the_step(tmp_path: Path, fake: FakeRegistry) -> None:
    policy = tmp_path / "retention.toml"
    policy.write_text('[[policy]]\nrepositories = "tools/*"\ngrace = "1d"\n')
    fake.fail_next(500, count=1000, operation="delete_manifest")
    ran = run_step(
        "Prune",
        tmp_path,
        [Path(sys.executable).parent],
        registry="example",
        policy=str(policy),
        token=SECRET,
        apply="true",
    )
    assert ran.code == 1
    summary = json.loads(ran.out.splitlines()[-1])
    assert summary["deleted"] == 0 and summary["failed"] == summary["candidates"] > 0
    assert "summary=" in ran.outputs


def test_the_summary_script_refuses_what_is_not_docrs_json() -> None:
    script = ROOT / "scripts" / "action_summary.py"
    for text in ("", "docr: error\n", '"a string"\n', "[1, 2]\n"):
        ran = subprocess.run([sys.executable, str(script)], input=text, capture_output=True, text=True, check=False)
        assert (ran.returncode, ran.stdout) == (1, ""), text
