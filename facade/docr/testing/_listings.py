"""The three listings, each a page of encoded items and a total (None for an unknown registry or repository).

- manifests: newest first (ties by digest), offset paging;
- tags: newest first by the updated_at of the manifest each names, ties by tag name; each tag
  carries its manifest's digest, sizes and updated_at, as upstream's tag model;
- repositories (V2): by name, with live `tag_count`, `manifest_count` and `latest_manifest`
  (the repository's newest manifest, omitted for an empty repository). Paged by offset, or
  after a cursor name (`page_token`): a cursor walk lists each repository that exists
  throughout exactly once, whatever is added or deleted meanwhile.
"""

from __future__ import annotations

import bisect
import json

from docr.testing._registries import Registries
from docr.testing._store import ENCODER

__all__ = ["manifest_page", "repository_page", "tag_page"]


def manifest_page(
    registries: Registries, registry: str, repository: str, page: int, per_page: int
) -> tuple[list[str], int] | None:
    with registries.lock:
        repo = registries.repository(registry, repository)
        if repo is None:
            return None
        start = (page - 1) * per_page
        return repo.texts[start : start + per_page], len(repo.texts)


def tag_page(
    registries: Registries, registry: str, repository: str, page: int, per_page: int
) -> tuple[list[str], int] | None:
    with registries.lock:
        repo = registries.repository(registry, repository)
        if repo is None:
            return None
        rows = repo.tag_rows()
        start = (page - 1) * per_page
        chosen = [(tag, digest, repo.text(digest)) for _, tag, digest in rows[start : start + per_page]]
        total = len(rows)
    texts = []
    for tag, digest, text in chosen:
        manifest = json.loads(text)
        item = {"registry_name": registry, "repository": repository, "tag": tag, "manifest_digest": digest}
        for field in ("compressed_size_bytes", "size_bytes", "updated_at"):
            if field in manifest:
                item[field] = manifest[field]
        texts.append(ENCODER.encode(item))
    return texts, total


def repository_page(
    registries: Registries, registry: str, after: str | None, page: int, per_page: int
) -> tuple[list[str], int, str | None] | None:
    """The page's repositories, the total, and the cursor to the next page (None at the end)."""
    with registries.lock:
        found = registries.get(registry)
        if found is None:
            return None
        names = sorted(found.repositories)
        start = bisect.bisect_right(names, after) if after is not None else (page - 1) * per_page
        chosen = names[start : start + per_page]
        texts = []
        for name in chosen:
            repo = found.repositories[name]
            latest = f',"latest_manifest":{repo.texts[0]}' if repo.texts else ""
            texts.append(
                f'{{"registry_name":{ENCODER.encode(registry)},"name":{ENCODER.encode(name)}{latest},'
                f'"tag_count":{len(repo.tag_map())},"manifest_count":{len(repo.texts)}}}'
            )
        more = start + per_page < len(names)
        return texts, len(names), (chosen[-1] if more and chosen else None)
