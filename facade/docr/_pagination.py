"""Page planning for a walk over a repository: which pages to ask for, what to yield. No I/O.

The API pages by offset (``page``/``per_page``), so pushes and deletes during a walk shift
later pages: a manifest can show up twice, or slip back onto a page already read and be
missed. And a server can lie: cap ``per_page`` silently, send an empty page in the middle,
announce a ``meta.total`` no listing can reach. ``Walk`` makes the listing exact anyway, or
raises:

- A *pass* reads ``start_page`` first, learns ``meta.total``, then the remaining pages, at
  most ``window`` at a time (the drivers hand pages back strictly in page order).
- Every digest yielded is remembered (as 32 raw bytes for sha256 digests, to keep memory
  small), so nothing is yielded twice, in any pass.
- A pass is *disturbed* when a later page reports another ``meta.total`` than the first, a
  digest repeats within the pass (the list shifted forward under us), a page that is not the
  last holds more or fewer than ``per_page`` manifests, or the pass ends with fewer distinct
  manifests than its total announced. A short page also stops the pass from asking for more
  pages (10**12 announced, nothing served, ends after one page, not after 5 * 10**9).
- After a disturbed pass, another pass re-reads the pages, yielding only what is new. A server
  that serves fewer (or more) per page than asked is asked, in that pass, with the size it
  actually serves. After ``max_passes`` disturbed passes the walk raises: ``ListingChangedError``
  when totals moved, ``IncompleteListingError`` (expected and received counts) when they held
  still but the pages did not add up.
- A walk never sends more than a few times the requests its first total implied
  (``request_budget``): a total that grows by a page on every request ends in an error, not an
  endless walk.

``iter_pages`` (``dedupe=False``) yields pages as sent, so it cannot walk again without
repeating itself: any disturbance raises at the end of its single pass instead.

When nothing changes underneath, that is one request per page, no more.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from docr._errors import IncompleteListingError, ListingChangedError
from docr._models import Manifest, RateLimit
from docr._names import MAX_PER_PAGE

DEFAULT_MAX_PASSES = 3


class Page(Protocol):
    """What a walk reads of a page: ``ManifestPage``, ``TagPage``."""

    @property
    def items(self) -> Sequence[Any]: ...
    @property
    def total(self) -> int: ...
    @property
    def page(self) -> int: ...
    @property
    def per_page(self) -> int: ...
    @property
    def last_page(self) -> int: ...
    @property
    def rate_limit(self) -> RateLimit | None: ...


def manifest_key(manifest: Manifest) -> bytes | str:
    """A manifest's identity in a walk: its digest (32 raw bytes for sha256), else its whole JSON."""
    digest = manifest.digest
    if digest is None:
        return json.dumps(manifest.to_dict(), sort_keys=True, default=str)
    if digest.startswith("sha256:") and len(digest) == 71:
        try:
            return bytes.fromhex(digest[7:])
        except ValueError:
            pass
    return digest


