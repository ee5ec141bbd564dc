"""The iterators listings return: closable, and context managers, sync and async alike.

A walk runs requests ahead of the consumer. Leaving a ``for`` loop early, closing the iterator or
leaving its ``with`` block stops the walk at once: no new request or retry starts, and requests
already in flight are abandoned rather than waited out.

Usage::

    with client.iter_manifests("example", "my/repo") as manifests:
        first = next(manifests)

    async with client.iter_manifests("example", "my/repo") as manifests:
        first = await anext(manifests)
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import Generic, Self, TypeVar

__all__ = ["AsyncListing", "Listing"]

T = TypeVar("T")


class Listing(Iterator[T], Generic[T]):
    """An iterator over a walk; ``close()`` (or leaving ``with``) stops the walk."""

    __slots__ = ("_generator",)

    def __init__(self, generator: Generator[T]) -> None:
        self._generator = generator

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        return next(self._generator)

    def close(self) -> None:
        """Stop the walk now (idempotent)."""
        self._generator.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class AsyncListing(AsyncIterator[T], Generic[T]):
    """An async iterator over a walk; ``aclose()`` (or leaving ``async with``) stops the walk."""

    __slots__ = ("_generator",)

    def __init__(self, generator: AsyncGenerator[T]) -> None:
        self._generator = generator

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        return await self._generator.__anext__()

    async def aclose(self) -> None:
        """Stop the walk now (idempotent)."""
        await self._generator.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
