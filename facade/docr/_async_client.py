"""``AsyncClient``: the asyncio driver over the same planning and translation as ``Client``.

Kept apart from ``Client`` so that sync users never import asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, Self

import attrs
import httpx

from docr import _exchange
from docr._base_client import DEFAULT_PER_PAGE, ITER_PER_PAGE, BaseClient, OnPage, Pages, check_on_page
from docr._exchange import PageRequest
from docr._models import Manifest, ManifestPage
from docr._pagination import Walk

__all__ = ["AsyncClient"]


class AsyncClient(BaseClient[httpx.AsyncClient]):
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
        check_on_page(on_page)
        template, walk = self._walk(registry, repository, per_page=per_page, start_page=start_page, max_items=max_items)
        return _amanifests(self._drive(template, walk), on_page)

    async def _get_page(self, request: PageRequest) -> ManifestPage:
        operation = request.operation
        for attempt in itertools.count(1):
            started = _exchange.begin()
            try:
                outcome: Any = await self._http.request(**operation.build_request(**request.kwargs()))
            except Exception as exc:
                outcome = exc
            result = self._settle(request, outcome, started, attempt)
            if isinstance(result, ManifestPage):
                return result
            await self._sleep(result)
        raise AssertionError("unreachable")

    async def _drive(self, template: PageRequest, walk: Walk) -> AsyncGenerator[Pages]:
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


async def _amanifests(pages: AsyncGenerator[Pages], on_page: OnPage | None) -> AsyncIterator[Manifest]:
    async with contextlib.aclosing(pages):  # an on_page that raises must still stop the walk
        async for page, fresh in pages:
            if on_page is not None:
                on_page(page)
            for manifest in fresh:
                yield manifest
