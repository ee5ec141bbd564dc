"""What ``Client`` and ``AsyncClient`` share: settings, validation and the connection pool.

No I/O happens here; the drivers in ``_client`` and ``_async_client`` do it, through
``_transport``. A passed-in ``http_client`` is never modified: docr only calls its
``build_request`` and ``send``, with an absolute URL, its own headers and ``auth=None``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

import httpx

from docr import _config, _names
from docr._errors import ClientClosedError, InvalidArgument
from docr._models import Manifest, ManifestPage
from docr._operations import PageRequest
from docr._pagination import Walk
from docr._retry import RetryPolicy
from docr._secrets import Secret

DEFAULT_PER_PAGE = 20
ITER_PER_PAGE = 200  # walks ask for the most the API allows: fewer round trips

OnPage = Callable[[ManifestPage], None]
Pages = tuple[ManifestPage, list[Manifest]]
_Http = TypeVar("_Http", httpx.Client, httpx.AsyncClient)


class BaseClient(Generic[_Http]):
    """Settings, validation and the HTTP pool; no I/O."""

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
        self._secrets = (self._settings.token,)
        self._retry = RetryPolicy(max_retries=self._settings.max_retries)
        self._owns_http = http_client is None
        self._http: _Http = http_client or self._http_type(  # type: ignore[assignment]
            timeout=self._settings.timeout, follow_redirects=False
        )

    def __repr__(self) -> str:
        return (
            f"docr.{type(self).__name__}(base_url={self._settings.base_url!r}, token=[secure],"
            f" legacy_endpoint={self._settings.legacy_endpoint})"
        )

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError(f"this docr.{type(self).__name__} is closed; open a new one")

    def _request(self, registry: str, repository: str, page: int, per_page: int) -> PageRequest:
        self._check_open()
        return PageRequest(
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
    ) -> tuple[PageRequest, Walk]:
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


def check_on_page(on_page: OnPage | None) -> None:
    if on_page is not None and not callable(on_page):
        raise InvalidArgument("on_page", "must be a callable taking a ManifestPage, or None")
