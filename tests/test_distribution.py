"""The distribution: the sdist and the wheel a release publishes, and what `pip install docr` gets.

`python -m build --no-isolation` (hatchling and build pinned in the dev group) builds the sdist,
then the wheel from that sdist, so the wheel also proves the sdist is enough to rebuild. The wheel
is installed into a fresh venv (no pip of its own: the test venv's pip drives it with --python) with
its dependencies resolved offline from the wheelhouse that `make` fills at bootstrap
(`pip download -c constraints.txt .` into .venv/wheelhouse: the pinned runtime dependencies), so
the test needs no network and the fresh venv holds exactly what `pip install docr` would.
"""

from __future__ import annotations

import configparser
import email.message
import email.parser
import json
import os
import stat
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from docr._version import __version__
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
LICENSE_FILES = ["LICENSE", "NOTICE", "openapi/LICENSE"]
PACKAGES = {"docr": ROOT / "facade" / "docr", "docr_api": ROOT / "generated" / "docr_api"}
# What the sdist must carry to rebuild the wheel, regenerate generated/ and run the tests.
SDIST_TREES = ["facade", "generated", "openapi", "scripts", "tests"]
SDIST_FILES = [
    "pyproject.toml",
    "README.md",
    "CHANGELOG.md",
    "LICENSE",
    "NOTICE",
    "Makefile",
    "constraints.txt",
    "PKG-INFO",
    "openapi/docr.openapi.yaml",
    "openapi/LICENSE",
    "scripts/sync_spec.py",
    "scripts/regenerate",
    "scripts/codegen.yaml",
    "facade/docr/py.typed",
    "generated/docr_api/py.typed",
    "tests/conftest.py",
]

# Run in the fresh venv, isolated (-I) from the checkout: what an app that installed docr sees.
PROBE = """
import importlib.metadata, importlib.util, json, sys
import docr, docr_api
from docr import AsyncClient, Client
from docr.testing import FakeRegistry
print(json.dumps({
    "prefix": sys.prefix,
    "version": docr.__version__,
    "files": {"docr": docr.__file__, "docr_api": docr_api.__file__},
    "distributions": sorted(d.metadata["Name"] for d in importlib.metadata.distributions()),
    "importable": {name: importlib.util.find_spec(name) is not None for name in ("rich", "yaml", "pytest")},
}))
"""


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path


@dataclass(frozen=True)
class Installed:
    venv: Path
    probe: dict[str, Any]


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{command} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Dists(sdist=sdist, wheel=wheel)


