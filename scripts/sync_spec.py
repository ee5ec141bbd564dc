#!/usr/bin/env python3
"""Bundle the DigitalOcean registry operations docr serves into its vendored fragment.

Usage::

    python scripts/sync_spec.py ../shared/reference/do-openapi   # a digitalocean/openapi checkout
    python scripts/sync_spec.py UPSTREAM_DIR --output openapi/    # the default output folder
    make sync-spec generate                                       # the same, then regenerate the client

It finds every operation id in ``OPERATIONS`` under the ``paths`` of upstream's root file
(following the path items' ``$ref``s), follows every ``$ref`` they make (upstream splits the
spec over many files; openapi-python-client cannot follow multi-file refs), turns each ref
in a parameter, response, header or schema position into a named component (named after
its file, or its key inside a shared file: ``models/repository_manifest.yml`` becomes
``#/components/schemas/repository_manifest``), inlines the rest (code samples), applies the
documented adjustments in ``ADJUSTMENTS``, drops the components nothing references any more
and writes ``openapi/docr.openapi.yaml`` plus the upstream ``LICENSE``. The output depends
only on the input files, so running it twice, or on the same commit elsewhere, gives the
same bytes.

Adding an operation is one line in ``OPERATIONS``, then ``make sync-spec generate``.
Every difference from upstream is one function in ``ADJUSTMENTS`` with its reason on the
line above; nothing in ``openapi/`` is edited by hand.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

try:
    import yaml
except ImportError:  # a bare `python` without PyYAML: rerun under the project's venv
    _venv = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _venv.exists() and Path(sys.executable) != _venv:
        os.execv(_venv, [str(_venv), __file__, *sys.argv[1:]])
    raise SystemExit("sync_spec.py needs PyYAML: run `make sync-spec UPSTREAM=...` or use .venv/bin/python") from None

# The operations docr serves, by upstream operationId, in the order they appear in the fragment.
OPERATIONS = (
    "registries_list_repositoryManifests",
    "registries_list_repositoriesV2",
    "registries_list_repositoryTags",
    "registries_delete_repositoryManifest",
    "registries_delete_repositoryTag",
    "registries_get",
    "registries_get_subscription",
    "registries_get_dockerCredentials",
    "registries_run_garbageCollection",
    "registries_get_garbageCollection",
    "registries_list_garbageCollections",
    "registries_update_garbageCollection",
    # The deprecated /v2/registry/... twins, for the client's legacy option.
    "registry_list_repositoryManifests",
    "registry_list_repositoryTags",
    "registry_delete_repositoryManifest",
    "registry_delete_repositoryTag",
)

ROOT_FILE = "specification/DigitalOcean-public.v2.yaml"
OUTPUT_NAME = "docr.openapi.yaml"
TITLE = "DigitalOcean API: container registry (docr fragment)"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SECTION_ORDER = ("parameters", "responses", "headers", "schemas", "securitySchemes")

Doc = dict[str, Any]


class _Loader(yaml.SafeLoader):
    """YAML as JSON sees it: an unquoted ``2020-10-30T21:03:24Z`` example stays the string upstream wrote."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# --- bundling: multi-file refs -> one document with named components ----------------

# What a node is, from the key it sits under. A ref found in one of the roles of `_SECTION`
# becomes a named component; a ref anywhere else (code samples) is inlined; a literal
# (example, default, enum) is copied as it is.
_SECTION = {"parameter": "parameters", "response": "responses", "header": "headers", "schema": "schemas"}
_SCHEMA_CHILD = {
    "properties": "schema-map",
    "additionalProperties": "schema",
    "items": "schema",
    "not": "schema",
    "allOf": "schema-list",
    "anyOf": "schema-list",
    "oneOf": "schema-list",
    "example": "literal",
    "default": "literal",
    "enum": "literal",
}
_OTHER_CHILD = {
    "parameters": "parameter-list",
    "responses": "response-map",
    "headers": "header-map",
    "schema": "schema",
    "example": "literal",
}
_MEMBER = {
    "schema-map": "schema",
    "schema-list": "schema",
    "parameter-list": "parameter",
    "response-map": "response",
    "header-map": "header",
}


def _child_role(role: str, key: str) -> str:
    if role in _MEMBER:
        return _MEMBER[role]
    if role == "schema":
        return _SCHEMA_CHILD.get(key, "other")
    return _OTHER_CHILD.get(key, "other")


