"""Planning a walk over a token-paged listing (repositories): one page after another. No I/O.

``repositoriesV2`` pages by an opaque ``page_token`` that only the previous page reveals, so its
pages come one at a time. The same promise holds as for offset pages (``docr._pagination``):
every item once, or a docr error, never a quiet short list and never an endless walk:

- each item is yielded once (keyed by ``key``), in any pass;
- a pass is *disturbed* when ``meta.total`` moves, an item repeats within the pass, a token
  comes back (a loop), or the pass ends with fewer distinct items than its total announced;
- a disturbed pass is walked again from the first page, yielding only what is new; after
  ``max_passes`` the walk raises ``ListingChangedError`` (totals moved) or
  ``IncompleteListingError``;
- a walk never sends more than a few times the requests its first total implied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from docr._errors import IncompleteListingError, ListingChangedError

__all__ = ["TokenPage", "TokenWalk"]


class TokenPage(Protocol):
    @property
    def items(self) -> Sequence[Any]: ...
    @property
    def total(self) -> int: ...
    @property
    def next_token(self) -> str | None: ...


class TokenWalk:
    """The state of one token-paged walk; drivers ask ``token`` and hand back each page to ``accept``."""

    def __init__(
        self, *, target: str, per_page: int, key: Callable[[Any], object], noun: str, max_passes: int = 3
    ) -> None:
        self.target = target
        self.per_page = per_page
        self.key = key
        self.noun = noun
        self.max_passes = max_passes
        self.passes = 1
        self.requests = 0
        self.yielded = 0
        self.finished = False
        self.token: str | None = None  # the page_token of the next request (None: the first page)
        self._budget: int | None = None
        self._seen: set[object] = set()
        self._totals: list[int] = []
        self._reset_pass()

    def _reset_pass(self) -> None:
        self.token = None
        self._total: int | None = None
        self._this_pass: set[object] = set()
        self._tokens: set[str] = set()
        self._received = 0
        self._disturbed = False
        self._moved = False

    def begin_request(self) -> None:
        """Count a request about to be sent; raises when the walk has used its budget."""
        if self._budget is not None and self.requests >= self._budget:
            raise ListingChangedError(
                f"{self.target}: gave up after {self.requests} requests for a listing whose first page announced"
                f" {self._totals[0]} {self.noun}; {self.yielded} {self.noun} were yielded, none twice."
            )
        self.requests += 1

    def accept(self, page: TokenPage) -> list[Any]:
        """Take the page just read; return the items to yield from it."""
        if self._budget is None:
            pages = max(1, -(-page.total // self.per_page))
            self._budget = 2 * self.max_passes * (pages + 1) + 8
        if self._total is None:
            self._total = page.total
        elif page.total != self._total:
            self._disturbed = self._moved = True
        if page.total not in self._totals:
            self._totals.append(page.total)
        fresh = []
        for item in page.items:
            key = self.key(item)
            if key in self._this_pass:
                self._disturbed = True
            self._this_pass.add(key)
            if key not in self._seen:
                self._seen.add(key)
                fresh.append(item)
        self._received += len(page.items)
        self.yielded += len(fresh)
        following = page.next_token
        if following is not None and following in self._tokens:
            self._disturbed = True  # the server sent us back to a page of this pass: a loop
            following = None
        if following is None:
            self._end_pass()
        else:
            self._tokens.add(following)
            self.token = following
        return fresh

    def _end_pass(self) -> None:
        if not self._disturbed and len(self._this_pass) != self._total:
            self._disturbed = True
        if not self._disturbed:
            self.finished = True
            return
        if self.passes >= self.max_passes:
            if self._moved:
                totals = " -> ".join(str(total) for total in self._totals)
                raise ListingChangedError(
                    f"{self.target} changed during each of {self.passes} walks (meta.total seen: {totals});"
                    f" {self.yielded} {self.noun} were yielded, none twice, but some may be missing."
                )
            expected = self._total or 0
            raise IncompleteListingError(
                f"the pages of {self.target} did not add up to meta.total in {self.passes} walks: {expected}"
                f" {self.noun} expected, {self.yielded} received, none twice.",
                expected=expected,
                received=self.yielded,
            )
        self.passes += 1
        self._reset_pass()
