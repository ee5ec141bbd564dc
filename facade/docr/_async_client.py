"""``AsyncClient``: the asyncio driver over the same planning and translation as ``Client``.

Kept apart from ``Client`` so that sync users never import asyncio.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from types import TracebackType
from typing import Self, TypeVar

import httpx

from docr import _transport
from docr._base_client import DEFAULT_PER_PAGE, ITER_PER_PAGE, BaseClient, OnPage, Pages, check_on_page
from docr._errors import DocrError
from docr._exchange import Call, failure, settle
from docr._iterators import AsyncListing
from docr._models import Manifest, ManifestPage
from docr._operations import PageRequest
from docr._pagination import Walk

__all__ = ["AsyncClient"]

T = TypeVar("T")


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
        self._closed = True
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        self._check_open()
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    async def list_manifests(
        self, registry: str, repository: str, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE
    ) -> ManifestPage:
        """One page, as the server sends it (retried on transient faults)."""
        return await self._call(self._request(registry, repository, page, per_page).call())

    def iter_pages(
        self, registry: str, repository: str, *, per_page: int = ITER_PER_PAGE, start_page: int = 1
    ) -> AsyncListing[ManifestPage]:
        """Every page from ``start_page`` to the last, in order; see ``Client.iter_pages``."""
        template, walk = self._walk(registry, repository, per_page=per_page, start_page=start_page, dedupe=False)
        return AsyncListing(_pages(self._drive(template, walk)))

    def iter_manifests(
        self,
        registry: str,
        repository: str,
        *,
        per_page: int = ITER_PER_PAGE,
        max_items: int | None = None,
        start_page: int = 1,
        on_page: OnPage | None = None,
    ) -> AsyncListing[Manifest]:
        """Every manifest exactly once, in page order; see ``Client.iter_manifests``."""
        check_on_page(on_page)
        template, walk = self._walk(registry, repository, per_page=per_page, start_page=start_page, max_items=max_items)
        return AsyncListing(_amanifests(self._drive(template, walk), on_page))

    async def _call(self, call: Call[T]) -> T:
        """One call with its retries (cancelling the task stops it at once)."""
        settings = self._settings
        for attempt in itertools.count(1):
            self._check_open()
            started = time.monotonic()
            try:
                reply = await _transport.asend(
                    self._http, settings.base_url, call, settings.token, settings.timeout, settings.max_response_bytes
                )
                return settle(call, reply, attempt, self._secrets)
            except DocrError as error:
                failed = error
            except (httpx.HTTPError, TimeoutError) as error:
                failed = failure(call, error, (time.monotonic() - started) * 1000, attempt, self._secrets)
            await self._sleep(self._retry.wait_or_raise(failed, attempt, call.what))
        raise AssertionError("unreachable")

    async def _drive(self, template: PageRequest, walk: Walk) -> AsyncGenerator[Pages]:
        pending: deque[asyncio.Task[ManifestPage]] = deque()
        try:
            while True:
                for number in walk.schedule(len(pending)):
                    pending.append(asyncio.ensure_future(self._call(template.call(number, walk.per_page))))
                if not pending:
                    if not walk.finished:
                        raise AssertionError(f"the walk of {walk.target} stalled")  # pragma: no cover
                    return
                page = await pending.popleft()
                yield page, walk.accept(page)
        finally:
            for task in pending:
                task.cancel()
            # Cancelled requests unwind at once (nothing is waited out); let them, so no task
            # outlives the iterator.
            await asyncio.gather(*pending, return_exceptions=True)


async def _pages(pages: AsyncGenerator[Pages]) -> AsyncGenerator[ManifestPage]:
    try:
        async for page, _ in pages:
            yield page
    finally:
        await pages.aclose()


async def _amanifests(pages: AsyncGenerator[Pages], on_page: OnPage | None) -> AsyncGenerator[Manifest]:
    try:  # an on_page that raises must still stop the walk
        async for page, fresh in pages:
            if on_page is not None:
                on_page(page)
            for manifest in fresh:
                yield manifest
    finally:
        await pages.aclose()
