"""The API's operations as ``Call``s: validated arguments in, a request description out. No I/O.

The generated package (``docr_api``) builds each request (method, path with every parameter
quoted once, query, JSON body) and parses each documented 2xx body, strictly; this module adds
what the facade knows: which path the client uses (current ``/v2/registries/...`` or, with
``legacy_endpoint``, the deprecated ``/v2/registry/...`` where a twin exists), how to name the
call in logs, which docr model the answer becomes, and how each call may be retried.

The list-manifests page is the exception to "the generated package parses": it is the hot path
of every walk, checked in one pass by ``docr._parse`` (see there).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from docr._exchange import Call, Reply
from docr._models import Manifest, ManifestPage, RateLimit
from docr._parse import FieldError, check_manifests, total_of
from docr._resources import DockerCredentials, GarbageCollection, Registry, Repository, Subscription, Tag
from docr._secrets import Secret

__all__ = [
    "GC_TYPES",
    "PageRequest",
    "RepositoryPage",
    "TagPage",
    "cancel_gc",
    "delete_manifest",
    "delete_tag",
    "docker_credentials",
    "gc_page",
    "get_active_gc",
    "get_registry",
    "get_subscription",
    "parse_manifest_page",
    "repositories_page",
    "start_gc",
]

T = TypeVar("T")

# (untagged_manifests, unreferenced_blobs) -> the API's garbage collection `type`.
GC_TYPES: dict[tuple[bool, bool], str] = {
    (True, True): "untagged manifests and unreferenced blobs",
    (True, False): "untagged manifests only",
    (False, True): "unreferenced blobs only",
}


def _operation(name: str, legacy: bool = False) -> Any:
    """A generated operation module, imported when first used (building a request needs no models)."""
    if legacy:
        return importlib.import_module(f"docr_api.api.container_registry.{name.replace('registries_', 'registry_', 1)}")
    return importlib.import_module(f"docr_api.api.container_registries.{name}")


def _generated(
    module: Any, what: str, convert: Callable[[Any], T], *, idempotent: bool = True, **arguments: Any
) -> Call[T]:
    """A call whose request and 2xx body are the generated module's, converted to a docr model."""
    built = module.build_request(**arguments)

    def parse(data: Any, reply: Reply) -> T:
        from docr_api.errors import UnexpectedStatus

        try:
            model = module.parse_response(reply.status, data)
        except UnexpectedStatus:
            raise FieldError("(status)", f"one of {module.SUCCESS_STATUSES}", reply.status) from None
        return convert(model)

    return Call(
        method=built["method"],
        path=built["url"],
        params=built.get("params"),
        json=built.get("json"),
        parse=parse,
        what=what,
        idempotent=idempotent,
    )


# --- paged listings -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated request for one page of a repository's manifests (or, with ``tags``, its tags)."""

    registry: str
    repository: str
    page: int
    per_page: int
    legacy_endpoint: bool = False
    tags: bool = False

    def call(self, page: int | None = None, per_page: int | None = None) -> Call[Any]:
        """The call for ``page`` (default: this one), optionally with another ``per_page``."""
        number = self.page if page is None else page
        size = self.per_page if per_page is None else per_page
        if self.tags:
            return _tags_page(self, number, size)
        operation = _operation("registries_list_repository_manifests", self.legacy_endpoint)
        built = operation.build_request(self.registry, self.repository, per_page=size, page=number)

        def parse(data: Any, reply: Reply) -> ManifestPage:
            return parse_manifest_page(data, reply, number, size)

        return Call(
            method=built["method"],
            path=built["url"],
            params=built.get("params"),
            parse=parse,
            what=f"{self.registry}/{self.repository} page {number}",
        )

    def describe(self) -> str:
        """For logs and errors: ``example/my/repo page 2`` (names only, never headers)."""
        return f"{self.registry}/{self.repository} page {self.page}"


def parse_manifest_page(data: Any, reply: Reply, page: int, per_page: int) -> ManifestPage:
    """A ``ManifestPage`` from the decoded body of a list-manifests 200, every field checked."""
    body, total = total_of(data)
    items = body.get("manifests")
    if items is None:
        items = []
    elif type(items) is not list:
        raise FieldError("manifests", "an array of objects", items)
    # One pass checks the page (paths built only for an item at fault), one wraps it: no copies.
    manifests = list(map(Manifest._trusted, items, check_manifests(items)))
    return ManifestPage(
        manifests=manifests,
        total=total,
        page=page,
        per_page=per_page,
        rate_limit=RateLimit.from_headers(reply.headers),
        request_id=reply.request_id,
    )


