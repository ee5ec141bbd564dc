"""``Client`` (and, in ``_async_client``, ``AsyncClient``): thin drivers over shared logic.

Validation (``_names``), request building and response translation (``_exchange``), retry
decisions (``_retry``) and page planning (``_pagination``) hold all the logic; the drivers
only differ in how they fetch (threads and ``sync_detailed``, or tasks and
``asyncio_detailed``) and how they wait (``time.sleep`` or ``asyncio.sleep``).
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self

import attrs
import httpx

from docr import _exchange
from docr._base_client import DEFAULT_PER_PAGE, ITER_PER_PAGE, BaseClient, OnPage, Pages, check_on_page
from docr._exchange import PageRequest
from docr._models import Manifest, ManifestPage
from docr._pagination import Walk

__all__ = ["Client"]


class Client(BaseClient[httpx.Client]):
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
        check_on_page(on_page)
        template, walk = self._walk(registry, repository, per_page=per_page, start_page=start_page, max_items=max_items)
        return _manifests(self._drive(template, walk), on_page)

    def _get_page(self, request: PageRequest) -> ManifestPage:
        operation = request.operation
        for attempt in itertools.count(1):
            started = _exchange.begin()
            try:
                outcome: Any = self._http.request(**operation.build_request(**request.kwargs()))
            except Exception as exc:
                outcome = exc
            result = self._settle(request, outcome, started, attempt)
            if isinstance(result, ManifestPage):
                return result
            self._sleep(result)
        raise AssertionError("unreachable")

    def _drive(self, template: PageRequest, walk: Walk) -> Generator[Pages]:
        pool = ThreadPoolExecutor(max_workers=walk.concurrency, thread_name_prefix="docr-page")
        pending: deque[Future[ManifestPage]] = deque()
        wait = True
        try:
            while True:
                for number in walk.schedule(len(pending)):
                    pending.append(pool.submit(self._get_page, attrs.evolve(template, page=number)))
                if not pending:
                    return
                page = pending.popleft().result()
                yield page, walk.accept(page)
        except KeyboardInterrupt:
            wait = False  # Ctrl-C must not sit out requests still running
            raise
        finally:
            # Otherwise wait for requests already running (bounded by the timeout): once the
            # iterator is closed, no thread of it still uses the connection pool.
            pool.shutdown(wait=wait, cancel_futures=True)


def _manifests(pages: Generator[Pages], on_page: OnPage | None) -> Iterator[Manifest]:
    with contextlib.closing(pages):  # an on_page that raises must still stop the walk
        for page, fresh in pages:
            if on_page is not None:
                on_page(page)
            yield from fresh
