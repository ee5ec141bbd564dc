"""``Client`` (and, in ``_async_client``, ``AsyncClient``): thin drivers over shared logic.

Validation (``_names``), request building (``_operations``), reading answers (``_exchange``),
retry decisions (``_retry``) and page planning (``_pagination``) hold all the logic; the drivers
only differ in how they send (``_transport.send`` on daemon worker threads, or ``asend`` on
tasks) and how they wait (``time.sleep`` or ``asyncio.sleep``).
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future
from types import TracebackType
from typing import Self, TypeVar

import httpx

from docr import _transport
from docr._base_client import DEFAULT_PER_PAGE, ITER_PER_PAGE, BaseClient, OnPage, Pages, check_on_page
from docr._errors import DocrError
from docr._exchange import Call, failure, settle
from docr._iterators import Listing
from docr._models import Manifest, ManifestPage
from docr._operations import PageRequest
from docr._pagination import Walk

__all__ = ["Client"]

T = TypeVar("T")


class Client(BaseClient[httpx.Client]):
    """List a repository's manifests.

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

    def __enter__(self) -> Self:
        self._check_open()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def list_manifests(
        self, registry: str, repository: str, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE
    ) -> ManifestPage:
        """One page, as the server sends it (retried on transient faults)."""
        return self._call(self._request(registry, repository, page, per_page).call())

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
        return Listing(_manifests(self._drive(template, walk), on_page))

    def _call(self, call: Call[T], cancelled: Callable[[], bool] | None = None) -> T:
        """One call with its retries; ``cancelled`` (a walk's) stops it before any new attempt."""
        settings = self._settings
        for attempt in itertools.count(1):
            if cancelled is not None and cancelled():
                raise _Abandoned
            self._begin_attempt()
            started = time.monotonic()
            try:
                reply = _transport.send(
                    self._http, settings.base_url, call, settings.token, settings.timeout, settings.max_response_bytes
                )
                return settle(call, reply, attempt, self._secrets)
            except DocrError as error:
                failed = error
            except (httpx.HTTPError, _transport.DeadlineExceeded) as error:
                failed = failure(call, error, (time.monotonic() - started) * 1000, attempt, self._secrets)
            finally:
                self._end_attempt()
            self._sleep(self._retry.wait_or_raise(failed, attempt, call.what))
        raise AssertionError("unreachable")

    def _drive(self, template: PageRequest, walk: Walk) -> Generator[Pages]:
        from docr._workers import Workers

        workers = Workers(walk.concurrency)
        cancelled = workers.cancelled.is_set
        pending: deque[Future[ManifestPage]] = deque()
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


def _manifests(pages: Generator[Pages], on_page: OnPage | None) -> Generator[Manifest]:
    try:  # an on_page that raises must still stop the walk
        for page, fresh in pages:
            if on_page is not None:
                on_page(page)
            yield from fresh
    finally:
        pages.close()
