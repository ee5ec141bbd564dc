"""The fake's state: registries, their repositories, blobs and garbage collections, behind one lock.

A registry exists once something is added to it (or `add_registry` names it). Its blobs are
shared by all its repositories: a blob is held while a manifest names it, and after the last
such manifest is deleted it stays held (and counted in `storage_usage_bytes`) until a garbage
collection of an "unreferenced blobs" type frees it, as in DOCR.

Every read or write first brings the registry's garbage collection up to date with the clock
(`_sync`), so a collection that has ended has applied what it frees before anyone can look.
While a collection is active the registry is read-only: deletes are refused with `Refusal(409)`.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from docr.testing._clock import Clock, iso
from docr.testing._gc import ACTIVE_STATUSES, Collection, plan_manifests
from docr.testing._store import Content, Entry, Repository, blobs_of

__all__ = ["Blob", "Refusal", "Registries", "Registry"]

DEFAULT_REGION = "nyc3"
DEFAULT_CREATED_AT = "2025-06-02T09:30:00Z"


class Refusal(Exception):
    """An operation the API refuses: its HTTP status and message."""

    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message or str(status))
        self.status = status
        self.message = message


class Blob(NamedTuple):
    size: int
    refcount: int  # manifests (in any repository of the registry) that name it; 0: held but unreferenced


@dataclass
class Registry:
    name: str
    region: str = DEFAULT_REGION
    created_at: str = DEFAULT_CREATED_AT
    repositories: dict[str, Repository] = field(default_factory=dict)
    released: dict[str, int] = field(default_factory=dict)  # blobs of deleted manifests, until a GC
    collections: list[Collection] = field(default_factory=list)  # oldest first
    version: int = 0
    blob_cache: tuple[int, dict[str, Blob]] | None = None

    def changed(self) -> None:
        self.version += 1

    def release(self, texts: Iterable[str]) -> None:
        for text in texts:
            for digest, size in blobs_of(text):
                self.released.setdefault(digest, size)
        self.changed()

    def blobs(self) -> dict[str, Blob]:
        if self.blob_cache is None or self.blob_cache[0] != self.version:
            counts: dict[str, list[int]] = {}
            for repository in self.repositories.values():
                for text in repository.texts:
                    for digest, size in blobs_of(text):
                        counts.setdefault(digest, [size, 0])[1] += 1
            for digest, size in self.released.items():
                counts.setdefault(digest, [size, 0])
            self.blob_cache = (self.version, {digest: Blob(size, count) for digest, (size, count) in counts.items()})
        return self.blob_cache[1]

    def active_collection(self, now: float) -> Collection | None:
        last = self.collections[-1] if self.collections else None
        return last if last is not None and last.active_at(now) else None


class Registries:
    """All registries; every public method takes the lock and syncs garbage collection first."""

    def __init__(self, clock: Clock) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._registries: dict[str, Registry] = {}
        self.gc_step = 1.0
        self.gc_statuses: tuple[str, ...] = ACTIVE_STATUSES
        self.gc_outcome = "succeeded"

    # Access

    def get(self, name: str) -> Registry | None:
        with self.lock:
            registry = self._registries.get(name)
            if registry is not None:
                self._sync(registry, self.clock())
            return registry

    def require(self, name: str) -> Registry:
        registry = self.get(name)
        if registry is None:
            raise KeyError(f"no such registry: {name}")
        return registry

    def repository(self, registry: str, repository: str) -> Repository | None:
        with self.lock:
            found = self.get(registry)
            return None if found is None else found.repositories.get(repository)

    def require_repository(self, registry: str, repository: str) -> Repository:
        found = self.repository(registry, repository)
        if found is None:
            raise KeyError(f"no such repository: {registry}/{repository}")
        return found

    def names(self) -> list[str]:
        with self.lock:
            return sorted(self._registries)

    # Writes by the test's hand (no read-only check: a test may do what a client cannot)

    def add_registry(self, name: str, *, region: str | None = None, created_at: str | None = None) -> Registry:
        _check_names(name, "x")
        with self.lock:
            registry = self._registries.setdefault(name, Registry(name))
            registry.region = region or registry.region
            registry.created_at = created_at or registry.created_at
            return registry

    def add(
        self,
        registry: str,
        repository: str,
        entries: list[Entry],
        contents: Mapping[str, Content] | None = None,
        tags: Iterable[str] = (),
    ) -> None:
        """Add entries; `tags` move from any other manifest to the (single) entry added, as a push does."""
        _check_names(registry, repository)
        with self.lock:
            found = self.add_registry(registry)
            self._sync(found, self.clock())
            repo = found.repositories.setdefault(repository, Repository())
            holders = {tag: repo.tag_map().get(tag) for tag in tags}
            found.release(repo.add(entries))
            repo.contents.update(contents or {})
            for tag, holder in holders.items():
                if holder is not None and holder != entries[-1][1] and holder in repo.by_digest:
                    repo.set_tags(holder, [t for t in _listed_tags(repo.text(holder)) if t != tag])

    def delete(self, registry: str, repository: str, digests: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(digests))
        with self.lock:
            repo = self.require_repository(registry, repository)
            missing = [digest for digest in wanted if digest not in repo.by_digest]
            if missing:
                raise KeyError(f"no such manifest in {registry}/{repository}: {', '.join(missing)}")
            self._registries[registry].release(repo.remove(wanted))

    # API operations

    def delete_manifest(self, registry: str, repository: str, digest: str) -> None:
        with self.lock:
            repo = self._writable(registry, repository)
            if digest not in repo.by_digest:
                raise Refusal(404)
            self._registries[registry].release(repo.remove([digest]))

    def delete_tag(self, registry: str, repository: str, tag: str) -> None:
        with self.lock:
            repo = self._writable(registry, repository)
            digest = repo.tag_map().get(tag)
            if digest is None:
                raise Refusal(404)
            repo.set_tags(digest, [t for t in _listed_tags(repo.text(digest)) if t != tag])
            self._registries[registry].changed()

    def start_collection(self, registry: str, kind: str) -> Collection:
        with self.lock:
            found = self._found(registry)
            now = self.clock()
            active = found.active_collection(now)
            if active is not None:
                status = active.status_at(now)[0]
                raise Refusal(409, f"garbage collection {active.uuid} is already active ({status}) on {registry}")
            collection = Collection(
                str(uuid.uuid4()), registry, kind, now, self.gc_step, self.gc_statuses, self.gc_outcome
            )
            found.collections.append(collection)
            self._sync(found, now)
            return collection

    def collection(self, registry: str, gc_uuid: str) -> Collection:
        with self.lock:
            found = next((c for c in self._found(registry).collections if c.uuid == gc_uuid), None)
            if found is None:
                raise Refusal(404)
            return found

    def cancel_collection(self, registry: str, gc_uuid: str) -> Collection:
        with self.lock:
            collection = self.collection(registry, gc_uuid)
            now = self.clock()
            status = collection.status_at(now)[0]
            if status in ("succeeded", "failed", "cancelled"):
                raise Refusal(409, f"garbage collection {gc_uuid} has already ended ({status}): nothing to cancel")
            if collection.cancelled_at is None:
                collection.cancelled_at = now
            return collection

    # Helpers

    def _found(self, registry: str) -> Registry:
        found = self.get(registry)
        if found is None:
            raise Refusal(404)
        return found

    def _writable(self, registry: str, repository: str) -> Repository:
        found = self._found(registry)
        repo = found.repositories.get(repository)
        if repo is None:
            raise Refusal(404)
        now = self.clock()
        active = found.active_collection(now)
        if active is not None:
            raise Refusal(
                409,
                f"registry {registry} is read-only while garbage collection {active.uuid} is active"
                f" ({active.status_at(now)[0]}); retry once it has ended",
            )
        return repo

    def _sync(self, registry: Registry, now: float) -> None:
        collection = registry.collections[-1] if registry.collections else None
        if collection is None or collection.applied or collection.active_at(now):
            return
        collection.applied = True
        if collection.status_at(now)[0] != "succeeded":
            return
        if collection.deletes_manifests:
            repos = registry.repositories
            doomed = plan_manifests(
                {name: repo.untagged() for name, repo in repos.items()},
                lambda name, digest: _children(repos[name], digest),
                {name: set(repo.tag_map().values()) for name, repo in repos.items()},
            )
            for name, digests in doomed.items():
                registry.release(repos[name].remove(sorted(digests)))
        if collection.deletes_blobs:
            unreferenced = {digest: blob.size for digest, blob in registry.blobs().items() if blob.refcount == 0}
            collection.blobs_deleted = len(unreferenced)
            collection.freed_bytes = sum(unreferenced.values())
            registry.released.clear()
            registry.changed()

    def collections(self, registry: str) -> list[dict[str, Any]]:
        """The API bodies of a registry's collections, newest first."""
        with self.lock:
            found = self._found(registry)
            now = self.clock()
            return [collection.body(now) for collection in reversed(found.collections)]

    def registry_body(self, registry: str) -> dict[str, Any]:
        with self.lock:
            found = self._found(registry)
            return {
                "name": found.name,
                "created_at": found.created_at,
                "region": found.region,
                "storage_usage_bytes": sum(blob.size for blob in found.blobs().values()),
                "storage_usage_bytes_updated_at": iso(self.clock()),
            }


def _children(repository: Repository, digest: str) -> tuple[str, ...]:
    content = repository.contents.get(digest)
    return content.children if content is not None else ()


def _listed_tags(text: str) -> list[str]:
    tags = json.loads(text).get("tags")
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []


def _check_names(registry: str, repository: str) -> None:
    if not registry or "/" in registry:
        raise ValueError(f"registry name must be non-empty and contain no '/': {registry!r}")
    if not repository or repository.startswith("/") or repository.endswith("/") or "//" in repository:
        raise ValueError(f"repository name must be non-empty path segments joined by '/': {repository!r}")
