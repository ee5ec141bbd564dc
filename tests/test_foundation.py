"""The pipeline: upstream spec -> openapi/ fragment -> generated/docr_api, and its smoke test.

The generated contract itself (build_request, parse_response, strict models) is in test_generated.py.
"""

from __future__ import annotations

import filecmp
import importlib
import importlib.util
import inspect
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
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


# What the fragment serves, as the issue asks for it: (operationId, method, path, success status,
# the named schema of its body or None for an empty 204), in the order of sync_spec.OPERATIONS.
DIGESTS = "/v2/{}/{{registry_name}}/repositories/{{repository_name}}/digests"
TAGS = "/v2/{}/{{registry_name}}/repositories/{{repository_name}}/tags"
GC = "/v2/registries/{registry_name}/garbage-collection"
DECLARED = [
    ("registries_list_repositoryManifests", "get", DIGESTS.format("registries"), "200", "repository_manifests_page"),
    (
        "registries_list_repositoriesV2",
        "get",
        "/v2/registries/{registry_name}/repositoriesV2",
        "200",
        "repositories_v2_page",
    ),
    ("registries_list_repositoryTags", "get", TAGS.format("registries"), "200", "repository_tags_page"),
    (
        "registries_delete_repositoryManifest",
        "delete",
        DIGESTS.format("registries") + "/{manifest_digest}",
        "204",
        None,
    ),
    ("registries_delete_repositoryTag", "delete", TAGS.format("registries") + "/{repository_tag}", "204", None),
    ("registries_get", "get", "/v2/registries/{registry_name}", "200", "multiregistry_info_response"),
    ("registries_get_subscription", "get", "/v2/registries/subscription", "200", "subscription_response"),
    (
        "registries_get_dockerCredentials",
        "get",
        "/v2/registries/{registry_name}/docker-credentials",
        "200",
        "docker_credentials",
    ),
    ("registries_run_garbageCollection", "post", GC, "201", "garbage_collection_response"),
    ("registries_get_garbageCollection", "get", GC, "200", "garbage_collection_response"),
    ("registries_list_garbageCollections", "get", GC + "s", "200", "garbage_collections_response"),
    (
        "registries_update_garbageCollection",
        "put",
        GC + "/{garbage_collection_uuid}",
        "200",
        "garbage_collection_response",
    ),
    ("registry_list_repositoryManifests", "get", DIGESTS.format("registry"), "200", "repository_manifests_page"),
    ("registry_list_repositoryTags", "get", TAGS.format("registry"), "200", "repository_tags_page"),
    ("registry_delete_repositoryManifest", "delete", DIGESTS.format("registry") + "/{manifest_digest}", "204", None),
    ("registry_delete_repositoryTag", "delete", TAGS.format("registry") + "/{repository_tag}", "204", None),
]
# Upstream model files the fragment names differently (scripts/sync_spec.py, name_gc_bodies).
RENAMED = {"registry_run_gc": "run_garbage_collection", "update_registry": "update_garbage_collection"}


