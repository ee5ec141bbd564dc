"""The listings compared: each lists a whole repository, the way its users would write it.

Every contender builds its client, lists every manifest into a list and returns how many it
got (``keep=False`` counts without keeping, for the memory probe). Libraries are imported
inside the functions, so a worker process only ever loads the one it measures.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

REGISTRY = "example"
TIMEOUT = 30.0
IN_FLIGHT = 4  # the async floor's window: docr's default concurrency

Listing = Callable[[str, str, str, int, bool], int]


def unpaced() -> Any:
    """Rate limits no benchmark reaches. docr paces itself to DigitalOcean's 250 requests a
    minute by default, which would stretch a 2,000-request walk to 8 minutes of sleeping; these
    walks measure CPU and round trips, so the budget is raised (its bookkeeping still runs)."""
    from docr import RateLimits

    return RateLimits(per_minute=10**9, per_hour=10**9)


def docr_sync(url: str, token: str, repository: str, per_page: int, keep: bool = True) -> int:
    """``docr.Client.iter_manifests`` with default settings (concurrency 4, retries on)."""
    from docr import Client

    with Client(token, base_url=url, rate_limits=unpaced()) as client:
        manifests = client.iter_manifests(REGISTRY, repository, per_page=per_page)
        if keep:
            return len(list(manifests))
        return sum(1 for _ in manifests)


def docr_pages(url: str, token: str, repository: str, per_page: int, keep: bool = True) -> int:
    """``docr.Client.iter_pages``: the same walk without the digest dedupe (memory probe only)."""
    from docr import Client

    with Client(token, base_url=url, rate_limits=unpaced()) as client:
        pages = client.iter_pages(REGISTRY, repository, per_page=per_page)
        if keep:
            return len([manifest for page in pages for manifest in page.manifests])
        return sum(len(page.manifests) for page in pages)


def docr_async(url: str, token: str, repository: str, per_page: int, keep: bool = True) -> int:
    """``docr.AsyncClient.iter_manifests`` (default settings) under ``asyncio.run``."""
    from docr import AsyncClient

    async def walk() -> int:
        async with AsyncClient(token, base_url=url, rate_limits=unpaced()) as client:
            manifests = client.iter_manifests(REGISTRY, repository, per_page=per_page)
            if keep:
                return len([manifest async for manifest in manifests])
            count = 0
            async for _ in manifests:
                count += 1
            return count

    return asyncio.run(walk())


def _path(repository: str) -> str:
    # The current endpoint, the one docr sends by default.
    return f"/v2/registries/{REGISTRY}/repositories/{quote(repository, safe='')}/digests"


def httpx_loop(url: str, token: str, repository: str, per_page: int, keep: bool = True) -> int:
    """The floor for a sequential client: plain httpx, one page after another, JSON dicts."""
    import httpx

    path = _path(repository)
    manifests: list[object] = []
    seen = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT) as http:
        page = 1
        while True:
            response = http.get(path, params={"page": page, "per_page": per_page})
            response.raise_for_status()
            body = response.json()
            batch = body.get("manifests") or []
            seen += len(batch)
            if keep:
                manifests.extend(batch)
            if not batch or seen >= body["meta"]["total"]:
                return seen
            page += 1


def httpx_async(url: str, token: str, repository: str, per_page: int, keep: bool = True) -> int:
    """The floor for ``docr.AsyncClient``: ``httpx.AsyncClient``, page 1 alone (its ``meta.total``
    sizes the walk), then a window of ``IN_FLIGHT`` page requests, consumed in page order."""
    import httpx

    path = _path(repository)
    manifests: list[object] = []

    async def get(http: httpx.AsyncClient, page: int) -> Any:
        response = await http.get(path, params={"page": page, "per_page": per_page})
        response.raise_for_status()
        return response.json()

    async def walk() -> int:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=TIMEOUT) as http:
            first = await get(http, 1)
            batch = first.get("manifests") or []
            seen, total = len(batch), first["meta"]["total"]
            if keep:
                manifests.extend(batch)
            last, page = -(-total // per_page), 2
            pending: deque[asyncio.Task[Any]] = deque()
            while page <= last or pending:
                while page <= last and len(pending) < IN_FLIGHT:
                    pending.append(asyncio.ensure_future(get(http, page)))
                    page += 1
                batch = (await pending.popleft()).get("manifests") or []
                seen += len(batch)
                if keep:
                    manifests.extend(batch)
            return seen

    return asyncio.run(walk())


def pydo_loop(url: str, token: str, repository: str, per_page: int, keep: bool = True) -> int:
    """The official SDK: the page loop its users must write (pydo has no paginator for this)."""
    import pydo

    client = pydo.Client(token=token, endpoint=url, timeout=int(TIMEOUT))
    manifests: list[object] = []
    seen = 0
    page = 1
    while True:
        body = client.registry.list_repository_manifests(
            registry_name=REGISTRY,
            repository_name=repository,
            per_page=per_page,
            page=page,
            enforce_https=False,  # azure-core refuses a bearer token over http:// otherwise
        )
        batch = body.get("manifests") or []
        seen += len(batch)
        if keep:
            manifests.extend(batch)
        if not batch or seen >= body["meta"]["total"]:
            client.close()
            return seen
        page += 1


CONTENDERS: dict[str, Listing] = {
    "docr": docr_sync,
    "docr-async": docr_async,
    "docr-pages": docr_pages,
    "httpx-loop": httpx_loop,
    "httpx-async": httpx_async,
    "pydo-loop": pydo_loop,
}