@pytest.fixture(scope="module")
def installed(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    if not any(WHEELHOUSE.glob("*.whl")):
        pytest.fail(f"no wheels in {WHEELHOUSE}: run `make` (its bootstrap downloads docr's runtime dependencies)")
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", python)
    run(*pip, "install", "--no-index", "--find-links", WHEELHOUSE, dists.wheel)
    probe = json.loads(run(python, "-I", "-c", PROBE, cwd=venv))
    return Installed(venv=venv, probe=probe)


def read_metadata(text: str) -> email.message.Message:
    return email.parser.HeaderParser().parsestr(text)


def wheel_text(dists: Dists, name: str) -> str:
    with zipfile.ZipFile(dists.wheel) as wheel:
        return wheel.read(f"docr-{__version__}.dist-info/{name}").decode()


def sdist_members(dists: Dists) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(dists.sdist) as sdist:
        prefix = f"docr-{__version__}/"
        return {m.name.removeprefix(prefix): m for m in sdist.getmembers() if m.isfile()}


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def group_names(group: str) -> set[str]:
    return names([r for r in PYPROJECT["dependency-groups"][group] if isinstance(r, str)])


# --- the wheel ------------------------------------------------------------------------------


def test_the_wheel_holds_both_packages_whole_with_their_typing_markers(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        files = set(wheel.namelist())
    for package, source in PACKAGES.items():
        expected = {
            f"{package}/{path.relative_to(source).as_posix()}"
            for path in source.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        assert f"{package}/py.typed" in expected
        assert {name for name in files if name.startswith(f"{package}/")} == expected
    assert {name.split("/")[0] for name in files} == {"docr", "docr_api", f"docr-{__version__}.dist-info"}


def test_the_wheel_ships_the_licenses_and_the_notice(dists: Dists) -> None:
    metadata = read_metadata(wheel_text(dists, "METADATA"))
    assert metadata["Metadata-Version"] == "2.4"
    assert metadata["License-Expression"] == "Apache-2.0"
    assert sorted(metadata.get_all("License-File", [])) == sorted(LICENSE_FILES)
    for name in LICENSE_FILES:
        assert wheel_text(dists, f"licenses/{name}") == (ROOT / name).read_text()
    notice = wheel_text(dists, "licenses/NOTICE")
    assert "7c1300c479fed9c353cda9fc21cd968619552304" in notice
    assert "Apache License, Version 2.0" in wheel_text(dists, "licenses/openapi/LICENSE")


@pytest.mark.parametrize("where", ["wheel METADATA", "sdist PKG-INFO"])
def test_published_requirements_are_the_runtime_ones_and_the_cli_extra(dists: Dists, where: str) -> None:
    if where == "wheel METADATA":
        text = wheel_text(dists, "METADATA")
    else:
        with tarfile.open(dists.sdist) as sdist:
            member = sdist.extractfile(f"docr-{__version__}/PKG-INFO")
            assert member is not None
            text = member.read().decode()
    metadata = read_metadata(text)
    requirements = [Requirement(r) for r in metadata.get_all("Requires-Dist", [])]

    def wanted_with(extra: str) -> set[str]:
        return {
            canonicalize_name(r.name) for r in requirements if r.marker is None or r.marker.evaluate({"extra": extra})
        }

    runtime = wanted_with("")
    assert runtime == {"httpx", "attrs"}
    assert wanted_with("cli") - runtime == {"rich", "pyyaml"}
    assert wanted_with("cli") == {canonicalize_name(r.name) for r in requirements}, "no other extra"
    assert metadata.get_all("Provides-Extra") == ["cli"]
    dev_tools = group_names("dev") | group_names("bench")
    assert {"pytest", "ruff", "mypy", "hypothesis", "vcrpy", "hatchling", "pydo"} <= dev_tools
    assert not dev_tools & {canonicalize_name(r.name) for r in requirements}
    assert metadata["Version"] == __version__
    assert metadata["Requires-Python"] == ">=3.11"


def test_the_metadata_describes_the_project(dists: Dists) -> None:
    metadata = read_metadata(wheel_text(dists, "METADATA"))
    classifiers = metadata.get_all("Classifier", [])
    for expected in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {expected}" in classifiers
    assert "Typing :: Typed" in classifiers
    assert "Operating System :: OS Independent" in classifiers
    # PEP 639: the license is the expression alone; a License classifier beside it may be refused.
    assert not [c for c in classifiers if c.startswith("License ::")]
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL", []))
    assert set(urls) == {"Homepage", "Documentation", "Issues", "Changelog"}
    assert all(url.startswith("https://github.com/docr-dev/docr") for url in urls.values())
    assert metadata["Keywords"]
    assert metadata["Summary"] == PYPROJECT["project"]["description"]


def test_entry_points_are_the_command_and_the_pytest_plugin(dists: Dists) -> None:
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel_text(dists, "entry_points.txt"))
    assert set(entry_points["console_scripts"]) == {"docr"}
    assert dict(entry_points["pytest11"]) == PYPROJECT["project"]["entry-points"]["pytest11"]


# --- the sdist ------------------------------------------------------------------------------


def test_the_sdist_holds_what_rebuilds_regenerates_and_tests(dists: Dists) -> None:
    members = sdist_members(dists)
    missing = [name for name in SDIST_FILES if name not in members]
    assert not missing
    for tree in SDIST_TREES:
        on_disk = {
            path.relative_to(ROOT).as_posix()
            for path in (ROOT / tree).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        assert on_disk, tree
        assert on_disk <= set(members), f"{tree}: {sorted(on_disk - set(members))[:5]}"
    assert not [name for name in members if name.split("/")[0] in {"benchmarks", ".ci", ".venv", ".git"}]
    assert not [name for name in members if "__pycache__" in name or name.endswith(".pyc")]
    assert members["scripts/regenerate"].mode & stat.S_IXUSR, "make generate runs scripts/regenerate directly"


# --- the installed wheel ----------------------------------------------------------------------


def test_a_fresh_venv_gets_the_library_and_its_runtime_dependencies_only(installed: Installed) -> None:
    probe, venv = installed.probe, installed.venv.resolve()
    assert Path(probe["prefix"]).resolve() == venv
    for package, file in probe["files"].items():
        path = Path(file).resolve()
        assert path.is_relative_to(venv), f"{package} imported from {path}, not from the fresh venv"
        assert (path.parent / "py.typed").is_file()
    assert probe["version"] == __version__
    wheelhouse = {canonicalize_name(wheel.name.split("-")[0]) for wheel in WHEELHOUSE.glob("*.whl")}
    assert {"httpx", "attrs"} <= wheelhouse
    assert {canonicalize_name(name) for name in probe["distributions"]} == wheelhouse | {"docr"}
    assert probe["importable"] == {"rich": False, "yaml": False, "pytest": False}


def test_a_fresh_venv_gets_the_docr_command(installed: Installed) -> None:
    script = installed.venv / "bin" / "docr"
    assert script.is_file()
    assert os.access(script, os.X_OK)
    assert str(installed.venv / "bin" / "python") in script.read_text()
