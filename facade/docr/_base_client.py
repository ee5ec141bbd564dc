"""What ``Client`` and ``AsyncClient`` share: settings, validation, and every call they can make.

No I/O happens here: each public method of the drivers validates its arguments and builds its
``Call`` (or its ``Steps``) through the ``_..._call`` methods below, then only sends, receives and
sleeps. A passed-in ``http_client`` is never modified: docr only calls its ``build_request`` and
``send``, with an absolute URL, its own headers and ``auth=None``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import httpx

from docr import _config, _names
from docr._errors import ClientClosedError, DocrError, InvalidArgument, NotFoundError, ServerError, TransportError
from docr._secrets import Secret

if TYPE_CHECKING:
    # Everything else is imported where it is first used, so that `docr.Client` costs little
    # more to import than httpx itself (`make bench` holds it to that).
    from docr import _operations
    from docr._exchange import Call
    from docr._models import ManifestPage
    from docr._oci import OCIManifest
    from docr._pagination import Walk
    from docr._ratebudget import RateLimits
    from docr._resources import DockerCredentials, GarbageCollection, Registry, Subscription
    from docr._steps import Steps
    from docr._token_walk import TokenWalk

DEFAULT_PER_PAGE = 20
ITER_PER_PAGE = 200  # walks ask for the most the API allows: fewer round trips

OnPage = Callable[["ManifestPage"], None]
OnStatus = Callable[["GarbageCollection"], object]
Pages = tuple[Any, list[Any]]
_Http = TypeVar("_Http", httpx.Client, httpx.AsyncClient)
T = TypeVar("T")

_UUID_CHARACTERS = frozenset("0123456789abcdefABCDEF-")


class BaseClient(Generic[_Http]):
    """Settings, validation, calls and the HTTP pool; no I/O."""

    _http_type: ClassVar[type[httpx.Client] | type[httpx.AsyncClient]]

    def __init__(
        self,
        token: str | Secret | None = None,
        *,
        base_url: str | _config._NotGiven = _config.NOT_GIVEN,
        timeout: float = _config.DEFAULT_TIMEOUT,
        max_retries: int = 3,
        concurrency: int = 4,
        legacy_endpoint: bool = False,
        max_response_bytes: int = _config.DEFAULT_MAX_RESPONSE_BYTES,
        rate_limits: RateLimits | None = None,
        oci_base_url: str | None = None,
        http_client: _Http | None = None,
    ) -> None:
        token = _config.hide(token)  # first thing: from here on no frame holds the token bare
        self._closed = False
        self._flight = threading.Lock()  # guards _closed and _attempts (attempts in flight)
        self._attempts = 0
        if http_client is not None and not isinstance(http_client, self._http_type):
            raise InvalidArgument(
                "http_client", f"must be an {self._http_type.__qualname__}, not {type(http_client).__name__}"
            )
        if isinstance(base_url, _config._NotGiven):
            given = str(http_client.base_url) if http_client is not None else ""
            base_url = given or os.environ.get(_config.BASE_URL_VARIABLE) or _config.DEFAULT_BASE_URL
        self._settings = _config.settings(
            token=token,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            concurrency=concurrency,
            legacy_endpoint=legacy_endpoint,
            max_response_bytes=max_response_bytes,
        )
        from docr._ratebudget import RateBudget, RateLimits
        from docr._retry import RetryPolicy

        if rate_limits is not None and not isinstance(rate_limits, RateLimits):
            raise InvalidArgument("rate_limits", f"must be a docr.RateLimits, not {type(rate_limits).__name__}")
        from docr._oci_session import DEFAULT_OCI_BASE_URL

        self._oci_base_url = _config.resolve_base_url(oci_base_url or DEFAULT_OCI_BASE_URL, "oci_base_url")
        self._oci: Any = None  # the OCISession, made on first use
        self._authorization = Secret("Bearer " + self._settings.token.reveal())
        self._budget = RateBudget(rate_limits or RateLimits())
        self._retry = RetryPolicy(max_retries=self._settings.max_retries)
        self._owns_http = http_client is None
        from docr._transport import own_http

        self._http: _Http = http_client or own_http(self._http_type, self._settings.timeout)  # type: ignore[assignment, type-var]

    def __repr__(self) -> str:
        settings = getattr(self, "_settings", None)  # a client whose settings were refused has none
        if settings is None:
            return f"docr.{type(self).__name__}(not configured)"
        return (
            f"docr.{type(self).__name__}(base_url={settings.base_url!r}, token=[secure],"
            f" legacy_endpoint={settings.legacy_endpoint})"
        )

    @property
    def rate_limits(self) -> RateLimits:
        """The limits this client paces its requests to."""
        return self._budget.limits

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError(f"this docr.{type(self).__name__} is closed; open a new one")

    def _secrets(self) -> tuple[Secret, ...]:
        if self._oci is None:
            return (self._settings.token,)
        return (self._settings.token, *self._oci.secrets())

    def _target(self, call: Call[Any]) -> tuple[str, Secret | None]:
        """Where a call goes, and with which Authorization: the API's token never leaves the API."""
        if call.base_url is None:
            return self._settings.base_url, self._authorization
        return call.base_url, call.authorization

    def _retry_wait(self, call: Call[Any], error: DocrError, attempt: int) -> float:
        return self._retry.wait_or_raise(error, attempt, call.what, idempotent=call.idempotent)

    # --- listings ----------------------------------------------------------------------------

    def _request(self, registry: str, repository: str, page: int, per_page: int) -> _operations.PageRequest:
        from docr import _operations

        self._check_open()
        return _operations.PageRequest(
            registry=_names.registry_name(registry),
            repository=_names.repository_name(repository),
            page=_names.page(page),
            per_page=_names.per_page(per_page),
            legacy_endpoint=self._settings.legacy_endpoint,
        )

    def _walk(
        self,
        registry: str,
        repository: str,
        *,
        per_page: int,
        start_page: int,
        max_items: int | None = None,
        dedupe: bool = True,
    ) -> tuple[_operations.PageRequest, Walk]:
        from docr._pagination import Walk

        template = self._request(registry, repository, _names.page(start_page, "start_page"), per_page)
        walk = Walk(
            target=f"{template.registry}/{template.repository}",
            per_page=template.per_page,
            start_page=template.page,
            max_items=_names.max_items(max_items),
            window=self._settings.concurrency,
            dedupe=dedupe,
        )
        return template, walk

    def _tags_walk(self, registry: str, repository: str, per_page: int) -> tuple[_operations.PageRequest, Walk]:
        from docr import _operations
        from docr._pagination import Walk

        template = self._request(registry, repository, 1, per_page)
        template = _operations.PageRequest(
            template.registry, template.repository, 1, template.per_page, template.legacy_endpoint, tags=True
        )
        walk = Walk(
            target=f"{template.registry}/{template.repository} tags",
            per_page=template.per_page,
            window=self._settings.concurrency,
            key=lambda tag: tag.tag or repr(tag),
            noun="tags",
        )
        return template, walk

    def _repositories_walk(self, registry: str, per_page: int) -> tuple[str, TokenWalk]:
        from docr._token_walk import TokenWalk

        self._check_open()
        name = _names.registry_name(registry)
        size = _names.per_page(per_page)
        walk = TokenWalk(target=f"{name} repositories", per_page=size, key=lambda r: r.name, noun="repositories")
        return name, walk

    # --- single calls ------------------------------------------------------------------------

    def _delete_manifest_call(self, registry: str, repository: str, digest: str) -> Call[None]:
        from docr import _operations

        self._check_open()
        return _operations.delete_manifest(
            _names.registry_name(registry),
            _names.repository_name(repository),
            _names.digest(digest),
            legacy=self._settings.legacy_endpoint,
        )

    def _delete_tag_call(self, registry: str, repository: str, tag: str) -> Call[None]:
        from docr import _operations

        self._check_open()
        return _operations.delete_tag(
            _names.registry_name(registry),
            _names.repository_name(repository),
            _names.tag(tag),
            legacy=self._settings.legacy_endpoint,
        )

    def _registry_call(self, registry: str) -> Call[Registry]:
        from docr import _operations

        self._check_open()
        return _operations.get_registry(_names.registry_name(registry))

    def _subscription_call(self) -> Call[Subscription]:
        from docr import _operations

        self._check_open()
        return _operations.get_subscription()

    def _credentials_call(self, registry: str, read_write: bool, expiry_seconds: int | None) -> Call[DockerCredentials]:
        from docr import _operations

        self._check_open()
        if not isinstance(read_write, bool):
            raise InvalidArgument("read_write", f"must be True or False, not {read_write!r}")
        if expiry_seconds is not None and (
            isinstance(expiry_seconds, bool) or not isinstance(expiry_seconds, int) or expiry_seconds < 1
        ):
            raise InvalidArgument("expiry_seconds", f"must be a positive int or None, not {expiry_seconds!r}")
        return _operations.docker_credentials(
            _names.registry_name(registry), read_write=read_write, expiry_seconds=expiry_seconds
        )

    def _start_gc_call(
        self, registry: str, untagged_manifests: bool, unreferenced_blobs: bool
    ) -> Call[GarbageCollection]:
        from docr import _operations

        self._check_open()
        for name, value in (("untagged_manifests", untagged_manifests), ("unreferenced_blobs", unreferenced_blobs)):
            if not isinstance(value, bool):
                raise InvalidArgument(name, f"must be True or False, not {value!r}")
        gc_type = _operations.GC_TYPES.get((untagged_manifests, unreferenced_blobs))
        if gc_type is None:
            raise InvalidArgument("untagged_manifests", "and unreferenced_blobs are both False: nothing to collect")
        return _operations.start_gc(_names.registry_name(registry), gc_type)

    def _active_gc_call(self, registry: str) -> Call[GarbageCollection]:
        from docr import _operations

        self._check_open()
        return _operations.get_active_gc(_names.registry_name(registry))

    def _gc_history_probe(self, registry: str) -> Call[list[GarbageCollection]]:
        """One garbage collection of the history: answers 404 only if the registry does not exist."""
        from docr import _operations

        return _operations.gc_page(_names.registry_name(registry), 1, 1)

    def _cancel_gc_call(self, registry: str, uuid: str) -> Call[GarbageCollection]:
        from docr import _operations

        self._check_open()
        return _operations.cancel_gc(_names.registry_name(registry), _uuid(uuid))

    def _gc_pages(self, registry: str, per_page: int) -> tuple[str, int]:
        self._check_open()
        return _names.registry_name(registry), _names.per_page(per_page)

    def _wait_gc_steps(
        self, registry: str, uuid: str, poll_interval: float, timeout: float | None, on_status: OnStatus | None
    ) -> Steps[GarbageCollection]:
        from docr._steps import wait_gc

        self._check_open()
        if isinstance(poll_interval, bool) or not isinstance(poll_interval, int | float) or not poll_interval > 0:
            raise InvalidArgument("poll_interval", f"must be a positive number of seconds, not {poll_interval!r}")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0):
            raise InvalidArgument("timeout", f"must be a number of seconds or None, not {timeout!r}")
        if on_status is not None and not callable(on_status):
            raise InvalidArgument("on_status", "must be a callable taking a GarbageCollection, or None")
        return wait_gc(
            _names.registry_name(registry),
            _uuid(uuid),
            poll_interval=float(poll_interval),
            timeout=timeout,
            on_status=on_status,
            clock=time.monotonic,
        )

    def _oci_steps(self, registry: str, repository: str, digest: str) -> Steps[OCIManifest]:
        self._check_open()
        name, repo, checked = _names.registry_name(registry), _names.repository_name(repository), _names.digest(digest)
        if self._oci is None:
            from docr._oci_session import OCISession

            self._oci = OCISession(self._oci_base_url, self._settings.base_url)
        steps: Steps[OCIManifest] = self._oci.manifest(name, repo, checked)
        return steps


def outcome_unknown(error: DocrError) -> bool:
    """Whether an attempt that failed this way may still have acted on the server."""
    return (isinstance(error, TransportError) and error.request_sent) or isinstance(error, ServerError)


def gone_is_done(call: Call[Any], error: DocrError, uncertain: bool) -> bool:
    """A 404 to a DELETE retried after an attempt whose outcome was unknown: that attempt did it."""
    return call.gone_is_done and uncertain and isinstance(error, NotFoundError)


def check_on_page(on_page: OnPage | None) -> None:
    if on_page is not None and not callable(on_page):
        raise InvalidArgument("on_page", "must be a callable taking a ManifestPage, or None")


def _uuid(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 64 or not set(value) <= _UUID_CHARACTERS:
        raise InvalidArgument("uuid", f"must be a garbage collection's UUID, not {value!r:.80}")
    return value
