"""`push_image` and `push_index`: what `docker push` and `docker buildx build --push` leave behind.

A push stores the manifest's exact bytes (the OCI API serves them; their sha256 is the digest)
and its listing entry (what list-manifests shows), and moves each of its tags away from any
other manifest of the repository, as a registry does.

What the listing shows for a manifest:

- an image: `blobs` are its config then its layers, `compressed_size_bytes` their sum, and
  `size_bytes` the config plus the layers uncompressed (2.4 times their compressed size);
- an image index: `blobs: []` and both sizes 0. An index names no blobs of its own; its
  children are listed (untagged) with their own sizes, so a total over the listing counts each
  byte once. `FakeRegistry.manifest_info` says which listed manifests are indexes and what
  they list;
- an attestation or a referrer (signature, SBOM): its blobs, with `size_bytes` equal to
  `compressed_size_bytes` (JSON documents, stored as they are).

Layers are given as sizes (a new blob each) or as `(digest, size)` pairs of blobs to reuse,
which is how tags and repositories come to share base layers. New blobs get deterministic
digests, so the same pushes in the same order give the same digests in any fake.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from docr.testing import _oci
from docr.testing._clock import Clock, iso
from docr.testing._registries import Registries
from docr.testing._store import Content, encode_entry

__all__ = ["Layer", "Pusher"]

Layer = int | tuple[str, int]
SIGNATURE = "application/vnd.dev.cosign.artifact.sig.v1+json"
_LAYER_TYPES = {
    SIGNATURE: "application/vnd.dev.cosign.simplesigning.v1+json",
    "application/spdx+json": "application/spdx+json",
}
_UNCOMPRESSED = 2.4


class Pusher:
    def __init__(self, registries: Registries, clock: Clock, namespace: str = "") -> None:
        # Pushers with different namespaces never make the same blob digest.
        self._registries = registries
        self._clock = clock
        self._namespace = namespace
        self._rng = random.Random(f"docr.testing {namespace}")
        self._blobs = itertools.count(1)

    def blob(self, size: int) -> tuple[str, int]:
        """A new blob's (digest, size)."""
        if size < 0:
            raise ValueError(f"a blob size must be >= 0, got {size}")
        name = f"docr.testing blob {self._namespace} {next(self._blobs)}"
        return "sha256:" + hashlib.sha256(name.encode()).hexdigest(), size

    def layers(self, given: Sequence[Layer] | None) -> list[tuple[str, int]]:
        if given is None:
            sizes = [int(math.exp(self._rng.uniform(math.log(200_000), math.log(60_000_000)))) for _ in range(3)]
            return [self.blob(size) for size in sizes]
        found: list[tuple[str, int]] = []
        for layer in given:
            if isinstance(layer, int):
                found.append(self.blob(layer))
            else:
                digest, size = layer
                found.append((digest, size))
        return found

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
        when = self._when(updated_at)
        if subject is None:
            built = _oci.image(platform, self.layers(layers), when, docker=docker)
            content = Content(built.media_type, built.data, "image", platform=platform)
        else:
            kind = artifact_type or SIGNATURE
            layer = self.layers(layers)[0] if layers else self.blob(self._rng.randint(200, 2_000))
            built = _oci.artifact(
                kind, layer, _LAYER_TYPES.get(kind, kind), self._subject(registry, repository, subject), when
            )
            content = Content(
                built.media_type, built.data, "artifact", subject=subject, annotations={"artifactType": kind}
            )
        return self._store(registry, repository, built, content, tags, when)

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
        if not platforms:
            raise ValueError("an index needs at least one platform")
        when = self._when(updated_at)
        # buildx pushes the children first: a second before the index, so the index lists first.
        before = iso(datetime.fromisoformat(when).timestamp() - 1)
        descriptors: list[dict[str, Any]] = []
        images: list[_oci.Built] = []
        for platform in platforms:
            built = _oci.image(platform, self.layers((layers or {}).get(platform)), when)
            content = Content(built.media_type, built.data, "image", platform=platform)
            self._store(registry, repository, built, content, (), before)
            descriptors.append(built.descriptor(platform=_oci.parse_platform(platform)))
            images.append(built)
        for built in images if attestations else ():
            statements = [self.blob(self._rng.randint(20_000, 400_000)), self.blob(self._rng.randint(3_000, 20_000))]
            proof = _oci.attestation(statements)
            notes = {"vnd.docker.reference.digest": built.digest, "vnd.docker.reference.type": "attestation-manifest"}
            content = Content(
                proof.media_type, proof.data, "attestation", platform="unknown/unknown", annotations=notes
            )
            self._store(registry, repository, proof, content, (), before)
            descriptors.append(
                proof.descriptor(annotations=notes, platform={"architecture": "unknown", "os": "unknown"})
            )
        top = _oci.index(descriptors)
        children = tuple(descriptor["digest"] for descriptor in descriptors)
        return self._store(
            registry, repository, top, Content(top.media_type, top.data, "index", children=children), tags, when
        )

    def _when(self, updated_at: datetime | str | None) -> str:
        if updated_at is None:
            return iso(self._clock())
        if isinstance(updated_at, datetime):
            if updated_at.tzinfo is None:
                raise ValueError("updated_at needs a timezone (e.g. datetime.UTC)")
            return iso(updated_at.timestamp())
        return iso(datetime.fromisoformat(updated_at).timestamp())

    def _subject(self, registry: str, repository: str, digest: str) -> dict[str, Any]:
        repo = self._registries.repository(registry, repository)
        content = repo.contents.get(digest) if repo is not None else None
        if content is None:
            raise ValueError(f"subject {digest} is not a pushed manifest of {registry}/{repository}")
        return {"mediaType": content.media_type, "digest": digest, "size": len(content.data)}

    def _store(
        self, registry: str, repository: str, built: _oci.Built, content: Content, tags: Sequence[str], when: str
    ) -> str:
        for tag in tags:
            if not tag or len(tag) > 128 or "/" in tag:
                raise ValueError(f"not a tag: {tag!r}")
        digest = built.digest
        with self._registries.lock:
            repo = self._registries.repository(registry, repository)
            kept = [t for t, d in (repo.tag_map().items() if repo is not None else ()) if d == digest]
            listing = _listing(
                registry, repository, built, content.kind, [*kept, *(t for t in tags if t not in kept)], when
            )
            self._registries.add(registry, repository, [encode_entry(listing)], {digest: content}, tags)
        return digest


def _listing(
    registry: str, repository: str, built: _oci.Built, kind: str, tags: list[str], when: str
) -> dict[str, Any]:
    if kind == "image":
        config, *layers = built.blobs
        size = config[1] + sum(int(layer_size * _UNCOMPRESSED) for _, layer_size in layers)
    else:
        size = sum(blob_size for _, blob_size in built.blobs)
    return {
        "digest": built.digest,
        "registry_name": registry,
        "repository": repository,
        "compressed_size_bytes": sum(blob_size for _, blob_size in built.blobs),
        "size_bytes": size,
        "updated_at": when,
        "tags": tags,
        "blobs": [{"digest": digest, "compressed_size_bytes": blob_size} for digest, blob_size in built.blobs],
    }