class Found(NamedTuple):
    """Where an operation sits: its path and method in the root, its node and the file holding it."""

    path: str
    method: str
    node: Any
    here: str


class Bundler:
    """Resolve upstream's multi-file refs into one document, and find operations by id."""

    def __init__(self, upstream: Path) -> None:
        self.upstream = upstream
        self.files: dict[str, Any] = {}
        self.components: dict[str, dict[str, Any]] = {}
        self._owners: dict[tuple[str, str], str] = {}

    def load(self, rel: str) -> Any:
        if rel not in self.files:
            self.files[rel] = yaml.load((self.upstream / rel).read_text(encoding="utf-8"), Loader=_Loader)
        return self.files[rel]

    def target(self, rel: str, pointer: str) -> Any:
        node = self.load(rel)
        for part in filter(None, pointer.split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def follow(self, node: Any, here: str) -> tuple[Any, str]:
        """The node a chain of refs ends at, and the file it is in."""
        while isinstance(node, dict) and "$ref" in node:
            rel, pointer = _locate(node["$ref"], here)
            node, here = self.target(rel, pointer), rel
        return node, here

    def _present(self, node: Any, here: str) -> bool:
        """Whether the file a ref points to is here (a trimmed checkout holds only some)."""
        if not (isinstance(node, dict) and "$ref" in node):
            return True
        return (self.upstream / _locate(node["$ref"], here)[0]).is_file()

    def _candidates(self) -> Iterator[Found]:
        for path, item in self.load(ROOT_FILE)["paths"].items():
            if not self._present(item, ROOT_FILE):
                continue
            item, here = self.follow(item, ROOT_FILE)
            for method in HTTP_METHODS:
                if method in item:
                    yield Found(path, method, item[method], here)

    def find(self, operation_id: str) -> Found:
        """The root's operation with this id. Upstream names each operation's file after its
        id, so that file is read first; any other is read only if the hint misses."""
        candidates = list(self._candidates())
        hinted = [c for c in candidates if _ref_stem(c.node) == operation_id]
        for candidate in hinted + [c for c in candidates if c not in hinted]:
            if not self._present(candidate.node, candidate.here):
                continue
            node, here = self.follow(candidate.node, candidate.here)
            if node.get("operationId") == operation_id:
                return Found(candidate.path, candidate.method, node, here)
        raise SystemExit(f"no operation {operation_id!r} under the paths of {ROOT_FILE}")

    def operation(self, operation_id: str) -> Doc:
        """The operation with this id, its refs made local (adjustments read twins this way)."""
        found = self.find(operation_id)
        resolved: Doc = self.resolve(found.node, found.here, "operation")
        return resolved

    def resolve(self, node: Any, here: str, role: str) -> Any:
        """Copy ``node`` (found in file ``here``, playing ``role``) with every ref made local."""
        if role == "literal":
            return copy.deepcopy(node)
        if isinstance(node, list):
            return [self.resolve(item, here, _MEMBER.get(role, role)) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return self.resolve_ref(node["$ref"], here, role)
        return {key: self.resolve(value, here, _child_role(role, key)) for key, value in node.items()}

    def resolve_ref(self, ref: str, here: str, role: str) -> Any:
        rel, pointer = _locate(ref, here)
        section = _SECTION.get(role)
        if section is None:
            return self.resolve(self.target(rel, pointer), rel, role)
        name = pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~") if pointer else PurePosixPath(rel).stem
        if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
            raise SystemExit(f"{rel}#{pointer} gives no valid component name ({name!r})")
        source = f"{rel}#{pointer}"
        owner = self._owners.setdefault((section, name), source)
        if owner != source:
            raise SystemExit(f"{owner} and {source} would both be #/components/{section}/{name}")
        bucket = self.components.setdefault(section, {})
        if name not in bucket:
            bucket[name] = None  # guards against cycles while resolving
            bucket[name] = self.resolve(self.target(rel, pointer), rel, role)
        return {"$ref": f"#/components/{section}/{name}"}


def _locate(ref: str, here: str) -> tuple[str, str]:
    path, _, pointer = ref.partition("#")
    return (_normalise(str(PurePosixPath(here).parent / path)) if path else here), pointer


def _ref_stem(node: Any) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        return PurePosixPath(node["$ref"].partition("#")[0]).stem
    return None


def _normalise(rel: str) -> str:
    parts: list[str] = []
    for part in PurePosixPath(rel).parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


# --- helpers the adjustments share ---------------------------------------------------


def _ref(section: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{section}/{name}"}


def _deref(doc: Doc, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = doc["components"][section][name]
    return node


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping inside ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _operations(doc: Doc) -> Iterator[Doc]:
    for item in doc["paths"].values():
        yield from item.values()


def _operation(doc: Doc, operation_id: str) -> Doc | None:
    return next((op for op in _operations(doc) if op["operationId"] == operation_id), None)


def _merge_all_of(doc: Doc, schema: Doc) -> Doc:
    """One object with the properties and the required keys of every allOf piece."""
    merged: Doc = {key: value for key, value in schema.items() if key not in ("allOf", "example")}
    merged.setdefault("type", "object")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for piece in schema["allOf"]:
        piece = _deref(doc, piece)
        if "description" in piece:
            merged.setdefault("description", piece["description"])
        properties.update(copy.deepcopy(piece.get("properties", {})))
        required += [name for name in piece.get("required", []) if name not in required]
    merged["properties"] = properties
    if required:
        merged["required"] = required
    if "example" in schema:
        merged["example"] = schema["example"]
    return merged


def _rename_schema(doc: Doc, old: str, new: str) -> None:
    schemas = doc["components"]["schemas"]
    if old not in schemas:
        return
    if new in schemas:
        raise SystemExit(f"cannot rename schema {old} to {new}: {new} exists")
    schemas[new] = schemas.pop(old)
    for node in _walk(doc):
        if node.get("$ref") == f"#/components/schemas/{old}":
            node["$ref"] = f"#/components/schemas/{new}"


def _json_media(response: Doc) -> Doc:
    """The application/json media of a response, ``{}`` when it has no body."""
    media: Doc = response.get("content", {}).get("application/json", {})
    return media


# --- adjustments: every difference from upstream, each with its reason -------------


def flatten_page_links(doc: Doc, upstream: Bundler) -> None:
    # Upstream's `pages: anyOf[forward_links, backward_links, {}]` makes the generator
    # parse a page with only first/prev into the forward variant and lose the links;
    # one object with four optional URIs says the same thing and parses every page.
    schemas = doc["components"]["schemas"]
    if "page_links" not in schemas:
        return
    pages = schemas["page_links"]["properties"]["pages"]
    links: dict[str, Any] = {}
    for variant in pages["anyOf"]:
        for part in _deref(doc, variant).get("allOf", []):
            links.update(_deref(doc, part)["properties"])
    flat: Doc = {"type": "object", "properties": {name: links[name] for name in ("first", "prev", "next", "last")}}
    if pages.get("example", {}).get("pages") is not None:
        flat["example"] = pages["example"]["pages"]
    schemas["page_links"]["properties"]["pages"] = flat


def fold_paged_bodies(doc: Doc, upstream: Bundler) -> None:
    # A list's 200 body is `allOf[{items}, pagination, meta.yml]`, which the generator
    # would emit once per operation under an operation-specific name. One named object
    # `<response>_page` (`repository_manifests_page`, ...) with the same properties, the
    # same required keys (only `meta`) and the same example gives twins one model.
    schemas = doc["components"]["schemas"]
    for name, response in doc["components"].get("responses", {}).items():
        media = _json_media(response)
        body = media.get("schema", {})
        if _ref("schemas", "pagination") not in body.get("allOf", []):
            continue
        page_name = f"{name.removeprefix('all_')}_page"
        schemas[page_name] = _merge_all_of(doc, body)
        media["schema"] = _ref("schemas", page_name)


def fold_meta(doc: Doc, upstream: Bundler) -> None:
    # Upstream's `meta: allOf[meta_properties, {required: [total]}]` makes the generator
    # emit a model per allOf piece and per page; one `meta` object with `total` required
    # carries the same contract in a single model.
    schemas = doc["components"]["schemas"]
    pages = [s for s in schemas.values() if s and "allOf" in s.get("properties", {}).get("meta", {})]
    if not pages:
        return
    folded = [_merge_all_of(doc, page["properties"]["meta"]) for page in pages]
    if any(fold != folded[0] for fold in folded):
        raise SystemExit("pages disagree on `meta`: fold_meta cannot give them one model")
    schemas.pop("meta", None)  # upstream's meta.yml, named after its file, already folded into the pages
    if any(node.get("$ref") == "#/components/schemas/meta" for node in _walk(doc)):
        raise SystemExit("upstream's meta.yml is still used whole: fold_meta cannot take its name")
    schemas["meta"] = folded[0]
    for page in pages:
        page["properties"]["meta"] = _ref("schemas", "meta")


def fold_all_of_schemas(doc: Doc, upstream: Bundler) -> None:
    # `multiregistry: allOf[registry_base]` makes the generator emit both models, one
    # of them unused; the merged object (same properties, same required keys) is one.
    schemas = doc["components"]["schemas"]
    for name, schema in schemas.items():
        if schema and "allOf" in schema and all("$ref" in piece for piece in schema["allOf"]):
            schemas[name] = _merge_all_of(doc, schema)


def name_response_bodies(doc: Doc, upstream: Bundler) -> None:
    # The generator names an inline body after each operation (three GC operations would
    # give three identical models); naming the body after its response component
    # (`garbage_collection_response`, ...) gives the operations that share it one model.
    schemas = doc["components"]["schemas"]
    for name, response in doc["components"].get("responses", {}).items():
        media = _json_media(response)
        schema = media.get("schema")
        if schema is None or "$ref" in schema:
            continue
        body_name = name if name.endswith("_response") else f"{name}_response"
        if body_name in schemas:
            raise SystemExit(f"name_response_bodies: schema {body_name} exists")
        schemas[body_name] = schema
        media["schema"] = _ref("schemas", body_name)


def carry_gc_type_body(doc: Doc, upstream: Bundler) -> None:
    # The run-GC body (`type`: untagged manifests, unreferenced blobs, or both) is
    # documented only on the deprecated twin (models/registry_run_gc.yml); the API takes
    # it on /v2/registries/... too, and without it a client can only run the default.
    operation = _operation(doc, "registries_run_garbageCollection")
    if operation is None or "requestBody" in operation:
        return
    operation["requestBody"] = upstream.operation("registry_run_garbageCollection")["requestBody"]


def carry_docker_credentials_params(doc: Doc, upstream: Bundler) -> None:
    # The description offers `read_write` and `expiry_seconds` as query parameters, but
    # only the deprecated twin declares them; undeclared, the client cannot send them.
    operation = _operation(doc, "registries_get_dockerCredentials")
    if operation is None:
        return
    have = {_deref(doc, param)["name"] for param in operation.get("parameters", [])}
    twin = upstream.operation("registry_get_dockerCredentials")
    carried = [param for param in twin.get("parameters", []) if _deref(doc, param)["name"] not in have]
    operation["parameters"] = [*operation.get("parameters", []), *carried]


def name_gc_bodies(doc: Doc, upstream: Bundler) -> None:
    # Upstream's file names would make the GC request bodies `RegistryRunGc` and
    # `UpdateRegistry` (it updates, i.e. cancels, a garbage collection, not a registry);
    # named after their operations they read as what they are.
    _rename_schema(doc, "registry_run_gc", "run_garbage_collection")
    _rename_schema(doc, "update_registry", "update_garbage_collection")


def open_gc_status(doc: Doc, upstream: Bundler) -> None:
    # The API has sent GC statuses its docs do not list, and a generated enum rejects an
    # unknown value (the whole response fails to parse): a plain string, with the
    # documented values kept in `x-known-values` and the description.
    schema = doc["components"]["schemas"].get("garbage_collection")
    status = None if schema is None else schema["properties"].get("status")
    if status is None or "enum" not in status:
        return
    known = status.pop("enum")
    listed = ", ".join(f"`{value}`" for value in known)
    status["description"] = f"{status['description'].rstrip('.')}. Known values (the API may send others): {listed}."
    status["x-known-values"] = known


def add_retry_after(doc: Doc, upstream: Bundler) -> None:
    # Upstream documents `retry-after` on burst-limit 429s only in its prose
    # (description.yml, "Rate Limit"), not on the response; clients need it declared.
    too_many = doc["components"].get("responses", {}).get("too_many_requests")
    if too_many is None:
        return
    doc["components"]["headers"]["retry-after"] = {
        "description": (
            "The number of seconds to wait before making another request when rate"
            " limited (sent when the burst limit is reached)."
        ),
        "schema": {"type": "integer"},
        "example": 29,
    }
    too_many["headers"]["retry-after"] = _ref("headers", "retry-after")


def empty_bearer_scopes(doc: Doc, upstream: Bundler) -> None:
    # OpenAPI 3.0 requires an empty scope list for non-OAuth schemes; upstream lists
    # scopes (`registry:read`, ...) on an http bearer scheme. They stay documented in x-scopes.
    for operation in _operations(doc):
        scopes = sorted({s for req in operation.get("security", []) for s in req.get("bearer_auth", [])})
        operation["security"] = [{"bearer_auth": []}]
        if scopes:
            operation["x-scopes"] = scopes


ADJUSTMENTS: tuple[Callable[[Doc, Bundler], None], ...] = (
    flatten_page_links,
    fold_paged_bodies,
    fold_meta,
    fold_all_of_schemas,
    name_response_bodies,
    carry_gc_type_body,
    carry_docker_credentials_params,
    name_gc_bodies,
    open_gc_status,
    add_retry_after,
    empty_bearer_scopes,
)


# --- assembly ----------------------------------------------------------------------


def upstream_commit(upstream: Path) -> str:
    """The upstream commit: from git, else from a SOURCE.md beside the spec."""
    try:
        out = subprocess.run(
            ["git", "-C", str(upstream), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if re.fullmatch(r"[0-9a-f]{40}", out) and (upstream / ".git").exists():
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    source = upstream / "SOURCE.md"
    if source.exists():
        match = re.search(r"\b[0-9a-f]{40}\b", source.read_text(encoding="utf-8"))
        if match:
            return match.group(0)
    return "unknown"


def prune(doc: Doc) -> None:
    """Drop the components nothing reaches from the paths any more (folded pieces, twins' parts)."""
    components = doc["components"]
    reached: set[tuple[str, str]] = set()
    todo: list[Any] = [doc["paths"]]
    while todo:
        for node in _walk(todo.pop()):
            ref = node.get("$ref")
            if not isinstance(ref, str):
                continue
            section, name = ref.removeprefix("#/components/").split("/")
            if name not in components.get(section, {}):
                raise SystemExit(f"dangling {ref}")
            if (section, name) not in reached:
                reached.add((section, name))
                todo.append(components[section][name])
    for section, bucket in components.items():
        if section != "securitySchemes":
            components[section] = {name: bucket[name] for name in bucket if (section, name) in reached}


def build(upstream: Path, operations: tuple[str, ...] = OPERATIONS) -> Doc:
    """The fragment for ``operations`` (upstream operation ids) from an upstream checkout."""
    bundler = Bundler(upstream)
    root = bundler.load(ROOT_FILE)
    paths: dict[str, dict[str, Any]] = {}
    for operation_id in operations:
        found = bundler.find(operation_id)
        if found.method in paths.get(found.path, {}):
            raise SystemExit(f"{operation_id} is listed twice in OPERATIONS")
        paths.setdefault(found.path, {})[found.method] = bundler.resolve(found.node, found.here, "operation")
    schemes = root["components"]["securitySchemes"]
    bundler.components["securitySchemes"] = {"bearer_auth": bundler.resolve(schemes["bearer_auth"], ROOT_FILE, "other")}
    info = root["info"]
    doc: Doc = {
        "openapi": root["openapi"],
        "info": {
            "title": TITLE,
            "version": info["version"],
            "description": (
                "Generated by docr's scripts/sync_spec.py from digitalocean/openapi"
                f" commit {upstream_commit(upstream)}; see openapi/README.md."
                " Do not edit by hand."
            ),
            "license": info["license"],
        },
        "servers": root["servers"],
        "security": root["security"],
        "paths": paths,
        "components": bundler.components,
    }
    for section in SECTION_ORDER:
        bundler.components.setdefault(section, {})
    for adjust in ADJUSTMENTS:
        adjust(doc, bundler)
    prune(doc)
    components = doc["components"]
    doc["components"] = {s: dict(sorted(components[s].items())) for s in SECTION_ORDER if components.get(s)}
    return doc


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line text, no anchors: the fragment reads and diffs cleanly."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(doc: Doc) -> str:
    header = "# Generated by scripts/sync_spec.py from DigitalOcean's openapi spec (Apache-2.0). Do not edit.\n"
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upstream", type=Path, help="a digitalocean/openapi checkout")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent.parent / "openapi")
    args = parser.parse_args(argv)
    if not (args.upstream / ROOT_FILE).is_file():
        parser.error(f"{args.upstream} has no {ROOT_FILE}: is it a digitalocean/openapi checkout?")
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / OUTPUT_NAME).write_text(render(build(args.upstream)), encoding="utf-8")
    (args.output / "LICENSE").write_bytes((args.upstream / "LICENSE").read_bytes())
    print(f"wrote {args.output / OUTPUT_NAME}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
