"""OCI manifests as a registry serves them, and the registry's token challenge. Pure: bytes in, values out.

Usage::

    manifest = parse_manifest(body, content_type=response.headers.get("content-type"), digest=digest)
    if manifest.is_index:
        for child in manifest.children:
            print(child.digest, child.platform, "attestation" if child.is_attestation else "")

    challenge = parse_challenge(response.headers["www-authenticate"])  # on a 401 (see docr._challenge)

    manifest_path("example", "my/repo", "sha256:...")  # "/v2/example/my/repo/manifests/sha256:..."

``parse_manifest`` checks the body against its digest (a mismatch means the registry or a proxy
served other bytes), then reads it strictly: a field of the wrong type raises ``InvalidManifest``
naming it (``manifests[2].platform.os: must be a str, not int``); the caller turns that into
``docr.InvalidResponse``. Optional fields may be absent; an unknown media type is kept as a string
(an artifact), as the spec requires. Bounded: bodies over 4 MiB and lists of over 10,000
descriptors are refused.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from docr import _names
from docr._challenge import BearerChallenge, InvalidChallenge, parse_challenge

__all__ = [
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "INDEX_MEDIA_TYPES",
    "MANIFEST_ACCEPT",
    "MAX_DESCRIPTORS",
    "MAX_MANIFEST_BYTES",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "BearerChallenge",
    "DigestMismatch",
    "InvalidChallenge",
    "InvalidManifest",
    "OCIDescriptor",
    "OCIManifest",
    "Platform",
    "manifest_path",
    "parse_challenge",
    "parse_manifest",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_MEDIA_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_MEDIA_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
#: The ``Accept`` header for a manifest GET: every type parsed here, indexes first.
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST])

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # the distribution spec's size registries SHOULD accept
MAX_DESCRIPTORS = 10_000

# buildx marks attestation manifests in an index with these annotations.
_REFERENCE_TYPE = "vnd.docker.reference.type"
_REFERENCE_DIGEST = "vnd.docker.reference.digest"
# The image spec's digest grammar; any algorithm that fits is a valid reference to another object.
_DESCRIPTOR_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_HEX_LENGTH = {"sha256": 64, "sha512": 128, "blake3": 64}
_EMPTY: Mapping[str, str] = MappingProxyType({})


class InvalidManifest(ValueError):
    """A manifest body that cannot be trusted or read; ``field`` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class DigestMismatch(InvalidManifest):
    """The body does not hash to the digest it was asked for."""


@dataclass(frozen=True, slots=True)
class Platform:
    """Where an index's child runs: ``str(Platform("linux", "arm64", "v8")) == "linux/arm64/v8"``."""

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


@dataclass(frozen=True, slots=True)
class OCIDescriptor:
    """A reference to another object: an index's child, a layer, a config or a subject."""

    digest: str
    media_type: str
    size: int
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
    artifact_type: str | None = None

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES

    @property
    def is_attestation(self) -> bool:
        """Whether buildx put this child in the index as an attestation (provenance, SBOM)."""
        return self.annotations.get(_REFERENCE_TYPE) == "attestation-manifest"

    @property
    def attests(self) -> str | None:
        """For an attestation, the digest of the manifest it attests."""
        return self.annotations.get(_REFERENCE_DIGEST) if self.is_attestation else None


@dataclass(frozen=True, slots=True)
class OCIManifest:
    """A manifest body, parsed: an image manifest, an index (``children``) or an artifact.

    ``subject`` is the digest of the manifest this one refers to (a signature or SBOM names the
    image it describes there); ``config`` is the config blob's digest.
    """

    digest: str
    media_type: str
    children: tuple[OCIDescriptor, ...] = ()
    subject: str | None = None
    config: str | None = None
    layers: tuple[OCIDescriptor, ...] = ()
    artifact_type: str | None = None
    annotations: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)

    @property
    def is_index(self) -> bool:
        """An index or manifest list, or anything else that lists child manifests."""
        return self.media_type in INDEX_MEDIA_TYPES or bool(self.children)


