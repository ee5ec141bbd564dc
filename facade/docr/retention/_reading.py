"""Reading manifest bodies from the registry, a bounded number at a time (the I/O beside the listing).

Usage::

    oci, unreadable = read_bodies(client, "example", "web/app", digests, concurrency=8)
    oci, unreadable = await aread_bodies(async_client, "example", "web/app", digests, concurrency=8)

A body that cannot be read (404, authentication refused, bytes that do not match the digest,
the registry unreachable after the client's retries) goes into ``unreadable`` with the reason:
the planner then fails closed, as it must when a manifest may be an index it cannot see into.
A digest that is not a valid digest is not asked for at all (the planner notes it itself).

The first body is read alone: it fetches the registry token and the short-lived docker
credentials that every later read reuses, instead of each of the first ``concurrency`` reads
asking for its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from docr import _names
from docr._errors import ClientClosedError, DocrError, InvalidArgument, NotFoundError
from docr._oci import OCIManifest

if TYPE_CHECKING:  # asyncio is imported by the async functions only: sync users never load it
    from docr._async_client import AsyncClient
    from docr._client import Client

__all__ = ["Bodies", "aread_bodies", "check_concurrency", "read_bodies"]

Bodies = tuple[dict[str, OCIManifest], dict[str, str]]
_REASON_LIMIT = 200


def check_concurrency(concurrency: object) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 64:
        raise InvalidArgument("concurrency", f"must be an int from 1 to 64, not {concurrency!r}")
    return concurrency


def read_bodies(client: Client, registry: str, repository: str, digests: Iterable[str], *, concurrency: int) -> Bodies:
    """Each digest's parsed body, or why it could not be had; ``concurrency`` reads at a time."""
    from docr._workers import Workers

    wanted = _valid(digests)
    oci: dict[str, OCIManifest] = {}
    unreadable: dict[str, str] = {}
    if not wanted:
        return oci, unreadable
    _keep(wanted[0], _read(client, registry, repository, wanted[0]), oci, unreadable)
    workers = Workers(check_concurrency(concurrency), name="docr-retention-read")
    try:
        futures = [(digest, workers.submit(_read, client, registry, repository, digest)) for digest in wanted[1:]]
        for digest, future in futures:
            _keep(digest, future.result(), oci, unreadable)
    finally:
        workers.cancel()  # on an error or Ctrl-C nothing new starts; reads in flight are abandoned
    return oci, unreadable


async def aread_bodies(
    client: AsyncClient, registry: str, repository: str, digests: Iterable[str], *, concurrency: int
) -> Bodies:
    """``read_bodies`` for ``docr.AsyncClient``."""
    import asyncio

    wanted = _valid(digests)
    oci: dict[str, OCIManifest] = {}
    unreadable: dict[str, str] = {}
    if not wanted:
        return oci, unreadable
    _keep(wanted[0], await _aread(client, registry, repository, wanted[0]), oci, unreadable)
    slots = asyncio.Semaphore(check_concurrency(concurrency))

    async def bounded(digest: str) -> OCIManifest | str:
        async with slots:
            return await _aread(client, registry, repository, digest)

    tasks = [asyncio.ensure_future(bounded(digest)) for digest in wanted[1:]]
    try:
        for digest, task in zip(wanted[1:], tasks, strict=True):
            _keep(digest, await task, oci, unreadable)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return oci, unreadable


def _valid(digests: Iterable[str]) -> list[str]:
    found: dict[str, None] = {}
    for digest in digests:
        try:
            found[_names.digest(digest)] = None
        except InvalidArgument:
            continue
    return list(found)


def _read(client: Client, registry: str, repository: str, digest: str) -> OCIManifest | str:
    try:
        return client.get_oci_manifest(registry, repository, digest)
    except ClientClosedError:
        raise
    except DocrError as error:
        return reason(error)


async def _aread(client: AsyncClient, registry: str, repository: str, digest: str) -> OCIManifest | str:
    try:
        return await client.get_oci_manifest(registry, repository, digest)
    except ClientClosedError:
        raise
    except DocrError as error:
        return reason(error)


def _keep(digest: str, result: OCIManifest | str, oci: dict[str, OCIManifest], unreadable: dict[str, str]) -> None:
    if isinstance(result, OCIManifest):
        oci[digest] = result
    else:
        unreadable[digest] = result


def reason(error: DocrError) -> str:
    """Why a read failed, in a few words: ``not found (404)``, ``AuthenticationError: ...``."""
    if isinstance(error, NotFoundError):
        return "not found (404)"
    text = " ".join(str(error).split())
    if len(text) > _REASON_LIMIT:
        text = text[: _REASON_LIMIT - 1] + "…"
    return f"{type(error).__name__}: {text}"
