"""OCI documents as registries store them: image manifests, indexes, attestations and referrers.

Pure functions that return the exact bytes of a manifest (compact JSON, as Go's encoder writes
it) and the blobs it names; the manifest's digest is the sha256 of those bytes, so the OCI API
and the listing API agree. Config blobs are real JSON whose digest is their sha256; layer blobs
are names and sizes only (the fake serves no blob content).

Shapes follow the OCI image spec and what buildx >= 0.10 pushes: an image index listing one
image manifest per platform and, with attestations, one attestation manifest per platform
(platform `unknown/unknown`, annotations `vnd.docker.reference.type: attestation-manifest` and
`vnd.docker.reference.digest: <the platform manifest>`), whose layers are in-toto statements.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "DOCKER_MANIFEST",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Built",
    "artifact",
    "attestation",
    "digest_of",
    "image",
    "index",
    "parse_platform",
]

OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG: Final = "application/vnd.oci.image.config.v1+json"
OCI_LAYER: Final = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY: Final = "application/vnd.oci.empty.v1+json"
EMPTY_DIGEST: Final = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"  # of b"{}"
DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG: Final = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER: Final = "application/vnd.docker.image.rootfs.diff.tar.gzip"
IN_TOTO: Final = "application/vnd.in-toto+json"
ATTESTATION_PREDICATES: Final = ("https://spdx.dev/Document", "https://slsa.dev/provenance/v0.2")

_Document = dict[str, Any]


@dataclass(frozen=True)
class Built:
    """A manifest's bytes, media type and the blobs (config first) it names."""

    data: bytes
    media_type: str
    blobs: tuple[tuple[str, int], ...]

    @property
    def digest(self) -> str:
        return digest_of(self.data)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data), **extra}


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _dump(document: _Document) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def parse_platform(platform: str) -> dict[str, str]:
    """ "linux/arm64/v8" -> {"architecture": "arm64", "os": "linux", "variant": "v8"}."""
    parts = platform.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"platform must be OS/ARCH or OS/ARCH/VARIANT, like linux/amd64: {platform!r}")
    found = {"architecture": parts[1], "os": parts[0]}
    if len(parts) == 3:
        found["variant"] = parts[2]
    return found


def _config(platform: dict[str, str], layers: list[tuple[str, int]], created: str) -> bytes:
    # diff_ids name the uncompressed layers; derived from the compressed digests, as good as any name.
    diff_ids = ["sha256:" + hashlib.sha256(digest.encode()).hexdigest() for digest, _ in layers]
    return _dump(
        {
            **platform,
            "created": created,
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    )


def image(
    platform: str,
    layers: list[tuple[str, int]],
    created: str,
    *,
    docker: bool = False,
    annotations: dict[str, str] | None = None,
) -> Built:
    """A runnable image's manifest (OCI, or Docker schema 2 with `docker=True`)."""
    config = _config(parse_platform(platform), layers, created)
    layer_type = DOCKER_LAYER if docker else OCI_LAYER
    document: _Document = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": {
            "mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
            "digest": digest_of(config),
            "size": len(config),
        },
        "layers": [{"mediaType": layer_type, "digest": digest, "size": size} for digest, size in layers],
    }
    if annotations:
        document["annotations"] = annotations
    blobs = ((digest_of(config), len(config)), *layers)
    return Built(_dump(document), document["mediaType"], blobs)


def attestation(statements: list[tuple[str, int]]) -> Built:
    """A buildx attestation manifest: in-toto statements (SBOM, provenance) as layers."""
    config = _dump({"architecture": "unknown", "os": "unknown", "config": {}, "rootfs": {"type": "layers"}})
    layers = [
        {
            "mediaType": IN_TOTO,
            "digest": digest,
            "size": size,
            "annotations": {"in-toto.io/predicate-type": ATTESTATION_PREDICATES[n % len(ATTESTATION_PREDICATES)]},
        }
        for n, (digest, size) in enumerate(statements)
    ]
    document: _Document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": layers,
    }
    return Built(_dump(document), OCI_MANIFEST, ((digest_of(config), len(config)), *statements))


def artifact(
    artifact_type: str, layer: tuple[str, int], layer_type: str, subject: dict[str, Any], created: str
) -> Built:
    """An OCI 1.1 referrer (a signature, an SBOM): empty config, one layer, a `subject`."""
    document: _Document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2},
        "layers": [{"mediaType": layer_type, "digest": layer[0], "size": layer[1]}],
        "subject": subject,
        "annotations": {"org.opencontainers.image.created": created},
    }
    return Built(_dump(document), OCI_MANIFEST, ((EMPTY_DIGEST, 2), layer))


def index(manifests: list[dict[str, Any]], annotations: dict[str, str] | None = None) -> Built:
    """An OCI image index of the given descriptors; it names no blobs of its own."""
    document: _Document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    if annotations:
        document["annotations"] = annotations
    return Built(_dump(document), OCI_INDEX, ())
