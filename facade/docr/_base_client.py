"""What ``Client`` and ``AsyncClient`` share: settings, validation, the generated client and
the connection pool. No I/O happens here; the drivers in ``_client`` and ``_async_client`` do it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

import httpx

from docr import _config, _exchange, _names
from docr._errors import DocrError, InvalidArgument
from docr._exchange import PageRequest
from docr._models import Manifest, ManifestPage
from docr._pagination import Walk
from docr._retry import RetryPolicy

DEFAULT_PER_PAGE = 20
ITER_PER_PAGE = 200  # walks ask for the most the API allows: fewer round trips

OnPage = Callable[[ManifestPage], None]
Pages = tuple[ManifestPage, list[Manifest]]
_Http = TypeVar("_Http", httpx.Client, httpx.AsyncClient)


class BaseClient(Generic[_Http]):
    """Settings, validation, the generated client and the HTTP pool; no I/O."""

    _http_type: ClassVar[type[httpx.Client] | type[httpx.AsyncClient]]

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | _config._NotGiven = _config.NOT_GIVEN,
        timeout: float | httpx.Timeout = _config.DEFAULT_TIMEOUT,
        max_retries: int = 3,
        concurrency: int = 4,
        registries_endpoint: bool = False,
        http_client: _Http | None = None,
    ) -> None:
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
            registries_endpoint=registries_endpoint,
        )
        self._retry = RetryPolicy(max_retries=self._settings.max_retries)
        self._owns_http = http_client is None
        http: Any = http_client or self._http_type(timeout=self._settings.timeout, follow_redirects=False)
        # Point the pool at the API: base URL, auth header, and the hook keeping raw responses.
        http.base_url = httpx.URL(self._settings.base_url)
        http.headers.update(self._settings.headers())
        hooks = http.event_hooks
        if isinstance(http, httpx.Client):
            hooks.setdefault("response", []).append(_exchange.remember_response)
        else:
            hooks.setdefault("response", []).append(_exchange.aremember_response)
        http.event_hooks = hooks
        self._http: _Http = http

    def __repr__(self) -> str:
        return (
            f"docr.{type(self).__name__}(base_url={self._settings.base_url!r}, token=[secure],"
            f" registries_endpoint={self._settings.registries_endpoint})"
        )

    def _request(self, registry: str, repository: str, page: int, per_page: int) -> PageRequest:
        return PageRequest(
            registry=_names.registry_name(registry),
            repository=_names.repository_name(repository),
            page=_names.page(page),
            per_page=_names.per_page(per_page),
            registries_endpoint=self._settings.registries_endpoint,
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

    def _settle(self, request: PageRequest, outcome: Any, started: float, attempt: int) -> ManifestPage | float:
        """The page, or how long to sleep before the next attempt; raises when it is final."""
        try:
            return _exchange.settle(request, outcome, started, attempt, self._settings.token)
        except DocrError as error:
            return self._retry.wait_or_raise(error, attempt, request.describe())


def check_on_page(on_page: OnPage | None) -> None:
    if on_page is not None and not callable(on_page):
        raise InvalidArgument("on_page", "must be a callable taking a ManifestPage, or None")