def parse_manifest(body: bytes, *, content_type: str | None, digest: str) -> OCIManifest:
    """Verify ``body`` against ``digest`` and parse it; raise ``InvalidManifest`` when it cannot be trusted.

    The media type is the body's ``mediaType`` when present (the body is what the digest covers),
    else the ``Content-Type`` header, else guessed from the shape (``manifests`` makes an index).
    """
    _names.digest(digest, "digest")
    if len(body) > MAX_MANIFEST_BYTES:
        raise InvalidManifest("body", f"is {len(body)} bytes; docr refuses manifests over {MAX_MANIFEST_BYTES} bytes")
    algorithm, _, expected = digest.partition(":")
    actual = hashlib.new(algorithm, body).hexdigest()
    if actual != expected:
        raise DigestMismatch(
            "body", f"hashes to {algorithm}:{actual}, not {digest}: the registry or a proxy changed it"
        )
    try:
        data = json.loads(body, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise InvalidManifest("body", "is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a duplicate key
        raise InvalidManifest("body", f"is not a JSON object ({exc})") from None
    doc = _object(data, "body")
    media_type = _opt_str(doc, "mediaType", "") or _header_type(content_type) or _guess_type(doc)
    version = doc.get("schemaVersion")
    if version is not None:
        _integer(version, "schemaVersion")
        if media_type in INDEX_MEDIA_TYPES | IMAGE_MEDIA_TYPES and version != 2:
            raise InvalidManifest("schemaVersion", f"must be 2 for {media_type}, not {version}")
    if media_type in INDEX_MEDIA_TYPES and "manifests" not in doc:
        raise InvalidManifest("manifests", f"is required in {media_type}")
    if media_type in IMAGE_MEDIA_TYPES and "config" not in doc:
        raise InvalidManifest("config", f"is required in {media_type}")
    subject = _opt_descriptor(doc, "subject")
    config = _opt_descriptor(doc, "config")
    return OCIManifest(
        digest=digest,
        media_type=media_type,
        children=_descriptors(doc, "manifests"),
        subject=subject.digest if subject else None,
        config=config.digest if config else None,
        layers=_descriptors(doc, "layers"),
        artifact_type=_opt_str(doc, "artifactType", ""),
        annotations=_annotations(doc, ""),
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers that keep different copies of a duplicated key would see different children.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _header_type(content_type: str | None) -> str | None:
    # Parameters such as "; charset=utf-8" are to be ignored (distribution spec).
    value = (content_type or "").split(";", 1)[0].strip().lower()
    return value or None


def _guess_type(doc: Mapping[str, Any]) -> str:
    return OCI_INDEX if "manifests" in doc else OCI_MANIFEST if "config" in doc else "application/octet-stream"


def _where(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidManifest(where, f"must be an object, not {_kind(value)}")
    return value


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidManifest(where, f"must be a str, not {_kind(value)}")
    return value


def _integer(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidManifest(where, f"must be an integer, not {_kind(value)}")
    return value


def _kind(value: object) -> str:
    names = {dict: "object", list: "array", str: "str", bool: "bool", int: "int", float: "float", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _opt_str(doc: Mapping[str, Any], key: str, prefix: str) -> str | None:
    value = doc.get(key)
    return None if value is None else _string(value, _where(prefix, key))


def _annotations(doc: Mapping[str, Any], prefix: str) -> Mapping[str, str]:
    where = _where(prefix, "annotations")
    value = doc.get("annotations")
    if value is None:
        return _EMPTY
    pairs = _object(value, where)
    return MappingProxyType({key: _string(text, f"{where}[{key!r}]") for key, text in pairs.items()})


def _descriptors(doc: Mapping[str, Any], key: str) -> tuple[OCIDescriptor, ...]:
    value = doc.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidManifest(key, f"must be an array, not {_kind(value)}")
    if len(value) > MAX_DESCRIPTORS:
        raise InvalidManifest(key, f"lists {len(value)} entries; docr refuses more than {MAX_DESCRIPTORS}")
    return tuple(_descriptor(item, f"{key}[{index}]") for index, item in enumerate(value))


def _opt_descriptor(doc: Mapping[str, Any], key: str) -> OCIDescriptor | None:
    value = doc.get(key)
    return None if value is None else _descriptor(value, key)


def _descriptor(value: object, where: str) -> OCIDescriptor:
    doc = _object(value, where)
    for required in ("mediaType", "digest", "size"):
        if required not in doc:
            raise InvalidManifest(_where(where, required), "is required in a descriptor")
    digest = _string(doc["digest"], f"{where}.digest")
    _check_descriptor_digest(digest, f"{where}.digest")
    size = _integer(doc["size"], f"{where}.size")
    if size < 0:
        raise InvalidManifest(f"{where}.size", f"must not be negative, not {size}")
    platform = doc.get("platform")
    return OCIDescriptor(
        digest=digest,
        media_type=_string(doc["mediaType"], f"{where}.mediaType"),
        size=size,
        platform=None if platform is None else _platform(platform, f"{where}.platform"),
        annotations=_annotations(doc, where),
        artifact_type=_opt_str(doc, "artifactType", where),
    )


def _check_descriptor_digest(digest: str, where: str) -> None:
    if not _DESCRIPTOR_DIGEST.fullmatch(digest):
        raise InvalidManifest(where, f"{digest[:80]!r} is not a digest (ALGORITHM:ENCODED)")
    algorithm, _, encoded = digest.partition(":")
    length = _HEX_LENGTH.get(algorithm)
    if length is not None and not re.fullmatch(f"[a-f0-9]{{{length}}}", encoded):
        raise InvalidManifest(where, f"a {algorithm} digest is {length} lowercase hex digits, not {encoded[:80]!r}")


def _platform(value: object, where: str) -> Platform:
    doc = _object(value, where)
    for required in ("os", "architecture"):
        if required not in doc:
            raise InvalidManifest(f"{where}.{required}", "is required in a platform")
    features = doc.get("os.features")
    if features is not None:
        if not isinstance(features, list):
            raise InvalidManifest(f"{where}.os.features", f"must be an array, not {_kind(features)}")
        for index, feature in enumerate(features):
            _string(feature, f"{where}.os.features[{index}]")
    return Platform(
        os=_string(doc["os"], f"{where}.os"),
        architecture=_string(doc["architecture"], f"{where}.architecture"),
        variant=_opt_str(doc, "variant", where),
        os_version=_opt_str(doc, "os.version", where),
    )


def manifest_path(registry: str, repository: str, reference: str) -> str:
    """The registry API path of a manifest: ``/v2/<registry>/<repository>/manifests/<tag or digest>``.

    Unlike the DigitalOcean API's paths, the repository keeps its ``/`` here (it is part of the
    OCI name); every part is validated first, so none can change which resource is named.

    >>> manifest_path("example", "my/repo", "v1.2")
    '/v2/example/my/repo/manifests/v1.2'
    """
    _names.registry_name(registry, "registry_name")
    _names.repository_name(repository, "repository_name")
    if isinstance(reference, str) and ":" in reference:
        _names.digest(reference, "reference")
    else:
        _names.tag(reference, "reference")
    return f"/v2/{registry}/{repository}/manifests/{reference}"
