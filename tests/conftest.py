from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "docr.openapi.yaml"
UPSTREAM_REFERENCE = ROOT.parent / "shared" / "reference" / "do-openapi"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