class Walk:
    """The state of one walk; drivers call ``schedule`` and ``accept`` in a loop.

    ``schedule`` gives page numbers to request with ``per_page`` as it is at that moment.
    """

    def __init__(
        self,
        *,
        target: str,
        per_page: int,
        start_page: int = 1,
        max_items: int | None = None,
        window: int = 4,
        max_passes: int = DEFAULT_MAX_PASSES,
        dedupe: bool = True,
        key: Callable[[Any], bytes | str] = manifest_key,
        noun: str = "manifests",
    ) -> None:
        self.target = target
        self.key = key
        self.noun = noun
        self.per_page = per_page
        self.start_page = start_page
        self.max_items = max_items
        self.concurrency = window
        self.window = window
        self.max_passes = max_passes if dedupe else 1
        self.dedupe = dedupe
        self.yielded = 0
        self.passes = 1
        self.requests = 0
        self.request_budget: int | None = None  # set by the walk's first page
        self.finished = max_items == 0
        self._yielded: set[bytes | str] = set()
        # Keys seen in the current pass, kept only from the second pass on: in the first,
        # everything seen was yielded, and the big set answers the question alone.
        self._this_pass: set[bytes | str] | None = None
        self._totals_seen: list[int] = []
        self._served: int | None = None  # a page size the server served instead of per_page
        self._reset_pass()

    def _reset_pass(self) -> None:
        self._next = self.start_page
        self._last: int | None = None  # unknown until the pass's first page arrives
        self._total: int | None = None
        self._consumed = self.start_page - 1
        self._received = 0  # manifests served in this pass (repeats within the pass included)
        self._disturbed = False
        self._totals_moved = False
        self._stopped = False  # a short page: ask for nothing more in this pass
        self._outstanding = 0

    def schedule(self, in_flight: int) -> list[int]:
        """The page numbers to request now, given how many requests are still in flight."""
        if self.finished or self._stopped:
            return []
        if self._last is None:
            # The first page of a pass comes alone: its total decides how many follow.
            if in_flight or self._next != self.start_page:
                return []
            return self._take([self.start_page])
        limit = self._last
        if self.max_items is not None:
            remaining = self.max_items - self.yielded
            limit = min(limit, self._consumed + -(-remaining // self.per_page))
        return self._take(list(range(self._next, min(limit, self._next + self.window - in_flight - 1) + 1)))

    def _take(self, numbers: list[int]) -> list[int]:
        if numbers:
            if self.request_budget is not None and self.requests + len(numbers) > self.request_budget:
                raise ListingChangedError(
                    f"{self.target}: gave up after {self.requests} requests, the most docr sends"
                    f" for a listing whose first page announced {self._totals_seen[0]} {self.noun}"
                    f" (meta.total seen: {self._totals_text()}); {self.yielded} {self.noun} were yielded, none twice."
                )
            self.requests += len(numbers)
            self._outstanding += len(numbers)
            self._next = numbers[-1] + 1
        return numbers

    def accept(self, page: Page) -> list[Any]:
        """Take the next page in order; return the manifests to yield from it."""
        self._outstanding -= 1
        if self.request_budget is None:
            pages = max(1, -(-page.total // page.per_page))
            # A few times what the first total implies: room for max_passes walks and growth.
            self.request_budget = 2 * self.max_passes * (pages + self.concurrency) + 8
        if self._last is None:
            self._total = page.total
            self._last = page.last_page
        elif page.total != self._total:
            self._disturbed = self._totals_moved = True
            # A total that grew means more pages: read them in this pass too.
            self._last = max(self._last, page.last_page)
        if page.total not in self._totals_seen:
            self._totals_seen.append(page.total)
        if page.rate_limit is not None and page.rate_limit.remaining is not None:
            # Never run more requests at once than the rate limit has left.
            self.window = max(1, min(self.concurrency, page.rate_limit.remaining))
        self._consumed = max(self._consumed, page.page)
        self._received += len(page.items)
        self._check_size(page)
        fresh = self._fresh(page.items) if self.dedupe else list(page.items)
        if self.max_items is not None and self.yielded + len(fresh) >= self.max_items:
            fresh = fresh[: self.max_items - self.yielded]
            self.finished = True
        self.yielded += len(fresh)
        if not self.finished and self._outstanding == 0 and (self._stopped or self._consumed >= self._last):
            self._end_pass()
        return fresh

    def _check_size(self, page: Page) -> None:
        served = len(page.items)
        if page.page >= page.last_page or served == page.per_page:
            return
        # Not the last page, yet not a full one: a server capping per_page, a hole, or a lie.
        self._disturbed = True
        self._stopped = True
        if 0 < served <= MAX_PER_PAGE and self.start_page == 1:
            self._served = served
        if not self.dedupe:
            self._raise_incomplete(
                f"page {page.page} of {self.target} held {served} {self.noun} where {page.per_page} were due"
                f" (meta.total {page.total})"
            )

    def _fresh(self, items: Sequence[Any]) -> list[Any]:
        fresh = []
        yielded, this_pass, key_of = self._yielded, self._this_pass, self.key
        for item in items:
            key = key_of(item)
            if this_pass is not None:
                if key in this_pass:
                    self._disturbed = True  # the list shifted forward within this pass
                this_pass.add(key)
            if key not in yielded:
                yielded.add(key)
                fresh.append(item)
            elif this_pass is None:
                self._disturbed = True  # a repeat within the first pass: a shift
        return fresh

    def _expected(self) -> int:
        total = self._total or 0
        return max(0, total - (self.start_page - 1) * self.per_page)

    def _end_pass(self) -> None:
        if not self._disturbed and self._received != self._expected():
            self._disturbed = True  # the pages did not add up to the total they announced
        if not self._disturbed:
            self.finished = True
            return
        if self.passes >= self.max_passes:
            if self._totals_moved:
                raise ListingChangedError(
                    f"{self.target} changed during each of {self.passes} walks (meta.total seen:"
                    f" {self._totals_text()}); {self.yielded} {self.noun} were yielded, none twice, but some may be"
                    " missing. List again when pushes and deletes have settled."
                )
            self._raise_incomplete(f"the pages of {self.target} did not add up to meta.total in {self.passes} walks")
        self.passes += 1
        if self._served is not None:
            self.per_page, self._served = self._served, None  # ask as the server actually serves
        self._this_pass = set()
        self._reset_pass()

    def _raise_incomplete(self, why: str) -> None:
        expected = self._expected() if self._total is not None else 0
        received = self.yielded if self.dedupe else self._received
        raise IncompleteListingError(
            f"{why}: {expected} {self.noun} expected, {received} received{', none twice' if self.dedupe else ''}."
            " The server's paging is inconsistent; docr will not return a short list as complete.",
            expected=expected,
            received=received,
        )

    def _totals_text(self) -> str:
        return " -> ".join(str(t) for t in self._totals_seen)
