"""``Client`` (and, in ``_async_client``, ``AsyncClient``): thin drivers over shared logic.

Validation and calls (``_base_client``, ``_operations``), reading answers (``_exchange``), retry
decisions (``_retry``), the rate budget (``_ratebudget``), page planning (``_pagination``,
``_token_walk``) and multi-step operations (``_steps``) hold all the logic; the drivers only
differ in how they send (``_transport.send`` on daemon worker threads, or ``asend`` on tasks) and
how they wait (``time.sleep`` or ``asyncio.sleep``).
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Generator
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
from docr._iterators import Listing

if TYPE_CHECKING:
    from concurrent.futures import Future

    from docr import _operations
    from docr._exchange import Call
    from docr._models import Manifest, ManifestPage
    from docr._oci import OCIManifest
    from docr._pagination import Walk
    from docr._resources import DockerCredentials, GarbageCollection, Registry, Repository, Subscription, Tag
    from docr._steps import Steps

__all__ = ["Client"]

T = TypeVar("T")


class Client(BaseClient[httpx.Client]):
    """The DigitalOcean Container Registry API: list, delete, collect garbage, read image indexes.

    Usage::

        with docr.Client() as client:            # token from DIGITALOCEAN_TOKEN
            for manifest in client.iter_manifests("example", "my/repo"):
                print(manifest.digest, manifest.tags)

        docr.Client(timeout=10.0, max_retries=0)  # fail fast
        docr.Client(legacy_endpoint=True)         # the deprecated /v2/registry/... path
        docr.Client(base_url="http://127.0.0.1:8080")  # e.g. docr.testing.FakeRegistry;
                                                  # else $DIGITALOCEAN_API_URL, else the real API

    ``http_client`` takes your own ``httpx.Client`` (proxies, transports, mocks); docr never
    changes it (its base URL, headers, auth and hooks stay yours) and leaves closing it to you.
    Every request is paced by the client's rate budget (``rate_limits``: 250 a minute, 5,000 an
    hour), so long runs stay under DigitalOcean's limits instead of bouncing off 429s.
    """

    _http_type = httpx.Client
    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    def close(self) -> None:
        """Release the connection pool (unless it is the ``http_client`` you passed in).

        Attempts still in flight on abandoned walks' threads finish on their own; the pool is
        closed when the last of them ends (closing it under them could leave a socket open).
        """
        with self._flight:
            self._closed = True
            close_now = self._owns_http and self._attempts == 0
        if close_now:
            self._http.close()

    def __enter__(self) -> Self:
        self._check_open()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    # --- manifests ---------------------------------------------------------------------------

    def list_manifests(
        self, registry: str, repository: str, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE
    ) -> ManifestPage:
        """One page, as the server sends it (retried on transient faults)."""
        return cast("ManifestPage", self._call(self._request(registry, repository, page, per_page).call()))

    def iter_pages(
        self, registry: str, repository: str, *, per_page: int = ITER_PER_PAGE, start_page: int = 1
    ) -> Listing[ManifestPage]:
        """Every page from ``start_page`` to the last, in order, fetched ``concurrency`` at a time.

        Pages come as the server sent them, so a listing that changes or does not add up cannot
        be walked again without repeats: it raises ``ListingChangedError`` or
        ``IncompleteListingError`` instead of ending short.
        """
        template, walk = self._walk(registry, repository, per_page=per_page, start_page=start_page, dedupe=False)
        return Listing(page for page, _ in self._drive(template, walk))

    def iter_manifests(
        self,
        registry: str,
        repository: str,
        *,
        per_page: int = ITER_PER_PAGE,
        max_items: int | None = None,
        start_page: int = 1,
        on_page: OnPage | None = None,
    ) -> Listing[Manifest]:
        """Every manifest exactly once, in page order, lazily; see ``docr._pagination``.

        Arguments are checked now, before the first request; ``on_page`` is called with each
        page as it arrives (progress bars). Leaving the loop early stops the walk at once.
        """
        check_on_page(on_page)
        template, walk = self._walk(registry, repository, per_page=per_page, start_page=start_page, max_items=max_items)
        return Listing(_items(self._drive(template, walk), on_page))

    def delete_manifest(self, registry: str, repository: str, digest: str) -> None:
        """Delete a manifest (and its tags); ``NotFoundError`` if it is not there.

        Retried like a GET: a 404 to a retry after an attempt whose answer was lost means that
        attempt deleted it, and counts as done.
        """
        self._call(self._delete_manifest_call(registry, repository, digest))

    # --- repositories and tags ---------------------------------------------------------------

    def iter_repositories(self, registry: str, *, per_page: int = ITER_PER_PAGE) -> Listing[Repository]:
        """Every repository of a registry exactly once, with live counts (``page_token`` paging)."""
        from docr import _operations

        name, walk = self._repositories_walk(registry, per_page)

        def walk_pages() -> Generator[Repository]:
            while not walk.finished:
                walk.begin_request()
                page = self._call(_operations.repositories_page(name, walk.per_page, walk.token))
                yield from walk.accept(page)

        return Listing(walk_pages())

    def iter_tags(self, registry: str, repository: str, *, per_page: int = ITER_PER_PAGE) -> Listing[Tag]:
        """Every tag of a repository exactly once (offset paging, as ``iter_manifests``)."""
        template, walk = self._tags_walk(registry, repository, per_page)
        return Listing(_items(self._drive(template, walk), None))

    def delete_tag(self, registry: str, repository: str, tag: str) -> None:
        """Delete a tag; its manifest stays (untagged if this was its last tag)."""
        self._call(self._delete_tag_call(registry, repository, tag))

    # --- the registry ------------------------------------------------------------------------

    def get_registry(self, registry: str) -> Registry:
        """The registry: region, creation time, storage used."""
        return self._call(self._registry_call(registry))

    def get_subscription(self) -> Subscription:
        """The account's plan: tier, included storage, whether overage is allowed, prices."""
        return self._call(self._subscription_call())

    def get_docker_credentials(
        self, registry: str, *, read_write: bool = False, expiry_seconds: int | None = None
    ) -> DockerCredentials:
        """Credentials for ``registry.digitalocean.com`` (read-only unless ``read_write``)."""
        return self._call(self._credentials_call(registry, read_write, expiry_seconds))

    def get_oci_manifest(self, registry: str, repository: str, digest: str) -> OCIManifest:
        """A manifest's body from the registry itself, verified against its digest: an image index's
        children with their platforms, an image's config and layers, a referrer's ``subject``."""
        return self._run(self._oci_steps(registry, repository, digest))

    # --- garbage collection ------------------------------------------------------------------

    def start_garbage_collection(
        self, registry: str, *, untagged_manifests: bool = True, unreferenced_blobs: bool = True
    ) -> GarbageCollection:
        """Start one; ``ConflictError`` while another runs. The registry is read-only until it ends."""
        return self._call(self._start_gc_call(registry, untagged_manifests, unreferenced_blobs))

    def get_garbage_collection(self, registry: str) -> GarbageCollection | None:
        """The active garbage collection, or ``None`` when none runs.

        The API answers 404 both when none runs and when the registry does not exist: a 404 is
        checked with one request for the history, which raises ``NotFoundError`` for the latter.
        """
        try:
            return self._call(self._active_gc_call(registry))
        except NotFoundError:
            self._call(self._gc_history_probe(registry))
            return None

    def iter_garbage_collections(self, registry: str, *, per_page: int = 20) -> Listing[GarbageCollection]:
        """The registry's garbage collections, newest first."""
        from docr import _operations

        name, size = self._gc_pages(registry, per_page)

        def walk_pages() -> Generator[GarbageCollection]:
            for page in itertools.count(1):
                found = self._call(_operations.gc_page(name, page, size))
                yield from found
                if len(found) < size:
                    return

        return Listing(walk_pages())

    def cancel_garbage_collection(self, registry: str, uuid: str) -> GarbageCollection:
        """Ask a running garbage collection to stop."""
        return self._call(self._cancel_gc_call(registry, uuid))

    def wait_garbage_collection(
        self,
        registry: str,
        uuid: str,
        *,
        poll_interval: float = 10.0,
        timeout: float | None = None,
        on_status: OnStatus | None = None,
    ) -> GarbageCollection:
        """Poll until it has finished and return it (``blobs_deleted``, ``freed_bytes``).

        ``on_status`` sees each new status (undocumented ones included); past ``timeout``
        seconds ``APITimeoutError`` is raised (the collection itself goes on).
        """
        steps = self._wait_gc_steps(registry, uuid, poll_interval, timeout, on_status)
        return self._run(steps)

    # --- the driver --------------------------------------------------------------------------

    def _call(self, call: Call[T], cancelled: Callable[[], bool] | None = None) -> T:
        """One call with its retries; ``cancelled`` (a walk's) stops it before any new attempt."""
        from docr._exchange import failure, settle
        from docr._transport import DeadlineExceeded, send

        settings = self._settings
        uncertain = False
        for attempt in itertools.count(1):
            if cancelled is not None and cancelled():
                raise _Abandoned
            if call.budgeted:
                wait = self._budget.reserve(time.monotonic())
                if wait > 0:
                    self._sleep(wait)
            base_url, authorization = self._target(call)
            self._begin_attempt()
            started = time.monotonic()
            try:
                reply = send(
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
            except (httpx.HTTPError, DeadlineExceeded) as error:
                failed = failure(
                    call, error, (time.monotonic() - started) * 1000, attempt, self._secrets(), settings.timeout
                )
            finally:
                self._end_attempt()
            uncertain = uncertain or outcome_unknown(failed)
            self._sleep(self._retry_wait(call, failed, attempt))
        raise AssertionError("unreachable")

    def _run(self, steps: Steps[T]) -> T:
        """Drive a multi-step operation: send its calls, sleep its sleeps, hand back results."""
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
                self._sleep(step.seconds)
                continue
            try:
                result = self._call(step)
            except DocrError as failed:
                error = failed

    def _begin_attempt(self) -> None:
        with self._flight:
            self._check_open()
            self._attempts += 1

    def _end_attempt(self) -> None:
        with self._flight:
            self._attempts -= 1
            close_now = self._closed and self._owns_http and self._attempts == 0
        if close_now:
            self._http.close()

    def _drive(self, template: _operations.PageRequest, walk: Walk) -> Generator[Pages]:
        from docr._workers import Workers

        workers = Workers(walk.concurrency)
        cancelled = workers.cancelled.is_set
        pending: deque[Future[Any]] = deque()
        try:
            while True:
                for number in walk.schedule(len(pending)):
                    pending.append(workers.submit(self._call, template.call(number, walk.per_page), cancelled))
                if not pending:
                    if not walk.finished:
                        raise AssertionError(f"the walk of {walk.target} stalled")  # pragma: no cover
                    return
                page = pending.popleft().result()
                yield page, walk.accept(page)
        finally:
            # Nothing new starts; requests in flight are abandoned (their threads are daemons).
            workers.cancel()


class _Abandoned(Exception):
    """A job of a closed walk; nobody is waiting for its result."""


def _items(pages: Generator[Pages], on_page: OnPage | None) -> Generator[Any]:
    try:  # an on_page that raises must still stop the walk
        for page, fresh in pages:
            if on_page is not None:
                on_page(page)
            yield from fresh
    finally:
        pages.close()
