#!/usr/bin/env python3
"""Bundle DigitalOcean's list-manifests operations into docr's vendored fragment.

Usage::

    python scripts/sync_spec.py ../shared/reference/do-openapi   # a digitalocean/openapi checkout
    python scripts/sync_spec.py UPSTREAM_DIR --output openapi/    # the default output folder

It reads the two operations below from an upstream checkout, follows every ``$ref``
they make (upstream splits the spec over many files; openapi-python-client cannot follow
multi-file refs), turns the files named in ``COMPONENTS`` into named components and
inlines the rest, applies the documented adjustments in ``ADJUSTMENTS`` and writes
``openapi/docr.openapi.yaml`` plus the upstream ``LICENSE``. The output depends only on
the input files, so running it twice, or on the same commit elsewhere, gives the same
bytes.

Every difference from upstream is one function in ``ADJUSTMENTS`` with its reason on
the line above; nothing in ``openapi/`` is edited by hand.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

try:
    import yaml
except ImportError:  # a bare `python` without PyYAML: rerun under the project's venv
    _venv = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if _venv.exists() and Path(sys.executable) != _venv:
        os.execv(_venv, [str(_venv), __file__, *sys.argv[1:]])
    raise SystemExit("sync_spec.py needs PyYAML: run `make sync-spec UPSTREAM=...` or use .venv/bin/python") from None

ROOT_FILE = "specification/DigitalOcean-public.v2.yaml"
OUTPUT_NAME = "docr.openapi.yaml"

# The operations docr serves, in the order they appear in the fragment.
OPERATIONS = (
    ("/v2/registry/{registry_name}/repositories/{repository_name}/digests", "get"),
    ("/v2/registries/{registry_name}/repositories/{repository_name}/digests", "get"),
)

# Upstream file (and JSON pointer) -> (components section, name). Any other ref is inlined.
COMPONENTS: dict[str, tuple[str, str]] = {
    "specification/shared/parameters.yml#/per_page": ("parameters", "per_page"),
    "specification/shared/parameters.yml#/page": ("parameters", "page"),
    "specification/resources/registry/parameters.yml#/registry_name": ("parameters", "registry_name"),
    "specification/resources/registry/parameters.yml#/registry_repository_name": (
        "parameters",
        "registry_repository_name",
    ),
    "specification/resources/registry/responses/repository_manifests.yml": (
        "responses",
        "all_repository_manifests",
    ),
    "specification/shared/responses/unauthorized.yml": ("responses", "unauthorized"),
    "specification/shared/responses/not_found.yml": ("responses", "not_found"),
    "specification/shared/responses/too_many_requests.yml": ("responses", "too_many_requests"),
    "specification/shared/responses/server_error.yml": ("responses", "server_error"),
    "specification/shared/responses/unexpected_error.yml": ("responses", "unexpected_error"),
    "specification/shared/headers.yml#/ratelimit-limit": ("headers", "ratelimit-limit"),
    "specification/shared/headers.yml#/ratelimit-remaining": ("headers", "ratelimit-remaining"),
    "specification/shared/headers.yml#/ratelimit-reset": ("headers", "ratelimit-reset"),
    "specification/resources/registry/models/repository_manifest.yml": ("schemas", "repository_manifest"),
    "specification/resources/registry/models/repository_blob.yml": ("schemas", "repository_blob"),
    "specification/shared/pages.yml#/pagination": ("schemas", "pagination"),
    "specification/shared/pages.yml#/page_links": ("schemas", "page_links"),
    "specification/shared/meta.yml": ("schemas", "meta"),
    "specification/shared/models/meta_properties.yml": ("schemas", "meta_properties"),
    "specification/shared/models/error.yml": ("schemas", "error"),
}
SECTION_ORDER = ("parameters", "responses", "headers", "schemas", "securitySchemes")

Doc = dict[str, Any]


class Bundler:
    """Resolve upstream's multi-file refs into one document."""

    def __init__(self, upstream: Path) -> None:
        self.upstream = upstream
        self.files: dict[str, Any] = {}
        self.components: dict[str, dict[str, Any]] = {}

    def load(self, rel: str) -> Any:
        if rel not in self.files:
            self.files[rel] = yaml.safe_load((self.upstream / rel).read_text(encoding="utf-8"))
        return self.files[rel]

    def target(self, rel: str, pointer: str) -> Any:
        node = self.load(rel)
        for part in filter(None, pointer.split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def resolve(self, node: Any, here: str) -> Any:
        """Copy ``node`` (found in file ``here``) with every ref made local."""
        if isinstance(node, list):
            return [self.resolve(item, here) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return self.resolve_ref(node["$ref"], here)
        return {key: self.resolve(value, here) for key, value in node.items()}

    def resolve_ref(self, ref: str, here: str) -> Any:
        path, _, pointer = ref.partition("#")
        rel = str(PurePosixPath(here).parent / path) if path else here
        rel = _normalise(rel)
        key = f"{rel}#{pointer}" if pointer else rel
        resolved_here = rel
        if key in COMPONENTS:
            section, name = COMPONENTS[key]
            bucket = self.components.setdefault(section, {})
            if name not in bucket:
                bucket[name] = None  # guards against cycles while resolving
                bucket[name] = self.resolve(self.target(rel, pointer), resolved_here)
            return {"$ref": f"#/components/{section}/{name}"}
        return self.resolve(copy.deepcopy(self.target(rel, pointer)), resolved_here)


def _normalise(rel: str) -> str:
    parts: list[str] = []
    for part in PurePosixPath(rel).parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


# --- adjustments: every difference from upstream, each with its reason -------------


def flatten_page_links(doc: Doc) -> None:
    # Upstream's `pages: anyOf[forward_links, backward_links, {}]` makes the generator
    # parse a page with only first/prev into the forward variant and lose the links;
    # one object with four optional URIs says the same thing and parses every page.
    schemas = doc["components"]["schemas"]
    pages = schemas["page_links"]["properties"]["pages"]
    variants = [v for v in pages["anyOf"] if v]
    links: dict[str, Any] = {}
    for variant in variants:
        for part in variant["allOf"]:
            links.update(part["properties"])
    schemas["page_links"]["properties"]["pages"] = {
        "type": "object",
        "properties": {name: links[name] for name in ("first", "prev", "next", "last")},
        "example": pages.get("example", {}).get("pages"),
    }
    if schemas["page_links"]["properties"]["pages"]["example"] is None:
        del schemas["page_links"]["properties"]["pages"]["example"]


def fold_manifests_body(doc: Doc) -> None:
    # Upstream's 200 body is `allOf[{manifests}, pagination, meta.yml]`, which the
    # generator would emit once per operation under an operation-specific name. One
    # named object `repository_manifests_page` with the same properties, the same
    # required keys (only `meta`) and the same example gives both operations one model.
    schemas = doc["components"]["schemas"]
    response = doc["components"]["responses"]["all_repository_manifests"]
    media = response["content"]["application/json"]
    upstream = media["schema"]
    properties: dict[str, Any] = {}
    required: list[str] = []
    for piece in upstream["allOf"]:
        piece = _deref(doc, piece)
        properties.update(copy.deepcopy(piece.get("properties", {})))
        required += [name for name in piece.get("required", []) if name not in required]
    schemas.pop("pagination")
    schemas.pop("meta")
    page: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if "example" in upstream:
        page["example"] = upstream["example"]
    schemas["repository_manifests_page"] = page
    media["schema"] = {"$ref": "#/components/schemas/repository_manifests_page"}


def fold_meta(doc: Doc) -> None:
    # Upstream's `meta: allOf[meta_properties, {required: [total]}]` makes the generator
    # emit a model per allOf piece; one `meta` object with `total` required carries the
    # same contract in a single model.
    schemas = doc["components"]["schemas"]
    page = schemas["repository_manifests_page"]
    pieces = page["properties"]["meta"]["allOf"]
    meta = copy.deepcopy(_deref(doc, pieces[0]))
    meta["required"] = sorted({name for piece in pieces for name in piece.get("required", [])})
    schemas.pop("meta_properties")
    schemas["meta"] = meta
    page["properties"]["meta"] = {"$ref": "#/components/schemas/meta"}


def add_retry_after(doc: Doc) -> None:
    # Upstream documents `retry-after` on burst-limit 429s only in its prose
    # (description.yml, "Rate Limit"), not on the response; clients need it declared.
    doc["components"]["headers"]["retry-after"] = {
        "description": (
            "The number of seconds to wait before making another request when rate"
            " limited (sent when the burst limit is reached)."
        ),
        "schema": {"type": "integer"},
        "example": 29,
    }
    headers = doc["components"]["responses"]["too_many_requests"]["headers"]
    headers["retry-after"] = {"$ref": "#/components/headers/retry-after"}


def empty_bearer_scopes(doc: Doc) -> None:
    # OpenAPI 3.0 requires an empty scope list for non-OAuth schemes; upstream lists
    # `registry:read` on an http bearer scheme. The scope stays documented in x-scopes.
    for path, method in OPERATIONS:
        operation = doc["paths"][path][method]
        scopes = sorted({s for req in operation.get("security", []) for s in req.get("bearer_auth", [])})
        operation["security"] = [{"bearer_auth": []}]
        if scopes:
            operation["x-scopes"] = scopes


ADJUSTMENTS: tuple[Callable[[Doc], None], ...] = (
    flatten_page_links,
    fold_manifests_body,
    fold_meta,
    add_retry_after,
    empty_bearer_scopes,
)


def _deref(doc: Doc, node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        return doc["components"][section][name]
    return node


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


def build(upstream: Path) -> Doc:
    bundler = Bundler(upstream)
    root = bundler.load(ROOT_FILE)
    paths: dict[str, Any] = {}
    for path, method in OPERATIONS:
        ref = root["paths"][path][method]["$ref"]
        operation = bundler.resolve_ref(ref, ROOT_FILE)
        paths[path] = {method: operation}
    schemes = root["components"]["securitySchemes"]
    bundler.components["securitySchemes"] = {"bearer_auth": bundler.resolve(schemes["bearer_auth"], ROOT_FILE)}
    info = root["info"]
    doc: Doc = {
        "openapi": root["openapi"],
        "info": {
            "title": "DigitalOcean API: container registry manifests (docr fragment)",
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
        "components": {s: bundler.components[s] for s in SECTION_ORDER if s in bundler.components},
    }
    for adjust in ADJUSTMENTS:
        adjust(doc)
    components = doc["components"]
    doc["components"] = {s: dict(sorted(components[s].items())) for s in SECTION_ORDER if s in components}
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