@pytest.fixture(scope="module")
def sync_spec() -> ModuleType:
    """scripts/sync_spec.py as a module, to call build() with other operations."""
    spec = importlib.util.spec_from_file_location("sync_spec", ROOT / "scripts" / "sync_spec.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _upstream(rel: str) -> dict:
    return yaml.safe_load((FIXTURE / "specification" / rel).read_text())


def _deref(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        section, name = node["$ref"].removeprefix("#/components/").split("/")
        node = spec["components"][section][name]
    return node


def _walk(node: object) -> list[dict]:
    if isinstance(node, dict):
        return [node, *(inner for value in node.values() for inner in _walk(value))]
    if isinstance(node, list):
        return [inner for item in node for inner in _walk(item)]
    return []


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]


def test_fragment_carries_exactly_the_declared_operations(sync_spec: ModuleType) -> None:
    spec = _spec()
    carried = [(op["operationId"], method, path) for path, method, op in _operations(spec)]
    assert carried == [(op_id, method, path) for op_id, method, path, _, _ in DECLARED]
    assert tuple(op_id for op_id, *_ in DECLARED) == sync_spec.OPERATIONS
    for _, _, op in _operations(spec):
        # The legacy twins stay marked as upstream marks them; the current paths are not.
        assert op.get("deprecated", False) is op["operationId"].startswith("registry_")


def test_every_operation_answers_its_success_with_a_named_schema() -> None:
    spec = _spec()
    schemas = spec["components"]["schemas"]
    found = {op["operationId"]: op for _, _, op in _operations(spec)}
    for op_id, _, _, status, body in DECLARED:
        responses = found[op_id]["responses"]
        assert [code for code in responses if code.startswith("2")] == [status], op_id
        success = _deref(spec, responses[status])
        if body is None:
            assert "content" not in success, op_id
            continue
        assert success["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{body}"}, op_id
        assert schemas[body]["properties"], op_id


def test_every_ref_resolves_and_every_component_is_used() -> None:
    spec = _spec()
    refs = set(re.findall(r"\$ref: '#/components/(\w+)/([\w.-]+)'", SPEC.read_text()))
    assert all(name in spec["components"][section] for section, name in refs)
    assert not re.search(r"\$ref: '?[^'#]", SPEC.read_text()), "a multi-file ref survived"
    declared = {(s, n) for s, names in spec["components"].items() if s != "securitySchemes" for n in names}
    assert declared == refs


def test_fragment_keeps_upstream_optionality() -> None:
    schemas = _spec()["components"]["schemas"]
    # A required manifest, blob or tag field would make one odd item fail the whole page.
    for name in ("repository_manifest", "repository_blob", "repository_tag", "repository_v2", "garbage_collection"):
        assert "required" not in schemas[name], name
    compared = 0
    for path in sorted((FIXTURE / "specification").rglob("models/*.yml")):
        upstream = yaml.safe_load(path.read_text())
        name = RENAMED.get(path.stem, path.stem)
        if "properties" in upstream and name in schemas:
            assert schemas[name].get("required") == upstream.get("required"), name
            assert set(schemas[name]["properties"]) == set(upstream["properties"]), name
            compared += 1
    assert compared >= 10
    for page in ("repository_manifests_page", "repository_tags_page", "repositories_v2_page"):
        assert schemas[page]["required"] == ["meta"]
    assert schemas["meta"]["required"] == ["total"]
    assert schemas["error"]["required"] == ["id", "message"]


def test_fragment_keeps_upstream_examples_verbatim_typo_included() -> None:
    spec = _spec()
    compared = 0
    for path in sorted((FIXTURE / "specification").rglob("responses/*.yml")):
        media = yaml.safe_load(path.read_text()).get("content", {}).get("application/json", {})
        example = media.get("example", media.get("schema", {}).get("example"))
        if example is None or path.stem not in spec["components"]["responses"]:
            continue
        ours = spec["components"]["responses"][path.stem]["content"]["application/json"]
        assert ours.get("example", _deref(spec, ours["schema"]).get("example")) == example, path.stem
        compared += 1
    assert compared >= 4
    typo = {
        "digest": "sha256:a0d0a0d46f8b52473982a3c466318f479767577551a53ffc9074c9fa7035982e",
        "compressed_size_byte": 2814446,
    }
    schemas = spec["components"]["schemas"]
    assert schemas["repository_manifests_page"]["example"]["manifests"][0]["blobs"][1] == typo
    assert schemas["repositories_v2_page"]["example"]["repositories"][0]["latest_manifest"]["blobs"][1] == typo
    too_many = spec["components"]["responses"]["too_many_requests"]["headers"]
    assert set(too_many) == {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"}


def test_shared_pieces_are_one_model_each() -> None:
    spec = _spec()
    schemas = spec["components"]["schemas"]
    assert schemas["repository_v2"]["properties"]["latest_manifest"] == {
        "$ref": "#/components/schemas/repository_manifest"
    }
    bodies = [
        response["content"]["application/json"]["schema"]
        for response in spec["components"]["responses"].values()
        if "content" in response
    ]
    # Every body is a named schema (an inline one would be a model per operation), errors all `error`.
    assert all(set(body) == {"$ref"} for body in bodies)
    assert sum(body == {"$ref": "#/components/schemas/error"} for body in bodies) == 6
    shapes = [json.dumps(schema, sort_keys=True) for schema in schemas.values()]
    assert len(set(shapes)) == len(shapes), "two schemas say the same thing"
    assert not any("allOf" in node or "anyOf" in node for node in _walk(spec["components"]["schemas"]))


def test_gc_run_carries_the_type_body_documented_only_on_the_deprecated_twin() -> None:
    # Why the adjustment exists: upstream's current operation declares no body.
    assert "requestBody" not in _upstream("resources/registry/registries_run_garbageCollection.yml")
    upstream_type = _upstream("resources/registry/models/registry_run_gc.yml")["properties"]["type"]
    spec = _spec()
    body = spec["paths"][GC]["post"]["requestBody"]
    assert body["required"] is False
    schema = _deref(spec, body["content"]["application/json"]["schema"])
    assert schema["properties"]["type"] == upstream_type
    assert upstream_type["enum"] == [
        "untagged manifests only",
        "unreferenced blobs only",
        "untagged manifests and unreferenced blobs",
    ]


def test_gc_status_is_a_string_with_the_documented_values_known() -> None:
    documented = _upstream("resources/registry/models/garbage_collection.yml")["properties"]["status"]["enum"]
    status = _spec()["components"]["schemas"]["garbage_collection"]["properties"]["status"]
    assert status["type"] == "string"
    assert "enum" not in status
    assert status["x-known-values"] == documented
    assert all(f"`{value}`" in status["description"] for value in documented)


def test_docker_credentials_take_the_query_parameters_their_description_offers() -> None:
    spec = _spec()
    params = [
        _deref(spec, p) for p in spec["paths"]["/v2/registries/{registry_name}/docker-credentials"]["get"]["parameters"]
    ]
    assert [(p["name"], p["in"], p["schema"]["type"]) for p in params] == [
        ("registry_name", "path", "string"),
        ("expiry_seconds", "query", "integer"),
        ("read_write", "query", "boolean"),
    ]


def test_bearer_scopes_are_empty_and_upstreams_scopes_kept_in_x_scopes() -> None:
    for _, _, op in _operations(_spec()):
        upstream = _upstream(f"resources/registry/{op['operationId']}.yml")
        assert op["security"] == [{"bearer_auth": []}]
        assert op["x-scopes"] == sorted(upstream["security"][0]["bearer_auth"]), op["operationId"]


def _readme_adjustments() -> list[str]:
    text = (ROOT / "openapi" / "README.md").read_text()
    table = text.split("## Adjustments", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)


def test_readme_lists_the_adjustments_and_the_operations(sync_spec: ModuleType) -> None:
    assert _readme_adjustments() == [adjust.__name__ for adjust in sync_spec.ADJUSTMENTS]
    for adjust in sync_spec.ADJUSTMENTS:
        # Each adjustment opens with its reason.
        assert inspect.getsource(adjust).splitlines()[1].strip().startswith("# "), adjust.__name__
    readme = (ROOT / "openapi" / "README.md").read_text()
    assert all(f"`{op_id}`" in readme for op_id in sync_spec.OPERATIONS)
    assert "`OPERATIONS`" in readme


def test_adding_an_operation_id_vendors_it(sync_spec: ModuleType) -> None:
    base = sync_spec.build(FIXTURE)
    assert sync_spec.render(base) == SPEC.read_text(), "in-process and command-line runs differ"
    grown = sync_spec.build(FIXTURE, (*sync_spec.OPERATIONS, "registries_delete_repository"))
    added = grown["paths"].pop("/v2/registries/{registry_name}/repositories/{repository_name}")
    assert list(added) == ["delete"]
    assert added["delete"]["operationId"] == "registries_delete_repository"
    # The adjustments reach it, and it reuses the components already there.
    assert added["delete"]["security"] == [{"bearer_auth": []}]
    assert added["delete"]["x-scopes"] == ["registry:delete"]
    assert added["delete"]["responses"]["204"] == {"$ref": "#/components/responses/no_content"}
    assert grown == base
    with pytest.raises(SystemExit, match="registries_list_everything"):
        sync_spec.build(FIXTURE, ("registries_list_everything",))


def test_fixture_is_exactly_the_upstream_files_the_script_reads(
    sync_spec: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: set[str] = set()
    load = sync_spec.Bundler.load

    def recording_load(self: object, rel: str) -> object:
        read.add(rel)
        return load(self, rel)

    monkeypatch.setattr(sync_spec.Bundler, "load", recording_load)
    sync_spec.build(FIXTURE, (*sync_spec.OPERATIONS, "registries_delete_repository"))
    held = {p.relative_to(FIXTURE).as_posix() for p in (FIXTURE / "specification").rglob("*") if p.is_file()}
    assert read == held
    if UPSTREAM_REFERENCE.is_dir():
        # Byte-for-byte copies, but for the root file, which says it is trimmed.
        for rel in [*sorted(held - {sync_spec.ROOT_FILE}), "LICENSE"]:
            assert (FIXTURE / rel).read_bytes() == (UPSTREAM_REFERENCE / rel).read_bytes(), rel


def test_operations_are_found_by_id_not_by_file_name(sync_spec: ModuleType, tmp_path: Path) -> None:
    upstream = tmp_path / "upstream"
    shutil.copytree(FIXTURE, upstream)
    registry = upstream / "specification" / "resources" / "registry"
    (registry / "registries_get.yml").rename(registry / "get_one_registry.yml")
    root_file = upstream / "specification" / "DigitalOcean-public.v2.yaml"
    root = yaml.safe_load(root_file.read_text())
    paths = root["paths"]
    paths["/v2/registries/{registry_name}"]["get"]["$ref"] = "resources/registry/get_one_registry.yml"
    # A path item held in a file of its own, and one whose operation this checkout lacks.
    (upstream / "specification" / "paths").mkdir()
    item = paths.pop("/v2/registries/subscription")
    item["get"]["$ref"] = "../" + item["get"]["$ref"]
    (upstream / "specification" / "paths" / "subscription.yml").write_text(yaml.safe_dump(item))
    paths["/v2/registries/subscription"] = {"$ref": "paths/subscription.yml"}
    paths["/v2/droplets"] = {"get": {"$ref": "resources/droplets/droplets_list.yml"}}
    paths["/v2/apps"] = {"$ref": "paths/apps.yml"}
    root_file.write_text(yaml.safe_dump(root, sort_keys=False))
    assert sync_spec.render(sync_spec.build(upstream)) == SPEC.read_text()


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
    requests: ClassVar[list[tuple[str, str, bytes]]] = []
    status: ClassVar[int] = 200
    body: ClassVar[bytes] = b""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        type(self).requests.append((self.command, self.path, self.rfile.read(length)))
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    """A server answering every request with ``_Recorder.status`` and ``_Recorder.body``."""
    _Recorder.requests, _Recorder.status, _Recorder.body = [], 200, b""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _snake(operation_id: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", operation_id).lower()


def test_generated_client_keeps_the_names_the_facade_imports() -> None:
    from docr_api import models

    for name in ("Error", "RepositoryBlob", "RepositoryManifest", "RepositoryManifestsPage", "GarbageCollection"):
        assert hasattr(models, name), name
    for _, _, op in _operations(_spec()):
        tag = op["tags"][0].lower().replace(" ", "_")
        module = importlib.import_module(f"docr_api.api.{tag}.{_snake(op['operationId'])}")
        assert callable(module.build_request), op["operationId"]
        assert callable(module.parse_response), op["operationId"]


def _exchange(loopback: str, built: dict[str, object]) -> tuple[int, object]:
    # The generated package only builds the request and parses the answer; the HTTP is ours.
    import httpx

    with httpx.Client(base_url=loopback, timeout=5.0) as http:
        response = http.request(**built)
    return response.status_code, response.json()


def test_generated_client_sends_one_encoded_segment_and_survives_the_typo(loopback: str) -> None:
    from docr_api.api.container_registry import registry_list_repository_manifests as op
    from docr_api.models import RepositoryManifestsPage
    from docr_api.types import UNSET

    _Recorder.body = json.dumps(_spec()["components"]["schemas"]["repository_manifests_page"]["example"]).encode()
    page = op.parse_response(*_exchange(loopback, op.build_request("example", "my/repo")))

    assert [path for _, path, _ in _Recorder.requests] == [
        "/v2/registry/example/repositories/my%2Frepo/digests?per_page=20&page=1"
    ]
    assert isinstance(page, RepositoryManifestsPage)
    assert page.meta.total == 3
    typo_blob = page.manifests[0].blobs[1]
    assert typo_blob.compressed_size_bytes is UNSET
    assert typo_blob.additional_properties == {"compressed_size_byte": 2814446}
    assert page.manifests[0].blobs[2].compressed_size_bytes == 528
    assert page.links.pages.next_.endswith("page=3&per_page=1")


def test_generated_repositories_share_the_manifest_model_and_page_by_token(loopback: str) -> None:
    from docr_api.api.container_registries import registries_list_repositories_v2 as op
    from docr_api.models import RepositoriesV2Page, RepositoryManifest

    _Recorder.body = json.dumps(_spec()["components"]["schemas"]["repositories_v2_page"]["example"]).encode()
    page = op.parse_response(*_exchange(loopback, op.build_request("example", page_token="JPZmZzZXQiOjB9")))

    assert "page_token=JPZmZzZXQiOjB9" in _Recorder.requests[0][1]
    assert isinstance(page, RepositoriesV2Page)
    latest = page.repositories[0].latest_manifest
    assert isinstance(latest, RepositoryManifest)
    assert latest.blobs[1].additional_properties == {"compressed_size_byte": 2814446}
    assert "page_token=" in page.links.pages.next_


def test_generated_gc_run_sends_its_type_and_reads_a_status_the_docs_do_not_list(loopback: str) -> None:
    from docr_api.api.container_registries import registries_run_garbage_collection as op
    from docr_api.models import GarbageCollectionResponse, RunGarbageCollection

    _Recorder.status = 201
    _Recorder.body = json.dumps({"garbage_collection": {"uuid": "eff0", "status": "paused for maintenance"}}).encode()
    body = RunGarbageCollection(type_="untagged manifests and unreferenced blobs")
    parsed = op.parse_response(*_exchange(loopback, op.build_request("example", body=body)))

    [(method, path, sent)] = _Recorder.requests
    assert (method, path) == ("POST", "/v2/registries/example/garbage-collection")
    assert json.loads(sent) == {"type": "untagged manifests and unreferenced blobs"}
    assert isinstance(parsed, GarbageCollectionResponse)
    assert parsed.garbage_collection.status == "paused for maintenance"