@dataclass(frozen=True, slots=True)
class TagPage:
    """One page of a repository's tags, as the server sent it."""

    tags: list[Tag]
    total: int
    page: int
    per_page: int
    rate_limit: RateLimit | None = None
    request_id: str | None = None

    @property
    def items(self) -> list[Tag]:
        return self.tags

    @property
    def last_page(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _tags_page(request: PageRequest, page: int, per_page: int) -> Call[TagPage]:
    def convert(model: Any, reply: Reply) -> TagPage:
        from docr_api.types import Unset

        tags = [] if isinstance(model.tags, Unset) else [Tag.from_model(tag) for tag in model.tags]
        return TagPage(tags, model.meta.total, page, per_page, RateLimit.from_headers(reply.headers), reply.request_id)

    operation = _operation("registries_list_repository_tags", request.legacy_endpoint)
    call: Call[Any] = _generated(
        operation,
        f"{request.registry}/{request.repository} tags page {page}",
        lambda model: model,
        registry_name=request.registry,
        repository_name=request.repository,
        per_page=per_page,
        page=page,
    )
    generated_parse = call.parse
    call.parse = lambda data, reply: _checked_total(convert(generated_parse(data, reply), reply))
    return call


def _checked_total(page: TagPage) -> TagPage:
    if page.total < 0:
        raise FieldError("meta.total", "a count (an integer >= 0)", page.total)
    return page


@dataclass(frozen=True, slots=True)
class RepositoryPage:
    """One page of a registry's repositories; ``next_token`` is the ``page_token`` of the next one."""

    repositories: list[Repository]
    total: int
    next_token: str | None
    rate_limit: RateLimit | None = None

    @property
    def items(self) -> list[Repository]:
        return self.repositories


def repositories_page(registry: str, per_page: int, page_token: str | None) -> Call[RepositoryPage]:
    def convert(model: Any, reply: Reply) -> RepositoryPage:
        from docr_api.types import Unset

        repositories = [] if isinstance(model.repositories, Unset) else model.repositories
        if model.meta.total < 0:
            raise FieldError("meta.total", "a count (an integer >= 0)", model.meta.total)
        return RepositoryPage(
            [Repository.from_model(repository) for repository in repositories],
            model.meta.total,
            _next_token(model),
            RateLimit.from_headers(reply.headers),
        )

    from docr_api.types import UNSET

    # `page` is left out: with a token the API ignores it, and the generated default would send page=1.
    arguments: dict[str, Any] = {"registry_name": registry, "per_page": per_page, "page": UNSET}
    if page_token is not None:
        arguments["page_token"] = page_token
    call: Call[Any] = _generated(
        _operation("registries_list_repositories_v2"), f"{registry} repositories", lambda model: model, **arguments
    )
    generated_parse = call.parse
    call.parse = lambda data, reply: convert(generated_parse(data, reply), reply)
    return call


def _next_token(model: Any) -> str | None:
    # Only the opaque token is taken from the link: the URL itself is never followed (a server
    # could point it anywhere, with our token attached).
    from docr_api.types import Unset

    links = model.links
    pages = None if isinstance(links, Unset) else links.pages
    following = None if pages is None or isinstance(pages, Unset) else pages.next_
    if following is None or isinstance(following, Unset):
        return None
    tokens = parse_qs(urlsplit(following).query).get("page_token")
    if not tokens or not tokens[0]:
        raise FieldError("links.pages.next", "a URL with a page_token", following)
    return str(tokens[0])


# --- deletes ------------------------------------------------------------------------------------


def delete_manifest(registry: str, repository: str, digest: str, *, legacy: bool) -> Call[None]:
    return _delete(
        _operation("registries_delete_repository_manifest", legacy),
        f"delete {registry}/{repository}@{digest}",
        registry_name=registry,
        repository_name=repository,
        manifest_digest=digest,
    )


def delete_tag(registry: str, repository: str, tag: str, *, legacy: bool) -> Call[None]:
    return _delete(
        _operation("registries_delete_repository_tag", legacy),
        f"delete {registry}/{repository}:{tag}",
        registry_name=registry,
        repository_name=repository,
        repository_tag=tag,
    )


def _delete(module: Any, what: str, **arguments: Any) -> Call[None]:
    built = module.build_request(**arguments)
    return Call(
        method=built["method"],
        path=built["url"],
        parse=lambda data, reply: None,  # any 2xx is done; the body (204: none) does not matter
        what=what,
        expects_body=False,
        gone_is_done=True,
    )


# --- the registry, its plan and its credentials -------------------------------------------------


def get_registry(registry: str) -> Call[Registry]:
    def convert(model: Any) -> Registry:
        from docr_api.types import Unset

        if isinstance(model.registry, Unset):
            raise FieldError("registry", "an object", None)
        return Registry.from_model(model.registry)

    return _generated(_operation("registries_get"), f"registry {registry}", convert, registry_name=registry)


def get_subscription() -> Call[Subscription]:
    def convert(model: Any) -> Subscription:
        from docr_api.types import Unset

        if isinstance(model.subscription, Unset):
            raise FieldError("subscription", "an object", None)
        return Subscription.from_model(model.subscription)

    return _generated(_operation("registries_get_subscription"), "subscription", convert)


REGISTRY_HOST = "registry.digitalocean.com"


def docker_credentials(registry: str, *, read_write: bool, expiry_seconds: int | None) -> Call[DockerCredentials]:
    def convert(model: Any) -> DockerCredentials:
        from docr_api.types import Unset

        auths = model.auths
        entry = None if isinstance(auths, Unset) else auths.registry_digitalocean_com
        auth = None if entry is None or isinstance(entry, Unset) else entry.auth
        if auth is None or isinstance(auth, Unset):
            raise FieldError(f'auths["{REGISTRY_HOST}"].auth', "a string", None)
        return DockerCredentials.from_auth(REGISTRY_HOST, Secret(auth))

    from docr_api.types import UNSET

    # Left out unless given: the generated default (0) asks for credentials that never expire.
    arguments: dict[str, Any] = {
        "registry_name": registry,
        "read_write": read_write,
        "expiry_seconds": UNSET if expiry_seconds is None else expiry_seconds,
    }
    call = _generated(
        _operation("registries_get_docker_credentials"), f"docker credentials of {registry}", convert, **arguments
    )
    call.secret_answer = True
    return call


# --- garbage collection -------------------------------------------------------------------------


def _gc(model: Any) -> GarbageCollection:
    from docr_api.types import Unset

    if isinstance(model.garbage_collection, Unset):
        raise FieldError("garbage_collection", "an object", None)
    return GarbageCollection.from_model(model.garbage_collection)


def start_gc(registry: str, gc_type: str) -> Call[GarbageCollection]:
    from docr_api.models import RunGarbageCollection

    return _generated(
        _operation("registries_run_garbage_collection"),
        f"start garbage collection of {registry}",
        _gc,
        # Not idempotent: a start whose answer was lost may have started one. Retried only when
        # the request surely never reached the API (429, a refused connection).
        idempotent=False,
        registry_name=registry,
        body=RunGarbageCollection(type_=gc_type),
    )


def get_active_gc(registry: str) -> Call[GarbageCollection]:
    return _generated(
        _operation("registries_get_garbage_collection"),
        f"active garbage collection of {registry}",
        _gc,
        registry_name=registry,
    )


def gc_page(registry: str, page: int, per_page: int) -> Call[list[GarbageCollection]]:
    def convert(model: Any) -> list[GarbageCollection]:
        from docr_api.types import Unset

        items = [] if isinstance(model.garbage_collections, Unset) else model.garbage_collections
        return [GarbageCollection.from_model(item) for item in items]

    return _generated(
        _operation("registries_list_garbage_collections"),
        f"garbage collections of {registry} page {page}",
        convert,
        registry_name=registry,
        page=page,
        per_page=per_page,
    )


def cancel_gc(registry: str, uuid: str) -> Call[GarbageCollection]:
    from docr_api.models import UpdateGarbageCollection

    return _generated(
        _operation("registries_update_garbage_collection"),
        f"cancel garbage collection {uuid} of {registry}",
        _gc,
        registry_name=registry,
        garbage_collection_uuid=uuid,
        body=UpdateGarbageCollection(cancel=True),
    )
