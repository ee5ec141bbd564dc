"""The API's operations as ``Call``s: validated arguments in, a request description out. No I/O.

The generated package (``docr_api``) builds each request (method, path with every parameter
quoted once, query, JSON body); this module adds what the facade knows: which path the client
uses (current ``/v2/registries/...`` or, with ``legacy_endpoint``, the deprecated
``/v2/registry/...``), how to name the call in logs, and how to read its 2xx body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docr._exchange import Call, Reply
from docr._models import Manifest, ManifestPage, RateLimit
from docr._parse import FieldError, check_manifest, total_of

__all__ = ["PageRequest", "parse_manifest_page"]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated request for one page of a repository's manifests."""

    registry: str
    repository: str
    page: int
    per_page: int
    legacy_endpoint: bool = False

    def call(self, page: int | None = None, per_page: int | None = None) -> Call[ManifestPage]:
        """The call for ``page`` (default: this one), optionally with another ``per_page``."""
        number = self.page if page is None else page
        size = self.per_page if per_page is None else per_page
        built = _list_manifests(self.legacy_endpoint)(self.registry, self.repository, per_page=size, page=number)

        def parse(data: Any, reply: Reply) -> ManifestPage:
            return parse_manifest_page(data, reply, number, size)

        return Call(
            method=built["method"].upper(),
            path=built["url"],
            params=built.get("params"),
            parse=parse,
            what=f"{self.registry}/{self.repository} page {number}",
        )

    def describe(self) -> str:
        """For logs and errors: ``example/my/repo page 2`` (names only, never headers)."""
        return f"{self.registry}/{self.repository} page {self.page}"


def _list_manifests(legacy: bool) -> Callable[..., dict[str, Any]]:
    if legacy:
        from docr_api.api.container_registry import registry_list_repository_manifests as legacy_operation

        return legacy_operation.build_request
    from docr_api.api.container_registries import registries_list_repository_manifests as operation

    return operation.build_request


def parse_manifest_page(data: Any, reply: Reply, page: int, per_page: int) -> ManifestPage:
    """A ``ManifestPage`` from the decoded body of a list-manifests 200, every field checked."""
    body, total = total_of(data)
    items = body.get("manifests")
    if items is None:
        items = []
    elif type(items) is not list:
        raise FieldError("manifests", "an array of objects", items)
    trusted = Manifest._trusted
    manifests = [trusted(item, check_manifest(item, f"manifests[{index}]")) for index, item in enumerate(items)]
    return ManifestPage(
        manifests=manifests,
        total=total,
        page=page,
        per_page=per_page,
        rate_limit=RateLimit.from_headers(reply.headers),
        request_id=reply.request_id,
    )
