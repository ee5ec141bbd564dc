"""The pipeline: upstream spec -> openapi/ fragment -> generated/docr_api, and its smoke test.

The generated contract itself (build_request, parse_response, strict models) is in test_generated.py.
"""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from openapi_spec_validator import validate

from tests.conftest import ROOT, SPEC, UPSTREAM_REFERENCE

FIXTURE = ROOT / "tests" / "fixtures" / "do-openapi-mini"


def _spec() -> dict:
    return yaml.safe_load(SPEC.read_text())


def test_fragment_is_valid_openapi_3_0() -> None:
    spec = _spec()
    assert spec["openapi"].startswith("3.0")
    validate(spec)


def test_fragment_keeps_upstream_optionality() -> None:
    schemas = _spec()["components"]["schemas"]
    # A required manifest or blob field would make one odd manifest fail the whole page.
    assert "required" not in schemas["repository_manifest"]
    assert "required" not in schemas["repository_blob"]
    assert schemas["meta"]["required"] == ["total"]
    assert schemas["repository_manifests_page"]["required"] == ["meta"]
    assert schemas["error"]["required"] == ["id", "message"]


def test_fragment_carries_both_operations_and_the_typo_example() -> None:
    spec = _spec()
    ops = {op["get"]["operationId"] for op in spec["paths"].values()}
    assert ops == {"registry_list_repositoryManifests", "registries_list_repositoryManifests"}
    example = spec["components"]["schemas"]["repository_manifests_page"]["example"]
    blobs = example["manifests"][0]["blobs"]
    assert blobs[1] == {
        "digest": "sha256:a0d0a0d46f8b52473982a3c466318f479767577551a53ffc9074c9fa7035982e",
        "compressed_size_byte": 2814446,
    }
    too_many = spec["components"]["responses"]["too_many_requests"]["headers"]
    assert set(too_many) == {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"}


def _sync(upstream: Path, out: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync_spec.py"), str(upstream), "--output", str(out)],
        check=True,
        capture_output=True,
    )


def test_sync_spec_on_fixture_reproduces_the_committed_fragment(tmp_path: Path) -> None:
    _sync(FIXTURE, tmp_path)
    assert (tmp_path / "docr.openapi.yaml").read_bytes() == SPEC.read_bytes()
    assert (tmp_path / "LICENSE").read_bytes() == (ROOT / "openapi" / "LICENSE").read_bytes()


@pytest.mark.skipif(not UPSTREAM_REFERENCE.is_dir(), reason="no upstream reference checkout beside the repo")
def test_sync_spec_on_upstream_reference_reproduces_the_committed_fragment(tmp_path: Path) -> None:
    _sync(UPSTREAM_REFERENCE, tmp_path)
    assert (tmp_path / "docr.openapi.yaml").read_bytes() == SPEC.read_bytes()


def test_sync_spec_rejects_a_folder_that_is_not_a_checkout(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync_spec.py"), str(tmp_path), "--output", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "is it a digitalocean/openapi checkout" in result.stderr


def _diff_trees(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [f"only in {a}: {n}" for n in cmp.left_only] + [f"only in {b}: {n}" for n in cmp.right_only]
    out += [f"differs: {n}" for n in cmp.diff_files]
    for sub in cmp.common_dirs:
        out += _diff_trees(a / sub, b / sub)
    return out


def test_generated_client_is_up_to_date_with_the_fragment(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(ROOT / "scripts" / "regenerate"), str(tmp_path)],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DOCR_VENV_BIN": str(bin_dir)},
    )
    drift = _diff_trees(ROOT / "generated" / "docr_api", tmp_path / "docr_api")
    assert not drift, "generated/ differs from what openapi/ generates; run `make generate`:\n" + "\n".join(drift)


# --- smoke test of the generated client over loopback --------------------------------


class _Recorder(BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []
    body: bytes = b""

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream_example_server() -> Iterator[str]:
    example = _spec()["components"]["schemas"]["repository_manifests_page"]["example"]
    _Recorder.paths = []
    _Recorder.body = json.dumps(example).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_generated_operation_sends_one_encoded_segment_and_survives_the_typo(upstream_example_server: str) -> None:
    # The generated package only builds the request and parses the answer; the HTTP is ours.
    import httpx

    from docr_api.api.container_registry import registry_list_repository_manifests as op
    from docr_api.models import RepositoryManifestsPage
    from docr_api.types import UNSET

    with httpx.Client(base_url=upstream_example_server, timeout=5.0) as http:
        response = http.request(**op.build_request("example", "my/repo"))
    page = op.parse_response(response.status_code, response.json())

    assert _Recorder.paths == ["/v2/registry/example/repositories/my%2Frepo/digests?per_page=20&page=1"]
    assert isinstance(page, RepositoryManifestsPage)
    assert page.meta.total == 3
    typo_blob = page.manifests[0].blobs[1]
    assert typo_blob.compressed_size_bytes is UNSET
    assert typo_blob.additional_properties == {"compressed_size_byte": 2814446}
    assert page.manifests[0].blobs[2].compressed_size_bytes == 528
    assert page.links.pages.next_.endswith("page=3&per_page=1")
