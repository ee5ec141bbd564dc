"""``AsyncClient``: the asyncio driver over the same calls, planning and steps as ``Client``.

Kept apart from ``Client`` so that sync users never import asyncio.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import httpx

from docr._base_client import (
    DEFAULT_PER_PAGE,
    ITER_PER_PAGE,
    BaseClient,
    OnPage,
    OnStatus,
    Pages,
    check_on_page,
    gone_is_done,
    outcome_unknown,
)
from docr._errors import DocrError, NotFoundError
from docr._iterators import AsyncListing

if TYPE_CHECKING:
    from docr import _operations
    from docr._exchange import Call
    from docr._models import Manifest, ManifestPage
    from docr._oci import OCIManifest
    from docr._pagination import Walk
    from docr._resources import DockerCredentials, GarbageCollection, Registry, Repository, Subscription, Tag
    from docr._steps import Steps

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

    # --- manifests ---------------------------------------------------------------------------

    async def list_manifests(
        self, registry: str, repository: str, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE
    ) -> ManifestPage:
        """One page, as the server sends it (retried on transient faults)."""
        return cast("ManifestPage", await self._call(self._request(registry, repository, page, per_page).call()))

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
        return AsyncListing(_items(self._drive(template, walk), on_page))

    async def delete_manifest(self, registry: str, repository: str, digest: str) -> None:
        """Delete a manifest (and its tags); see ``Client.delete_manifest``."""
        await self._call(self._delete_manifest_call(registry, repository, digest))

    # --- repositories and tags ---------------------------------------------------------------

    def iter_repositories(self, registry: str, *, per_page: int = ITER_PER_PAGE) -> AsyncListing[Repository]:
        """Every repository of a registry exactly once; see ``Client.iter_repositories``."""
        from docr import _operations

        name, walk = self._repositories_walk(registry, per_page)

        async def walk_pages() -> AsyncGenerator[Repository]:
            while not walk.finished:
                walk.begin_request()
                page = await self._call(_operations.repositories_page(name, walk.per_page, walk.token))
                for repository in walk.accept(page):
                    yield repository

        return AsyncListing(walk_pages())

    def iter_tags(self, registry: str, repository: str, *, per_page: int = ITER_PER_PAGE) -> AsyncListing[Tag]:
        """Every tag of a repository exactly once."""
        template, walk = self._tags_walk(registry, repository, per_page)
        return AsyncListing(_items(self._drive(template, walk), None))

    async def delete_tag(self, registry: str, repository: str, tag: str) -> None:
        """Delete a tag; its manifest stays."""
        await self._call(self._delete_tag_call(registry, repository, tag))

    # --- the registry ------------------------------------------------------------------------

    async def get_registry(self, registry: str) -> Registry:
        """The registry: region, creation time, storage used."""
        return await self._call(self._registry_call(registry))

    async def get_subscription(self) -> Subscription:
        """The account's plan: tier, included storage, whether overage is allowed, prices."""
        return await self._call(self._subscription_call())

    async def get_docker_credentials(
        self, registry: str, *, read_write: bool = False, expiry_seconds: int | None = None
    ) -> DockerCredentials:
        """Credentials for ``registry.digitalocean.com`` (read-only unless ``read_write``)."""
        return await self._call(self._credentials_call(registry, read_write, expiry_seconds))

    async def get_oci_manifest(self, registry: str, repository: str, digest: str) -> OCIManifest:
        """A manifest's body from the registry itself; see ``Client.get_oci_manifest``."""
        return await self._run(self._oci_steps(registry, repository, digest))

    # --- garbage collection ------------------------------------------------------------------

    async def start_garbage_collection(
        self, registry: str, *, untagged_manifests: bool = True, unreferenced_blobs: bool = True
    ) -> GarbageCollection:
        """Start one; ``ConflictError`` while another runs."""
        return await self._call(self._start_gc_call(registry, untagged_manifests, unreferenced_blobs))

    async def get_garbage_collection(self, registry: str) -> GarbageCollection | None:
        """The active garbage collection, or ``None`` (a 404 checked as ``Client``'s is)."""
        try:
            return await self._call(self._active_gc_call(registry))
        except NotFoundError:
            await self._call(self._gc_history_probe(registry))
            return None

    def iter_garbage_collections(self, registry: str, *, per_page: int = 20) -> AsyncListing[GarbageCollection]:
        """The registry's garbage collections, newest first."""
        from docr import _operations

        name, size = self._gc_pages(registry, per_page)

        async def walk_pages() -> AsyncGenerator[GarbageCollection]:
            for page in itertools.count(1):
                found = await self._call(_operations.gc_page(name, page, size))
                for collection in found:
                    yield collection
                if len(found) < size:
                    return

        return AsyncListing(walk_pages())

    async def cancel_garbage_collection(self, registry: str, uuid: str) -> GarbageCollection:
        """Ask a running garbage collection to stop."""
        return await self._call(self._cancel_gc_call(registry, uuid))

    async def wait_garbage_collection(
        self,
        registry: str,
        uuid: str,
        *,
        poll_interval: float = 10.0,
        timeout: float | None = None,
        on_status: OnStatus | None = None,
    ) -> GarbageCollection:
        """Poll until it has finished; see ``Client.wait_garbage_collection``."""
        return await self._run(self._wait_gc_steps(registry, uuid, poll_interval, timeout, on_status))

    # --- the driver --------------------------------------------------------------------------

    async def _call(self, call: Call[T]) -> T:
        """One call with its retries (cancelling the task stops it at once)."""
        from docr._exchange import failure, settle
        from docr._transport import asend

        settings = self._settings
        uncertain = False
        for attempt in itertools.count(1):
            self._check_open()
            if call.budgeted:
                wait = self._budget.reserve(time.monotonic())
                if wait > 0:
                    await self._sleep(wait)
            base_url, authorization = self._target(call)
            started = time.monotonic()
            try:
                reply = await asend(
                    self._http,
                    base_url,
                    call,
                    authorization,
                    settings.timeout,
                    settings.max_response_bytes,
                    self._secrets(),
                )
                if call.budgeted:
                    self._budget.observe(reply.headers, time.monotonic(), time.time())
                return settle(call, reply, attempt, self._secrets())
            except DocrError as error:
                if gone_is_done(call, error, uncertain):
                    return cast(T, None)
                failed = error
            except (httpx.HTTPError, TimeoutError) as error:
                failed = failure(
                    call, error, (time.monotonic() - started) * 1000, attempt, self._secrets(), settings.timeout
                )
            uncertain = uncertain or outcome_unknown(failed)
            await self._sleep(self._retry_wait(call, failed, attempt))
        raise AssertionError("unreachable")

    async def _run(self, steps: Steps[T]) -> T:
        """Drive a multi-step operation; see ``Client._run``."""
        from docr._steps import Sleep

        result: Any = None
        error: DocrError | None = None
        while True:
            try:
                step = steps.throw(error) if error is not None else steps.send(result)
            except StopIteration as stop:
                return cast(T, stop.value)
            result, error = None, None
            if isinstance(step, Sleep):
                await self._sleep(step.seconds)
                continue
            try:
                result = await self._call(step)
            except DocrError as failed:
                error = failed

    async def _drive(self, template: _operations.PageRequest, walk: Walk) -> AsyncGenerator[Pages]:
        pending: deque[asyncio.Task[Any]] = deque()
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


async def _items(pages: AsyncGenerator[Pages], on_page: OnPage | None) -> AsyncGenerator[Any]:
    try:  # an on_page that raises must still stop the walk
        async for page, fresh in pages:
            if on_page is not None:
                on_page(page)
            for item in fresh:
                yield item
    finally:
        await pages.aclose()
