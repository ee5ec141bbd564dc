"""The README's Python examples run as written (against docr.testing.FakeRegistry)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from docr.testing import FakeRegistry
from tests.conftest import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeRegistry() as fake:
        fake.generate("example", "my/repo", count=120, seed=3)
        # The examples take their token and API from the environment, as a user's script would.
        monkeypatch.setenv("DIGITALOCEAN_TOKEN", "readme-token")
        monkeypatch.setenv("DIGITALOCEAN_API_URL", fake.url)
        namespace: dict[str, Any] = {"__name__": f"readme_example_{index}"}
        exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), namespace)
        tests = [value for name, value in namespace.items() if name.startswith("test_") and callable(value)]
        for test in tests:
            test()
    output = capsys.readouterr().out
    assert tests or output, "an example should either print something or define tests"
    if not tests:
        untagged = sum(1 for m in fake.manifests("example", "my/repo") if not m.get("tags"))
        assert len(output.splitlines()) == untagged
