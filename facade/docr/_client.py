"""``Client`` and ``AsyncClient``: two thin drivers over the same planning and translation.

Validation (``_names``), request building and response translation (``_exchange``), retry
decisions (``_retry``) and page planning (``_pagination``) hold all the logic; the drivers
only differ in how they fetch (threads and ``sync_detailed``, or tasks and
``asyncio_detailed``) and how they wait (``time.sleep`` or ``asyncio.sleep``).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

import attrs
import httpx

from docr import _config, _exchange, _names
from docr._errors import DocrError, InvalidArgument
from docr._exchange import PageRequest
from docr._models import Manifest, ManifestPage
from docr._pagination import Walk
from docr._retry import RetryPolicy
from docr_api import AuthenticatedClient

__all__ = ["AsyncClient", "Client"]

DEFAULT_PER_PAGE = 20
ITER_PER_PAGE = 200  # walks ask for the most the API allows: fewer round trips

OnPage = Callable[[ManifestPage], None]
_Pages = tuple[ManifestPage, list[Manifest]]
_Http = TypeVar("_Http", httpx.Client, httpx.AsyncClient)


class _BaseClient(Generic[_Http]):
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
        self._retry = RetryPolicy(max_retries=max_retries)
        self._owns_http = http_client is None
        self._api = AuthenticatedClient(
            base_url=self._settings.base_url,
            token=self._settings.token,
            timeout=self._settings.timeout,
            follow_redirects=False,
        )
        http: Any = http_client or self._http_type(timeout=self._settings.timeout, follow_redirects=False)
        # Point the pool at the API: base URL, auth header, and the hook keeping raw responses.
        http.base_url = httpx.URL(self._settings.base_url)
        http.headers.update(self._settings.headers())
        hooks = http.event_hooks
        if isinstance(http, httpx.Client):
            hooks.setdefault("response", []).append(_exchange.remember_response)
            self._api.set_httpx_client(http)
        else:
            hooks.setdefault("response", []).append(_exchange.aremember_response)
            self._api.set_async_httpx_client(http)
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


def _check_on_page(on_page: OnPage | None) -> None:
    if on_page is not None and not callable(on_page):
        raise InvalidArgument("on_page", "must be a callable taking a ManifestPage, or None")


class Client(_BaseClient[httpx.Client]):
    """List a repository's manifests.

    Usage::

        with docr.Client() as client:            # token from DIGITALOCEAN_TOKEN
            for manifest in client.iter_manifests("example", "my/repo"):
                print(manifest.digest, manifest.tags)

        docr.Client(timeout=10.0, max_retries=0)  # fail fast
        docr.Client(registries_endpoint=True)     # the current /v2/registries/... path
        docr.Client(base_url="http://127.0.0.1:8080")  # e.g. docr.testing.FakeRegistry;
                                                  # else $DIGITALOCEAN_API_URL, else the real API

    ``http_client`` takes your own ``httpx.Client`` (proxies, transports, mocks); docr sets
    its base URL, auth header and a response hook, and leaves closing it to you.
    """

    _http_type = httpx.Client
    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    def close(self) -> None:
        """Release the connection pool (unless it is the ``http_client`` you passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def list_manifests(
        self, registry: str, repository: str, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE
    ) -> ManifestPage:
        """One page, as the server sends it (retried on transient faults)."""
        return self._get_page(self._request(registry, repository, page, per_page))

    def iter_pages(
        self, registry: str, repository: str, *, per_page: int = ITER_PER_PAGE, start_page: int = 1
    ) -> Iterator[ManifestPage]:
        """Every page from ``start_page`` to the last, in order, fetched ``concurrency`` at a time."""
        template, walk = self._walk(registry, repository, per_page=per_page, start_page=start_page, dedupe=False)
        return (page for page, _ in self._drive(template, walk))

    def iter_manifests(
        self,
        registry: str,
        repository: str,
        *,
        per_page: int = ITER_PER_PAGE,
        max_items: int | None = None,
        start_page: int = 1,
        on_page: OnPage | None = None,
    ) -> Iterator[Manifest]:
        """Every manifest exactly once, in page order, lazily; see ``docr._pagination``.

        Arguments are checked now, before the first request; ``on_page`` is called with each
        page as it arrives (progress bars).
        """
        _check_on_page(on_page)
        template, walk = self._walk(registry, repository, per_page=per_page, start_page=start_page, max_items=max_items)
        return _manifests(self._drive(template, walk), on_page)

    def _get_page(self, request: PageRequest) -> ManifestPage:
        operation = request.operation
        for attempt in itertools.count(1):
            started = _exchange.begin()
            try:
                outcome: Any = operation.sync_detailed(client=self._api, **request.kwargs())
            except Exception as exc:
                outcome = exc
            result = self._settle(request, outcome, started, attempt)
            if isinstance(result, ManifestPage):
                return result
            self._sleep(result)
        raise AssertionError("unreachable")

    def _drive(self, template: PageRequest, walk: Walk) -> Iterator[_Pages]:
        pool = ThreadPoolExecutor(max_workers=walk.concurrency, thread_name_prefix="docr-page")
        pending: deque[Future[ManifestPage]] = deque()
        try:
            while True:
                for number in walk.schedule(len(pending)):
                    pending.append(pool.submit(self._get_page, attrs.evolve(template, page=number)))
                if not pending:
                    return
                page = pending.popleft().result()
                yield page, walk.accept(page)
        finally:
            # Wait for requests already running (bounded by the timeout): once the iterator is
            # closed, no thread of it still uses the connection pool.
            pool.shutdown(wait=True, cancel_futures=True)


def _manifests(pages: Iterator[_Pages], on_page: OnPage | None) -> Iterator[Manifest]:
    for page, fresh in pages:
        if on_page is not None:
            on_page(page)
        yield from fresh


class AsyncClient(_BaseClient[httpx.AsyncClient]):
    """The same as ``Client``, for asyncio: methods are awaitable, iterators are async.

    Usage::

        async with docr.AsyncClient() as client:
            async for manifest in client.iter_manifests("example", "my/repo"):
                print(manifest.digest)
    """

    _http_type = httpx.AsyncClient
    _sleep: Callable[[float], Awaitable[None]] = staticmethod(asyncio.sleep)

    async def close(self) -> None:
        """Release the connection pool (unless it is the ``http_client`` you passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    async def list_manifests(
        self, registry: str, repository: str, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE
    ) -> ManifestPage:
        """One page, as the server sends it (retried on transient faults)."""
        return await self._get_page(self._request(registry, repository, page, per_page))

    def iter_pages(
        self, registry: str, repository: str, *, per_page: int = ITER_PER_PAGE, start_page: int = 1
    ) -> AsyncIterator[ManifestPage]:
        """Every page from ``start_page`` to the last, in order, fetched ``concurrency`` at a time."""
        template, walk = self._walk(registry, repository, per_page=per_page, start_page=start_page, dedupe=False)
        return (page async for page, _ in self._drive(template, walk))

    def iter_manifests(
        self,
        registry: str,
        repository: str,
        *,
        per_page: int = ITER_PER_PAGE,
        max_items: int | None = None,
        start_page: int = 1,
        on_page: OnPage | None = None,
    ) -> AsyncIterator[Manifest]:
        """Every manifest exactly once, in page order; see ``Client.iter_manifests``."""
        _check_on_page(on_page)
        template, walk = self._walk(registry, repository, per_page=per_page, start_page=start_page, max_items=max_items)
        return _amanifests(self._drive(template, walk), on_page)

    async def _get_page(self, request: PageRequest) -> ManifestPage:
        operation = request.operation
        for attempt in itertools.count(1):
            started = _exchange.begin()
            try:
                outcome: Any = await operation.asyncio_detailed(client=self._api, **request.kwargs())
            except Exception as exc:
                outcome = exc
            result = self._settle(request, outcome, started, attempt)
            if isinstance(result, ManifestPage):
                return result
            await self._sleep(result)
        raise AssertionError("unreachable")

    async def _drive(self, template: PageRequest, walk: Walk) -> AsyncIterator[_Pages]:
        pending: deque[asyncio.Task[ManifestPage]] = deque()
        try:
            while True:
                for number in walk.schedule(len(pending)):
                    pending.append(asyncio.ensure_future(self._get_page(attrs.evolve(template, page=number))))
                if not pending:
                    return
                page = await pending.popleft()
                yield page, walk.accept(page)
        finally:
            for task in pending:
                task.cancel()
            # Let cancelled requests unwind before the iterator is gone (see the sync driver).
            await asyncio.gather(*pending, return_exceptions=True)


async def _amanifests(pages: AsyncIterator[_Pages], on_page: OnPage | None) -> AsyncIterator[Manifest]:
    async for page, fresh in pages:
        if on_page is not None:
            on_page(page)
        for manifest in fresh:
            yield manifest
