"""Page planning for a walk over a repository: which pages to ask for, what to yield. No I/O.

The API pages by offset (``page``/``per_page``), so pushes and deletes during a walk shift
later pages: a manifest can show up twice, or slip back onto a page already read and be
missed. ``Walk`` makes the listing exact anyway:

- A *pass* reads ``start_page`` first, learns ``meta.total``, then the remaining pages, at
  most ``window`` at a time (the drivers hand pages back strictly in page order).
- Every digest yielded is remembered (as 32 raw bytes for sha256 digests, to keep memory
  small), so nothing is yielded twice, in any pass.
- A pass is *disturbed* when a later page reports another ``meta.total`` than the first, or
  a digest repeats within the pass (the list shifted forward under us). Any shift that can
  hide a manifest shows as one or the other, so an undisturbed pass has seen every manifest
  that existed for its whole duration.
- After a disturbed pass, another pass re-reads the pages, yielding only what is new; after
  ``max_passes`` disturbed passes the walk raises ``ListingChangedError`` rather than
  pretend to be complete.

When nothing changes underneath, that is one request per page, no more.
"""

from __future__ import annotations

import json

from docr._errors import ListingChangedError
from docr._models import Manifest, ManifestPage

DEFAULT_MAX_PASSES = 3


def _key(manifest: Manifest) -> bytes | str:
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
    """The state of one walk; drivers call ``schedule`` and ``accept`` in a loop."""

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
    ) -> None:
        self.target = target
        self.per_page = per_page
        self.start_page = start_page
        self.max_items = max_items
        self.concurrency = window
        self.window = window
        self.max_passes = max_passes if dedupe else 1
        self.dedupe = dedupe
        self.yielded = 0
        self.passes = 1
        self.finished = max_items == 0
        self._yielded: set[bytes | str] = set()
        # Keys seen in the current pass, kept only from the second pass on: in the first,
        # everything seen was yielded, and the big set answers the question alone.
        self._this_pass: set[bytes | str] | None = None
        self._totals_seen: list[int] = []
        self._reset_pass()

    def _reset_pass(self) -> None:
        self._next = self.start_page
        self._last: int | None = None  # unknown until the pass's first page arrives
        self._total: int | None = None
        self._consumed = self.start_page - 1
        self._disturbed = False

    def schedule(self, in_flight: int) -> list[int]:
        """The page numbers to request now, given how many requests are still in flight."""
        if self.finished:
            return []
        if self._last is None:
            # The first page of a pass comes alone: its total decides how many follow.
            if in_flight or self._next != self.start_page:
                return []
            self._next += 1
            return [self.start_page]
        limit = self._last
        if self.max_items is not None:
            remaining = self.max_items - self.yielded
            limit = min(limit, self._consumed + -(-remaining // self.per_page))
        numbers = list(range(self._next, min(limit, self._next + self.window - in_flight - 1) + 1))
        self._next += len(numbers)
        return numbers

    def accept(self, page: ManifestPage) -> list[Manifest]:
        """Take the next page in order; return the manifests to yield from it."""
        if self._last is None:
            self._total = page.total
            self._last = page.last_page
        elif page.total != self._total:
            self._disturbed = True
            # A total that grew means more pages: read them in this pass too.
            self._last = max(self._last, page.last_page)
        if page.total not in self._totals_seen:
            self._totals_seen.append(page.total)
        if page.rate_limit is not None and page.rate_limit.remaining is not None:
            # Never run more requests at once than the rate limit has left.
            self.window = max(1, min(self.concurrency, page.rate_limit.remaining))
        self._consumed = page.page
        fresh = self._fresh(page.manifests) if self.dedupe else list(page.manifests)
        if self.max_items is not None and self.yielded + len(fresh) >= self.max_items:
            fresh = fresh[: self.max_items - self.yielded]
            self.finished = True
        self.yielded += len(fresh)
        if not self.finished and self._consumed >= self._last:
            self._end_pass()
        return fresh

    def _fresh(self, manifests: list[Manifest]) -> list[Manifest]:
        fresh = []
        yielded, this_pass = self._yielded, self._this_pass
        for manifest in manifests:
            key = _key(manifest)
            if this_pass is not None:
                if key in this_pass:
                    self._disturbed = True  # the list shifted forward within this pass
                this_pass.add(key)
            if key not in yielded:
                yielded.add(key)
                fresh.append(manifest)
            elif this_pass is None:
                self._disturbed = True  # a repeat within the first pass: a shift
        return fresh

    def _end_pass(self) -> None:
        if not self._disturbed:
            self.finished = True
            return
        if self.passes >= self.max_passes:
            if not self.dedupe:
                self.finished = True
                return
            totals = " -> ".join(str(t) for t in self._totals_seen)
            raise ListingChangedError(
                f"{self.target} changed during each of {self.passes} walks (meta.total seen: {totals});"
                f" {self.yielded} manifests were yielded, none twice, but some may be missing."
                " List again when pushes and deletes have settled."
            )
        self.passes += 1
        self._this_pass = set()
        self._reset_pass()
