"""The DigitalOcean API side of the fake: auth, the rate limit, then one handler per operation.

Answers, in order: 401 `unauthorized` without a well-formed bearer token (or, with
`FakeRegistry(token=...)`, another one); 429 from the rate limiter; 404 `not_found` for a path
that names no operation; 405 `method_not_allowed` (with `allow`) for a method the path does not
take; 400 `bad_request` for a query or body the operation cannot take; then the operation's own
answer. Handlers raise `Refusal` for 404 (unknown registry, repository, manifest, tag,
collection) and 409 `conflict`: a delete while a garbage collection is active (the registry is
read-only: see the `docr.testing` docstring), a second collection while one is active, or a
cancel of one that has ended.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from docr.testing import _api, _listings
from docr.testing._credentials import Credentials
from docr.testing._do_routes import Route
from docr.testing._gc import DEFAULT_TYPE, GC_TYPES
from docr.testing._ratelimit import Quota, RateLimiter
from docr.testing._records import RecordedRequest
from docr.testing._registries import DEFAULT_CREATED_AT, Refusal, Registries
from docr.testing._server import Answer

__all__ = ["PAGED", "TIERS", "DoApi"]

PAGED: Final = frozenset({"list_manifests", "list_tags", "list_repositories", "list_garbage_collections"})
REGISTRY_HOST: Final = "registry.digitalocean.com"
# Upstream's tiers (registry options example); the overage price from the tier model's example.
TIERS: Final[Mapping[str, Mapping[str, Any]]] = {
    "starter": {
        "name": "Starter",
        "slug": "starter",
        "included_repositories": 1,
        "included_storage_bytes": 524_288_000,
        "allow_storage_overage": False,
        "included_bandwidth_bytes": 524_288_000,
        "monthly_price_in_cents": 0,
        "storage_overage_price_in_cents": 0,
    },
    "basic": {
        "name": "Basic",
        "slug": "basic",
        "included_repositories": 5,
        "included_storage_bytes": 5_368_709_120,
        "allow_storage_overage": True,
        "included_bandwidth_bytes": 5_368_709_120,
        "monthly_price_in_cents": 500,
        "storage_overage_price_in_cents": 2,
    },
    "professional": {
        "name": "Professional",
        "slug": "professional",
        "included_repositories": 0,
        "included_storage_bytes": 107_374_182_400,
        "allow_storage_overage": True,
        "included_bandwidth_bytes": 107_374_182_400,
        "monthly_price_in_cents": 2000,
        "storage_overage_price_in_cents": 2,
    },
}
_BOOLEANS: Final = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}  # Go's ParseBool

Handler = Callable[[Route, Mapping[str, str], bytes, Quota, str], Answer]


class DoApi:
    def __init__(
        self, registries: Registries, credentials: Credentials, limiter: RateLimiter, token: str | None
    ) -> None:
        self.registries = registries
        self.credentials = credentials
        self.limiter = limiter
        self.token = token
        self.tier = "basic"
        self._handlers: dict[str, Handler] = {
            "list_manifests": self._list_manifests,
            "list_tags": self._list_tags,
            "list_repositories": self._list_repositories,
            "delete_manifest": self._delete_manifest,
            "delete_tag": self._delete_tag,
            "get_registry": self._get_registry,
            "get_subscription": self._get_subscription,
            "get_docker_credentials": self._get_docker_credentials,
            "start_garbage_collection": self._start_gc,
            "get_garbage_collection": self._get_gc,
            "list_garbage_collections": self._list_gcs,
            "cancel_garbage_collection": self._cancel_gc,
        }

    def answer(
        self,
        record: RecordedRequest,
        route: Route | None,
        headers: Mapping[str, str],
        body: bytes,
        base: str,
        request_id: str,
    ) -> Answer:
        token = _api.bearer_token(headers.get("authorization"))
        if token is None or (self.token is not None and not hmac.compare_digest(token.encode(), self.token.encode())):
            return _api.error_answer(401, request_id, self.limiter.idle())
        quota = self.limiter.count(token)
        if not quota.allowed:
            return _api.error_answer(429, request_id, quota, retry_after=quota.retry_after)
        if route is None:
            return _api.error_answer(404, request_id, quota)
        if route.operation is None:
            answer = _api.error_answer(405, request_id, quota)
            answer.headers.append(("allow", ", ".join(route.allowed)))
            return answer
        try:
            return self._handlers[route.operation](route, record.query, body, quota, base)
        except Refusal as refusal:
            return _api.error_answer(refusal.status, request_id, quota, refusal.message)

    # Listings

    def _paging(self, query: Mapping[str, str]) -> tuple[int, int]:
        paging = _api.paging(query)
        if isinstance(paging, str):
            raise Refusal(400, paging)
        return paging

    def _list_manifests(self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str) -> Answer:
        page, per_page = self._paging(query)
        found = _listings.manifest_page(self.registries, route.registry, route.repository, page, per_page)
        if found is None:
            raise Refusal(404)
        return _page_answer(_api.page_body(found[0], found[1], page, per_page, base, route.path), quota)

    def _list_tags(self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str) -> Answer:
        page, per_page = self._paging(query)
        found = _listings.tag_page(self.registries, route.registry, route.repository, page, per_page)
        if found is None:
            raise Refusal(404)
        return _page_answer(_api.page_body(found[0], found[1], page, per_page, base, route.path, key="tags"), quota)

    def _list_repositories(
        self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str
    ) -> Answer:
        page, per_page = self._paging(query)
        after = None
        if query.get("page_token"):
            after = _api.read_page_token(query["page_token"])
            if after is None:
                raise Refusal(400, "page_token is not a token this API gave")
        found = _listings.repository_page(self.registries, route.registry, after, page, per_page)
        if found is None:
            raise Refusal(404)
        texts, total, cursor = found
        token = _api.page_token(cursor) if cursor is not None else None
        text = _api.page_body(
            texts,
            total,
            page,
            per_page,
            base,
            route.path,
            key="repositories",
            next_token=token,
            more=cursor is not None,
        )
        return _page_answer(text, quota)

    def _list_gcs(self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str) -> Answer:
        page, per_page = self._paging(query)
        collections = self.registries.collections(route.registry)
        start = (page - 1) * per_page
        texts = [json.dumps(item, separators=(",", ":")) for item in collections[start : start + per_page]]
        text = _api.page_body(texts, len(collections), page, per_page, base, route.path, key="garbage_collections")
        return _page_answer(text, quota)

    # Writes

    def _delete_manifest(self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str) -> Answer:
        self.registries.delete_manifest(route.registry, route.repository, route.item)
        return _api.no_content(quota)

    def _delete_tag(self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str) -> Answer:
        self.registries.delete_tag(route.registry, route.repository, route.item)
        return _api.no_content(quota)

    # The registry and the account

    def _get_registry(self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str) -> Answer:
        return _api.json_answer(200, {"registry": self.registries.registry_body(route.registry)}, quota)

    def _get_subscription(self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str) -> Answer:
        subscription = {
            "tier": dict(TIERS[self.tier]),
            "created_at": DEFAULT_CREATED_AT,
            "updated_at": DEFAULT_CREATED_AT,
        }
        return _api.json_answer(200, {"subscription": subscription}, quota)

    def _get_docker_credentials(
        self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str
    ) -> Answer:
        read_write = _BOOLEANS.get(query.get("read_write", "false").lower())
        if read_write is None:
            raise Refusal(400, "read_write must be true or false")
        expiry = query.get("expiry_seconds", "0")
        if not expiry.isdigit() or len(expiry) > 10:
            raise Refusal(400, "expiry_seconds must be an integer from 0")
        if self.registries.get(route.registry) is None:
            raise Refusal(404)
        credential = self.credentials.issue(route.registry, read_write=read_write, expiry_seconds=int(expiry))
        return _api.json_answer(200, {"auths": {REGISTRY_HOST: {"auth": credential.auth}}}, quota)

    # Garbage collection

    def _start_gc(self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str) -> Answer:
        request = _json_object(body)
        kind = request.get("type", DEFAULT_TYPE)
        if kind not in GC_TYPES:
            raise Refusal(400, f"type must be one of: {', '.join(GC_TYPES)}")
        with self.registries.lock:
            collection = self.registries.start_collection(route.registry, kind)
            return _api.json_answer(201, {"garbage_collection": collection.body(self.registries.clock())}, quota)

    def _get_gc(self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str) -> Answer:
        with self.registries.lock:
            found = self.registries.get(route.registry)
            if found is None:
                raise Refusal(404)
            now = self.registries.clock()
            active = found.active_collection(now)
            if active is None:
                raise Refusal(404, f"no garbage collection is active on registry {route.registry}")
            return _api.json_answer(200, {"garbage_collection": active.body(now)}, quota)

    def _cancel_gc(self, route: Route, query: Mapping[str, str], body: bytes, quota: Quota, base: str) -> Answer:
        request = _json_object(body)
        cancel = request.get("cancel", False)
        if not isinstance(cancel, bool):
            raise Refusal(400, "cancel must be a boolean")
        with self.registries.lock:
            if cancel:
                collection = self.registries.cancel_collection(route.registry, route.item)
            else:
                collection = self.registries.collection(route.registry, route.item)
            return _api.json_answer(200, {"garbage_collection": collection.body(self.registries.clock())}, quota)


def _page_answer(body: bytes, quota: Quota) -> Answer:
    return Answer(200, body, [("content-type", _api.JSON), *_api.quota_headers(quota)])


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, "error parsing request body") from None
    if not isinstance(value, dict):
        raise Refusal(400, "the request body must be a JSON object")
    return value
