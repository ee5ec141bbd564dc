"""Which DO API operation a request asks for: its method and raw, still-encoded path.

The fake serves these (each under `/v2/registries/...` and, except the registry, credentials
and subscription ones, under its deprecated `/v2/registry/...` twin too; the subscription is
served under both):

    GET    /v2/registries/subscription                                      get_subscription
    GET    /v2/registries/{registry}                                        get_registry
    GET    /v2/registries/{registry}/docker-credentials                     get_docker_credentials
    GET    /v2/registries/{registry}/repositoriesV2                         list_repositories
    GET    /v2/registries/{registry}/repositories/{repository}/digests      list_manifests
    DELETE /v2/registries/{registry}/repositories/{repository}/digests/{d}  delete_manifest
    GET    /v2/registries/{registry}/repositories/{repository}/tags         list_tags
    DELETE /v2/registries/{registry}/repositories/{repository}/tags/{tag}   delete_tag
    POST   /v2/registries/{registry}/garbage-collection                     start_garbage_collection
    GET    /v2/registries/{registry}/garbage-collection                     get_garbage_collection
    GET    /v2/registries/{registry}/garbage-collections                    list_garbage_collections
    PUT    /v2/registries/{registry}/garbage-collection/{uuid}              cancel_garbage_collection

Each segment is percent-decoded (`my%2Frepo` is `my/repo`); an unencoded `/` in a repository
name makes extra segments and matches nothing (404, as upstream). A path that matches with
another method is a 405 (`Route.operation` None, `Route.allowed` the methods it takes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

__all__ = ["Route", "route"]

# (prefixes allowed, segments after the registry name) -> {method: operation}
_TABLE: Final[dict[tuple[str, ...], dict[str, str]]] = {
    (): {"GET": "get_registry"},
    ("docker-credentials",): {"GET": "get_docker_credentials"},
    ("repositoriesV2",): {"GET": "list_repositories"},
    ("repositories", "*", "digests"): {"GET": "list_manifests"},
    ("repositories", "*", "digests", "*"): {"DELETE": "delete_manifest"},
    ("repositories", "*", "tags"): {"GET": "list_tags"},
    ("repositories", "*", "tags", "*"): {"DELETE": "delete_tag"},
    ("garbage-collection",): {"GET": "get_garbage_collection", "POST": "start_garbage_collection"},
    ("garbage-collections",): {"GET": "list_garbage_collections"},
    ("garbage-collection", "*"): {"PUT": "cancel_garbage_collection"},
}
# Operations with no deprecated /v2/registry/{name}/... twin upstream.
_CURRENT_ONLY: Final = frozenset({"get_registry", "get_docker_credentials"})


@dataclass(frozen=True)
class Route:
    """A request target that names an operation (or, with `operation` None, a path of another method)."""

    path: str  # the raw path, still encoded: links repeat it
    operation: str | None
    allowed: tuple[str, ...]
    registry: str = ""
    repository: str = ""
    item: str = ""  # the digest, tag or garbage collection uuid


def route(method: str, raw_path: str) -> Route | None:
    path = raw_path.partition("?")[0]
    parts = path.split("/")
    if len(parts) < 4 or parts[0] or parts[1] != "v2" or parts[2] not in ("registry", "registries"):
        return None
    if len(parts) == 4 and parts[3] == "subscription":
        return _found(path, {"GET": "get_subscription"}, method)
    names = [unquote(part) for part in parts[3:]]
    if not all(names):
        return None
    registry, rest = names[0], parts[4:]
    shape = tuple("*" if index in (1, 3) and rest[0] == "repositories" else part for index, part in enumerate(rest))
    shape = tuple("*" if index == 1 and rest[0] == "garbage-collection" else part for index, part in enumerate(shape))
    methods = _TABLE.get(shape)
    if methods is None or (parts[2] == "registry" and not _CURRENT_ONLY.isdisjoint(methods.values())):
        return None
    found = _found(path, methods, method)
    repository = names[2] if shape[:1] == ("repositories",) else ""
    item = names[-1] if shape[-1:] == ("*",) else ""
    return Route(found.path, found.operation, found.allowed, registry, repository, item)


def _found(path: str, methods: dict[str, str], method: str) -> Route:
    return Route(path=path, operation=methods.get(method), allowed=tuple(methods))
