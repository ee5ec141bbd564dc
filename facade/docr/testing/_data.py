"""What is in the fake: filling it (listings, pushes, seeded data) and looking inside it from a test."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from docr.testing import _demo
from docr.testing._credentials import Credentials
from docr.testing._generate import generate, generate_repositories
from docr.testing._push import Layer, Pusher
from docr.testing._registries import Blob, Registries
from docr.testing._store import encode_entry

__all__ = ["FakeData"]


class FakeData:
    """The data half of `FakeRegistry` (works without starting the servers)."""

    def __init__(self, registries: Registries, credentials: Credentials, pusher: Pusher) -> None:
        self._registries = registries
        self._credentials = credentials
        self._pusher = pusher

    # Filling

    def add_registry(self, name: str, *, region: str | None = None, created_at: str | None = None) -> None:
        """Create (or update) a registry; one is also created by the first manifest added to it."""
        self._registries.add_registry(name, region=region, created_at=created_at)

    def add_manifests(self, registry: str, repository: str, manifests: Iterable[Mapping[str, Any]]) -> None:
        """Add API-shaped listing entries (each needs a `digest`; the same digest again replaces it).

        Stored as given, with no OCI content (the registry API answers them 404): their `tags`
        and `blobs` are what list-tags, counts and blob accounting read.
        """
        entries = [encode_entry(manifest) for manifest in manifests]  # encode outside the lock: the slow part
        self._registries.add(registry, repository, entries)

    def generate(self, registry: str, repository: str, count: int = 100, seed: int = 0) -> list[dict[str, Any]]:
        """Add `count` realistic listing entries, the same for the same seed; returns them newest first."""
        manifests, entries = generate(registry, repository, count, seed)
        self._registries.add(registry, repository, entries)
        return manifests

    def generate_repositories(
        self, registry: str, *, repositories: int = 200, count: int = 200, seed: int = 0, shared_layers: bool = True
    ) -> list[str]:
        """Add `repositories` repositories of `count` generated entries each (for usage benchmarks).

        With `shared_layers`, most manifests also name one of a few dozen base layers shared
        across repositories, so a registry's unique blobs are fewer than the sum of its listings.
        Returns the repository names, sorted.
        """
        names = []
        for name, entries in generate_repositories(registry, repositories, count, seed, shared_layers):
            self._registries.add(registry, name, entries)
            names.append(name)
        return sorted(names)

    def delete_manifests(self, registry: str, repository: str, digests: Iterable[str]) -> None:
        """Delete manifests by digest (tags go with them, blobs stay held until a GC); KeyError if any is not there."""
        self._registries.delete(registry, repository, digests)

    def push_image(
        self,
        registry: str,
        repository: str,
        *,
        tags: Sequence[str] = (),
        layers: Sequence[Layer] | None = None,
        platform: str = "linux/amd64",
        subject: str | None = None,
        artifact_type: str | None = None,
        docker: bool = False,
        updated_at: datetime | str | None = None,
    ) -> str:
        """Push an image (or, with `subject`, a referrer: a signature unless `artifact_type` says);
        returns its digest. See `docr.testing._push` for layers and what the listing shows."""
        return self._pusher.push_image(
            registry,
            repository,
            tags=tags,
            layers=layers,
            platform=platform,
            subject=subject,
            artifact_type=artifact_type,
            docker=docker,
            updated_at=updated_at,
        )

    def push_index(
        self,
        registry: str,
        repository: str,
        *,
        platforms: Sequence[str] = ("linux/amd64", "linux/arm64"),
        attestations: bool = True,
        tags: Sequence[str] = (),
        layers: Mapping[str, Sequence[Layer]] | None = None,
        updated_at: datetime | str | None = None,
    ) -> str:
        """Push a multi-platform image as buildx does (children untagged, then the tagged index); returns its digest."""
        return self._pusher.push_index(
            registry,
            repository,
            platforms=platforms,
            attestations=attestations,
            tags=tags,
            layers=layers,
            updated_at=updated_at,
        )

    def blob(self, size: int) -> tuple[str, int]:
        """A new blob's (digest, size), to pass in `layers` of several pushes that share it."""
        return self._pusher.blob(size)

    def seed_demo(self, registry: str = "example", *, now: datetime | None = None) -> list[str]:
        """Fill `registry` with the demo mix (see `docr.testing._demo`); returns its repositories."""
        return _demo.seed(self._registries, registry, now)

    # Looking inside

    def repositories(self, registry: str) -> list[str]:
        with self._registries.lock:
            return sorted(self._registries.require(registry).repositories)

    def manifests(self, registry: str, repository: str) -> list[dict[str, Any]]:
        """A copy of the repository's manifests in the order the API lists them (newest first)."""
        with self._registries.lock:
            texts = list(self._registries.require_repository(registry, repository).texts)
        return [json.loads(text) for text in texts]

    def tags(self, registry: str, repository: str) -> dict[str, str]:
        """tag -> manifest digest."""
        with self._registries.lock:
            return dict(self._registries.require_repository(registry, repository).tag_map())

    def manifest_bytes(self, registry: str, repository: str, reference: str) -> bytes:
        """The exact bytes pushed for a digest or tag (KeyError for a listing-only or unknown manifest)."""
        with self._registries.lock:
            repo = self._registries.require_repository(registry, repository)
            digest = reference if reference.startswith("sha256:") else repo.tag_map()[reference]
            return repo.contents[digest].data

    def manifest_info(self, registry: str, repository: str, digest: str) -> dict[str, Any] | None:
        """What a pushed manifest is: `kind` ("image", "index", "attestation", "artifact"),
        `media_type`, `children` (of an index), `subject`, `platform`, `annotations`; None for a
        listing-only manifest. KeyError if the repository has no such manifest."""
        with self._registries.lock:
            repo = self._registries.require_repository(registry, repository)
            if digest not in repo.by_digest:
                raise KeyError(f"no such manifest in {registry}/{repository}: {digest}")
            content = repo.contents.get(digest)
        if content is None:
            return None
        return {
            "kind": content.kind,
            "media_type": content.media_type,
            "children": list(content.children),
            "subject": content.subject,
            "platform": content.platform,
            "annotations": dict(content.annotations),
        }

    def blobs(self, registry: str) -> dict[str, Blob]:
        """digest -> Blob(size, refcount) of every blob the registry holds (refcount 0: unreferenced)."""
        with self._registries.lock:
            return dict(self._registries.require(registry).blobs())

    def storage_usage_bytes(self, registry: str) -> int:
        """The sum of the sizes of the unique blobs the registry holds (what GET registry reports)."""
        return sum(blob.size for blob in self.blobs(registry).values())

    def garbage_collections(self, registry: str) -> list[dict[str, Any]]:
        """The registry's garbage collections as the API shows them now, newest first."""
        self._registries.require(registry)
        return self._registries.collections(registry)

    def docker_credentials(self, registry: str, *, read_write: bool = False) -> tuple[str, str]:
        """(user, password) the registry API accepts now for `registry` (minted if none is valid)."""
        self._registries.require(registry)
        credential = self._credentials.current(registry, read_write=read_write)
        return credential.user, credential.password
