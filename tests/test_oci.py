"""OCI manifests are verified against their digest and read strictly; the token challenge and
manifest paths are parsed and validated before any request. Examples follow the image spec."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import docr
from docr import _names
from docr._oci import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    MAX_DESCRIPTORS,
    MAX_MANIFEST_BYTES,
    OCI_INDEX,
    OCI_MANIFEST,
    BearerChallenge,
    DigestMismatch,
    InvalidChallenge,
    InvalidManifest,
    OCIManifest,
    Platform,
    manifest_path,
    parse_challenge,
    parse_manifest,
)


def sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def encode(doc: Any) -> tuple[bytes, str]:
    body = json.dumps(doc, indent=3).encode()
    return body, "sha256:" + hashlib.sha256(body).hexdigest()


def parse(doc: Any, content_type: str | None = None) -> OCIManifest:
    body, digest = encode(doc)
    return parse_manifest(body, content_type=content_type, digest=digest)


AMD64, ARM64, ATT_AMD64, ATT_ARM64 = sha("amd64"), sha("arm64"), sha("att-amd64"), sha("att-arm64")

# The image spec's example manifest (manifest.md), subject and annotations included.
OCI_IMAGE = {
    "schemaVersion": 2,
    "mediaType": OCI_MANIFEST,
    "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
        "size": 7023,
    },
    "layers": [
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
            "size": 32654,
        },
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b",
            "size": 16724,
        },
    ],
    "subject": {
        "mediaType": OCI_MANIFEST,
        "digest": "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
        "size": 7682,
    },
    "annotations": {"com.example.key1": "value1"},
}

# What `docker buildx build --platform linux/amd64,linux/arm64` pushes: two images, each with
# an attestation manifest (provenance, SBOM) that is a child of the same index.
BUILDX_INDEX = {
    "schemaVersion": 2,
    "mediaType": OCI_INDEX,
    "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": AMD64, "size": 1, "platform": {"architecture": "amd64", "os": "linux"}},
        {
            "mediaType": OCI_MANIFEST,
            "digest": ARM64,
            "size": 2,
            "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
        },
        {
            "mediaType": OCI_MANIFEST,
            "digest": ATT_AMD64,
            "size": 3,
            "annotations": {
                "vnd.docker.reference.digest": AMD64,
                "vnd.docker.reference.type": "attestation-manifest",
            },
            "platform": {"architecture": "unknown", "os": "unknown"},
        },
        {
            "mediaType": OCI_MANIFEST,
            "digest": ATT_ARM64,
            "size": 4,
            "annotations": {
                "vnd.docker.reference.digest": ARM64,
                "vnd.docker.reference.type": "attestation-manifest",
            },
            "platform": {"architecture": "unknown", "os": "unknown"},
        },
    ],
}

DOCKER_LIST = {
    "schemaVersion": 2,
    "mediaType": DOCKER_MANIFEST_LIST,
    "manifests": [
        {
            "mediaType": DOCKER_MANIFEST,
            "digest": sha("arm"),
            "size": 7143,
            "platform": {"architecture": "arm", "os": "linux", "variant": "v7"},
        },
        {
            "mediaType": DOCKER_MANIFEST,
            "digest": sha("win"),
            "size": 7682,
            "platform": {
                "architecture": "amd64",
                "os": "windows",
                "os.version": "10.0.14393.1066",
                "os.features": ["win32k"],
            },
        },
    ],
}

DOCKER_IMAGE = {
    "schemaVersion": 2,
    "mediaType": DOCKER_MANIFEST,
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": sha("cfg")},
    "layers": [
        {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654, "digest": sha("l1")},
    ],
}


class TestParseManifest:
    def test_oci_image_manifest(self) -> None:
        manifest = parse(OCI_IMAGE)
        assert manifest.media_type == OCI_MANIFEST
        assert not manifest.is_index
        assert manifest.children == ()
        assert manifest.config == OCI_IMAGE["config"]["digest"]
        assert [layer.digest for layer in manifest.layers] == [layer["digest"] for layer in OCI_IMAGE["layers"]]
        assert [layer.size for layer in manifest.layers] == [32654, 16724]
        assert manifest.subject == OCI_IMAGE["subject"]["digest"]
        assert manifest.annotations == {"com.example.key1": "value1"}
        assert manifest.artifact_type is None

    def test_buildx_index_children_platforms_and_attestations(self) -> None:
        manifest = parse(BUILDX_INDEX)
        assert manifest.is_index
        assert manifest.media_type == OCI_INDEX
        assert [child.digest for child in manifest.children] == [AMD64, ARM64, ATT_AMD64, ATT_ARM64]
        assert [str(child.platform) for child in manifest.children] == [
            "linux/amd64",
            "linux/arm64/v8",
            "unknown/unknown",
            "unknown/unknown",
        ]
        assert [child.is_attestation for child in manifest.children] == [False, False, True, True]
        assert [child.attests for child in manifest.children] == [None, None, AMD64, ARM64]
        assert manifest.subject is None and manifest.config is None

    def test_docker_manifest_list_and_schema2(self) -> None:
        listing = parse(DOCKER_LIST)
        assert listing.is_index and listing.media_type == DOCKER_MANIFEST_LIST
        arm, windows = listing.children
        assert str(arm.platform) == "linux/arm/v7"
        assert windows.platform == Platform("windows", "amd64", None, "10.0.14393.1066")
        assert str(windows.platform) == "windows/amd64"
        image = parse(DOCKER_IMAGE)
        assert not image.is_index and image.media_type == DOCKER_MANIFEST
        assert image.config == sha("cfg") and [layer.digest for layer in image.layers] == [sha("l1")]

    def test_nested_index_child_is_an_index(self) -> None:
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_INDEX, "digest": AMD64, "size": 9}],
        }
        (child,) = parse(doc).children
        assert child.is_index and child.platform is None and not child.is_attestation

    def test_attestation_needs_the_buildx_type_annotation(self) -> None:
        doc = copy.deepcopy(BUILDX_INDEX)
        doc["manifests"][2]["annotations"]["vnd.docker.reference.type"] = "something-else"
        child = parse(doc).children[2]
        assert not child.is_attestation and child.attests is None

    def test_artifact_with_an_unknown_media_type_is_kept_as_a_string(self) -> None:
        doc = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.example.thing.v1+json",
            "artifactType": "application/vnd.example.sbom.v1",
            "subject": {"mediaType": OCI_MANIFEST, "digest": AMD64, "size": 5},
        }
        manifest = parse(doc)
        assert manifest.media_type == "application/vnd.example.thing.v1+json"
        assert manifest.artifact_type == "application/vnd.example.sbom.v1"
        assert manifest.subject == AMD64 and not manifest.is_index

    def test_media_type_comes_from_the_body_then_the_header_then_the_shape(self) -> None:
        without = {key: value for key, value in BUILDX_INDEX.items() if key != "mediaType"}
        assert parse(without, content_type=f"{DOCKER_MANIFEST_LIST}; charset=utf-8").media_type == DOCKER_MANIFEST_LIST
        assert parse(without, content_type="Application/VND.OCI.image.index.v1+json").media_type == OCI_INDEX
        # The body is what the digest covers: it wins over a header a proxy may have rewritten.
        assert parse(BUILDX_INDEX, content_type=DOCKER_MANIFEST).media_type == OCI_INDEX
        assert parse(without, content_type=None).media_type == OCI_INDEX
        image = {key: value for key, value in OCI_IMAGE.items() if key != "mediaType"}
        assert parse(image, content_type="").media_type == OCI_MANIFEST

    def test_children_are_read_whatever_the_media_type(self) -> None:
        # An unknown type that lists manifests is treated as an index, so its children are protected.
        doc = dict(BUILDX_INDEX, mediaType="application/vnd.example.index+json")
        manifest = parse(doc)
        assert manifest.is_index and len(manifest.children) == 4

    def test_optional_fields_may_be_absent_and_unknown_ones_are_ignored(self) -> None:
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": "application/x-future", "digest": AMD64, "size": 0, "future": [1]}],
            "future": {"anything": True},
        }
        (child,) = parse(doc).children
        assert child.media_type == "application/x-future"
        assert child.platform is None and child.annotations == {} and child.artifact_type is None

    def test_sha512_digests_are_verified_too(self) -> None:
        body, _ = encode(OCI_IMAGE)
        digest = "sha512:" + hashlib.sha512(body).hexdigest()
        assert parse_manifest(body, content_type=None, digest=digest).digest == digest

    def test_unregistered_algorithms_are_accepted_in_descriptors(self) -> None:
        doc = copy.deepcopy(OCI_IMAGE)
        doc["layers"][0]["digest"] = "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"
        assert parse(doc).layers[0].digest.startswith("multihash+base58:")

    def test_a_digest_mismatch_is_an_error(self) -> None:
        body, digest = encode(OCI_IMAGE)
        with pytest.raises(DigestMismatch, match="the registry or a proxy") as info:
            parse_manifest(body + b" ", content_type=OCI_MANIFEST, digest=digest)
        assert isinstance(info.value, InvalidManifest) and isinstance(info.value, ValueError)
        assert digest in str(info.value) and info.value.field == "body"

    @pytest.mark.parametrize("digest", ["sha256:abc", "md5:" + "a" * 32, 42, None, "SHA256:" + "a" * 64])
    def test_the_digest_argument_is_validated(self, digest: Any) -> None:
        with pytest.raises(docr.InvalidArgument) as info:
            parse_manifest(b"{}", content_type=None, digest=digest)
        assert info.value.argument == "digest"

    @pytest.mark.parametrize(
        ("mutate", "field", "message"),
        [
            (lambda d: d.update(manifests={}), "manifests", "must be an array, not object"),
            (lambda d: d["manifests"][0].update(digest=7), "manifests[0].digest", "must be a str, not int"),
            (lambda d: d["manifests"][0].update(digest="sha256:ABC"), "manifests[0].digest", "64 lowercase hex"),
            (lambda d: d["manifests"][0].update(digest="nocolon"), "manifests[0].digest", "is not a digest"),
            (lambda d: d["manifests"][0].update(size="7"), "manifests[0].size", "must be an integer, not str"),
            (lambda d: d["manifests"][0].update(size=True), "manifests[0].size", "must be an integer, not bool"),
            (lambda d: d["manifests"][0].update(size=1.5), "manifests[0].size", "must be an integer, not float"),
            (lambda d: d["manifests"][0].update(size=-1), "manifests[0].size", "must not be negative"),
            (lambda d: d["manifests"][0].pop("mediaType"), "manifests[0].mediaType", "is required"),
            (lambda d: d["manifests"][0].pop("size"), "manifests[0].size", "is required"),
            (lambda d: d["manifests"][1]["platform"].update(os=1), "manifests[1].platform.os", "must be a str"),
            (lambda d: d["manifests"][1]["platform"].pop("architecture"), "manifests[1].platform.architecture", ""),
            (lambda d: d["manifests"][1]["platform"].update(variant=[]), "manifests[1].platform.variant", "array"),
            (lambda d: d["manifests"][1].update(platform="linux"), "manifests[1].platform", "must be an object"),
            (
                lambda d: d["manifests"][2]["annotations"].update(k=1),
                "manifests[2].annotations['k']",
                "must be a str",
            ),
            (lambda d: d["manifests"][2].update(annotations=[]), "manifests[2].annotations", "must be an object"),
            (lambda d: d["manifests"].append("sha256:x"), "manifests[4]", "must be an object, not str"),
            (lambda d: d.update(mediaType=3), "mediaType", "must be a str, not int"),
            (lambda d: d.update(schemaVersion="2"), "schemaVersion", "must be an integer"),
            (lambda d: d.update(schemaVersion=1), "schemaVersion", "must be 2"),
            (lambda d: d.pop("manifests"), "manifests", "is required"),
            (lambda d: d.update(subject={"mediaType": OCI_MANIFEST, "size": 1}), "subject.digest", "is required"),
            (lambda d: d.update(artifactType=False), "artifactType", "must be a str, not bool"),
            (lambda d: d.update(annotations={"a": None}), "annotations['a']", "must be a str, not null"),
        ],
    )
    def test_wrong_types_name_the_field(self, mutate: Any, field: str, message: str) -> None:
        doc = copy.deepcopy(BUILDX_INDEX)
        mutate(doc)
        with pytest.raises(InvalidManifest) as info:
            parse(doc)
        assert info.value.field == field
        assert str(info.value).startswith(f"{field}: ") and message in str(info.value)

    def test_an_image_manifest_needs_a_config(self) -> None:
        doc = {key: value for key, value in DOCKER_IMAGE.items() if key != "config"}
        with pytest.raises(InvalidManifest, match=r"^config: is required"):
            parse(doc)

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (b"[]", "must be an object, not array"),
            (b'"text"', "must be an object, not str"),
            (b"null", "must be an object, not null"),
            (b"{", "is not a JSON object"),
            (b"<html>502 Bad Gateway</html>", "is not a JSON object"),
            (b'{"manifests": [], "manifests": [{"digest": 1}]}', "duplicate key 'manifests'"),
            (b"\xff\xfe\xfa", "is not a JSON object"),
            (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ],
    )
    def test_bodies_that_are_not_manifests(self, body: bytes, message: str) -> None:
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        with pytest.raises(InvalidManifest) as info:
            parse_manifest(body, content_type=OCI_INDEX, digest=digest)
        assert info.value.field == "body" and message in str(info.value)

    def test_absurd_sizes_are_refused(self) -> None:
        many = {"manifests": [{"mediaType": OCI_MANIFEST, "digest": AMD64, "size": 1}] * (MAX_DESCRIPTORS + 1)}
        with pytest.raises(InvalidManifest, match=r"^manifests: lists 10001 entries"):
            parse(many)
        layers = dict(DOCKER_IMAGE, layers=DOCKER_IMAGE["layers"] * (MAX_DESCRIPTORS + 1))
        with pytest.raises(InvalidManifest, match=r"^layers: lists"):
            parse(layers)
        huge = b" " * (MAX_MANIFEST_BYTES + 1)
        with pytest.raises(InvalidManifest, match="refuses manifests over"):
            parse_manifest(huge, content_type=None, digest="sha256:" + hashlib.sha256(huge).hexdigest())
        exactly = {"manifests": [{"mediaType": OCI_MANIFEST, "digest": AMD64, "size": 1}] * MAX_DESCRIPTORS}
        assert len(parse(exactly).children) == MAX_DESCRIPTORS

    def test_values_are_frozen_and_slotted(self) -> None:
        manifest = parse(BUILDX_INDEX)
        with pytest.raises(dataclasses.FrozenInstanceError):
            manifest.digest = AMD64  # type: ignore[misc]
        assert not hasattr(manifest, "__dict__") and not hasattr(manifest.children[0], "__dict__")
        with pytest.raises(TypeError):
            manifest.children[2].annotations["x"] = "y"  # type: ignore[index]
        assert parse(BUILDX_INDEX) == manifest
        assert hash(manifest.children[0]) == hash(parse(BUILDX_INDEX).children[0])


def test_platform_strings() -> None:
    assert str(Platform("linux", "arm64", "v8")) == "linux/arm64/v8"
    assert str(Platform("linux", "amd64")) == "linux/amd64"
    assert str(Platform("windows", "amd64", os_version="10.0.17763.1")) == "windows/amd64"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.text(max_size=8) | st.sampled_from([AMD64, OCI_INDEX]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)
keys = st.sampled_from(["mediaType", "manifests", "config", "layers", "subject", "digest", "size", "platform"])


@settings(max_examples=300, deadline=None)
@given(doc=json_values, replacements=st.lists(st.tuples(keys, json_values), max_size=4))
def test_any_body_parses_or_raises_invalid_manifest(doc: Any, replacements: list[tuple[str, Any]]) -> None:
    """Fuzzing: whatever the registry sends, the caller sees an OCIManifest or an InvalidManifest."""
    base = copy.deepcopy(BUILDX_INDEX)
    for key, value in replacements:
        base[key] = value
    for candidate in (doc, base):
        with contextlib.suppress(InvalidManifest):
            parse(candidate)


platforms = st.builds(
    Platform,
    os=st.sampled_from(["linux", "windows", "unknown"]),
    architecture=st.sampled_from(["amd64", "arm64", "arm", "s390x"]),
    variant=st.sampled_from([None, "v7", "v8"]),
)


@given(children=st.lists(st.tuples(st.text("abc", min_size=1), st.none() | platforms), max_size=6))
def test_index_children_round_trip(children: list[tuple[str, Platform | None]]) -> None:
    descriptors = []
    for seed, platform in children:
        item: dict[str, Any] = {"mediaType": OCI_MANIFEST, "digest": sha(seed), "size": len(seed)}
        if platform is not None:
            item["platform"] = {"os": platform.os, "architecture": platform.architecture}
            if platform.variant:
                item["platform"]["variant"] = platform.variant
        descriptors.append(item)
    manifest = parse({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors})
    assert [(c.digest, c.platform) for c in manifest.children] == [(sha(s), p) for s, p in children]


class TestManifestPath:
    def test_the_repository_keeps_its_slashes(self) -> None:
        assert manifest_path("example", "my/nested/repo", "v1.2") == "/v2/example/my/nested/repo/manifests/v1.2"
        digest = sha("x")
        assert manifest_path("example", "repo", digest) == f"/v2/example/repo/manifests/{digest}"

    @pytest.mark.parametrize(
        ("registry", "repository", "reference", "argument"),
        [
            ("Example", "repo", "latest", "registry_name"),
            ("a/b", "repo", "latest", "registry_name"),
            ("example", "my/../repo", "latest", "repository_name"),
            ("example", "my%2Frepo", "latest", "repository_name"),
            ("example", "repo", "../../v2/other", "reference"),
            ("example", "repo", "sha256:abc", "reference"),
            ("example", "repo", "v1?x=1", "reference"),
            ("example", "repo", "", "reference"),
            ("example", "repo", 7, "reference"),
            ("example", "repo", None, "reference"),
        ],
    )
    def test_every_part_is_validated(self, registry: Any, repository: Any, reference: Any, argument: str) -> None:
        with pytest.raises(docr.InvalidArgument) as info:
            manifest_path(registry, repository, reference)
        assert info.value.argument == argument


class TestDigestAndTagValidators:
    @pytest.mark.parametrize("value", ["sha256:" + "0123456789abcdef" * 4, "sha512:" + "f" * 128])
    def test_valid_digests(self, value: str) -> None:
        assert _names.digest(value) == value

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("", "must not be empty"),
            ("sha256", "is not a digest"),
            ("sha256:", "is not a digest"),
            (":" + "a" * 64, "is not a digest"),
            ("sha256:" + "A" * 64, "64 lowercase hex"),
            ("sha256:" + "a" * 63, "64 lowercase hex"),
            ("sha256:" + "a" * 65, "64 lowercase hex"),
            ("sha256:" + "g" * 64, "64 lowercase hex"),
            ("sha512:" + "a" * 64, "128 lowercase hex"),
            ("blake3:" + "a" * 64, "algorithm 'blake3'; docr accepts sha256 and sha512"),
            ("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", "algorithm 'multihash+base58'"),
            ("sha256:" + "a" * 64 + "\n", "is not a digest"),
            (" sha256:" + "a" * 64, "is not a digest"),
            ("x" * 5000, "..."),
        ],
    )
    def test_invalid_digests(self, value: str, message: str) -> None:
        with pytest.raises(docr.InvalidArgument) as info:
            _names.digest(value, "manifest_digest")
        assert info.value.argument == "manifest_digest" and message in str(info.value)
        assert len(str(info.value)) < 300

    @pytest.mark.parametrize("value", [12, None, b"sha256:" + b"a" * 64, ["sha256:x"]])
    def test_non_strings_are_invalid_arguments(self, value: object) -> None:
        with pytest.raises(docr.InvalidArgument, match="must be a str"):
            _names.digest(value)
        with pytest.raises(docr.InvalidArgument, match="must be a str"):
            _names.tag(value)

    @pytest.mark.parametrize("value", ["latest", "v1.2.3", "_private", "1", "A-b_c.d", "a" * 128])
    def test_valid_tags(self, value: str) -> None:
        assert _names.tag(value) == value

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("", "must not be empty"),
            ("-rc1", "must start with"),
            (".hidden", "must start with"),
            ("v1:2", "must start with"),
            ("web/app", "must start with"),
            ("café", "must start with"),
            ("v1 ", "must start with"),
            ("a" * 129, "the limit is 128"),
        ],
    )
    def test_invalid_tags(self, value: str, message: str) -> None:
        with pytest.raises(docr.InvalidArgument) as info:
            _names.tag(value)
        assert info.value.argument == "tag" and message in str(info.value)


class TestParseChallenge:
    def test_digitalocean_style_challenge(self) -> None:
        header = (
            'Bearer realm="https://api.digitalocean.com/v2/registry/auth",service="registry.digitalocean.com",'
            'scope="repository:example/my/repo:pull,push"'
        )
        assert parse_challenge(header) == BearerChallenge(
            realm="https://api.digitalocean.com/v2/registry/auth",
            service="registry.digitalocean.com",
            scope="repository:example/my/repo:pull,push",
        )
        assert parse_challenge(header).query == {  # type: ignore[union-attr]
            "service": "registry.digitalocean.com",
            "scope": "repository:example/my/repo:pull,push",
        }

    def test_spacing_case_escapes_and_error(self) -> None:
        header = 'bearer  Realm = "https://auth.example/token" ,  scope="a:\\"b\\",c" , ERROR=insufficient_scope'
        challenge = parse_challenge(header)
        assert challenge == BearerChallenge("https://auth.example/token", None, 'a:"b",c', "insufficient_scope")
        assert challenge.query == {"scope": 'a:"b",c'}

    def test_the_bearer_challenge_is_found_among_others(self) -> None:
        header = 'Basic realm="Registry, with a comma", Negotiate abc123==, Bearer realm="http://127.0.0.1:5000/t"'
        assert parse_challenge(header) == BearerChallenge("http://127.0.0.1:5000/t")

    @pytest.mark.parametrize("header", ["", "   ", 'Basic realm="registry"', "Negotiate YIIB==", "Digest a=b, c=d"])
    def test_no_bearer_challenge_is_none(self, header: str) -> None:
        assert parse_challenge(header) is None

    @pytest.mark.parametrize(
        ("header", "message"),
        [
            ("Bearer", "has no realm"),
            ('Bearer service="x"', "has no realm"),
            ('Bearer realm=""', "has no realm"),
            ('Bearer realm="ftp://auth.example/"', "not an http or https URL"),
            ('Bearer realm="/relative/token"', "not an http or https URL"),
            ('Bearer realm="https://auth.example/token', "cannot parse"),
            ('Bearer realm="https://a/" service="x"', "expected ','"),
            ('Bearer realm="https://a/",realm="https://b/"', "appears twice"),
            ('"Bearer" realm="https://a/"', "cannot parse"),
        ],
    )
    def test_unusable_bearer_challenges_are_errors(self, header: str, message: str) -> None:
        with pytest.raises(InvalidChallenge, match=message):
            parse_challenge(header)

    @given(
        realm=st.sampled_from(["https://auth.example/token", "http://127.0.0.1:8080/v2/auth"]),
        scope=st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=30),
        service=st.text("abcdef.-", min_size=1, max_size=12),
    )
    def test_quoted_values_round_trip(self, realm: str, scope: str, service: str) -> None:
        quoted = '"' + scope.replace("\\", "\\\\").replace('"', '\\"') + '"'
        header = f'Bearer realm="{realm}", scope={quoted}, service="{service}"'
        assert parse_challenge(header) == BearerChallenge(realm, service, scope)
