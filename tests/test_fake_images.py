"""docr.testing's pushed images and seeded registries: real OCI shapes, the listing that goes with them, and blobs."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from docr.testing import FakeRegistry

ATTESTATION = {"vnd.docker.reference.type": "attestation-manifest"}


def listing(fake: FakeRegistry, repository: str, digest: str, registry: str = "example") -> dict[str, Any]:
    return next(m for m in fake.manifests(registry, repository) if m["digest"] == digest)


def document(fake: FakeRegistry, repository: str, digest: str, registry: str = "example") -> dict[str, Any]:
    data = fake.manifest_bytes(registry, repository, digest)
    assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
    found: dict[str, Any] = json.loads(data)
    return found


def test_an_image_is_an_oci_manifest_whose_listing_sums_its_blobs() -> None:
    fake = FakeRegistry()
    base = fake.blob(30_000_000)
    digest = fake.push_image("example", "app", tags=["v1"], layers=[base, 4_000_000], platform="linux/arm64/v8")
    manifest = document(fake, "app", digest)
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert manifest["layers"][0]["digest"] == base[0]
    assert [layer["size"] for layer in manifest["layers"]] == [30_000_000, 4_000_000]
    listed = listing(fake, "app", digest)
    blobs = [(b["digest"], b["compressed_size_bytes"]) for b in listed["blobs"]]
    assert blobs == [
        (manifest["config"]["digest"], manifest["config"]["size"]),
        base,
        (manifest["layers"][1]["digest"], 4_000_000),
    ]
    assert listed["compressed_size_bytes"] == sum(size for _, size in blobs)
    assert listed["size_bytes"] > listed["compressed_size_bytes"]
    assert (listed["tags"], listed["registry_name"], listed["repository"]) == (["v1"], "example", "app")
    info = fake.manifest_info("example", "app", digest)
    assert info is not None and (info["kind"], info["platform"]) == ("image", "linux/arm64/v8")


def test_a_docker_image_uses_docker_media_types() -> None:
    fake = FakeRegistry()
    manifest = document(fake, "app", fake.push_image("example", "app", docker=True))
    assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert manifest["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    assert {layer["mediaType"] for layer in manifest["layers"]} == {"application/vnd.docker.image.rootfs.diff.tar.gzip"}


@pytest.mark.parametrize("platforms", [("linux/amd64", "linux/arm64"), ("linux/amd64",)])
def test_an_index_is_pushed_as_buildx_does(platforms: tuple[str, ...]) -> None:
    fake = FakeRegistry()
    digest = fake.push_index(
        "example", "web", platforms=platforms, tags=["v1"], updated_at=datetime(2026, 4, 1, tzinfo=UTC)
    )
    index = document(fake, "web", digest)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    images = [d for d in index["manifests"] if d.get("annotations") is None]
    proofs = [d for d in index["manifests"] if d.get("annotations")]
    assert [f"{d['platform']['os']}/{d['platform']['architecture']}" for d in images] == list(platforms)
    assert len(proofs) == len(platforms)  # one attestation per platform, even for one platform
    for proof, image in zip(proofs, images, strict=True):
        assert proof["annotations"] == {**ATTESTATION, "vnd.docker.reference.digest": image["digest"]}
        assert proof["platform"] == {"architecture": "unknown", "os": "unknown"}
        statement = document(fake, "web", proof["digest"])
        assert {layer["mediaType"] for layer in statement["layers"]} == {"application/vnd.in-toto+json"}
    # The children are untagged, listed a second before the index, with their own sizes.
    listed = fake.manifests("example", "web")
    assert listed[0]["digest"] == digest
    children = {d["digest"] for d in index["manifests"]}
    assert {m["digest"] for m in listed} == children | {digest}
    for manifest in listed[1:]:
        assert manifest["tags"] == []
        assert manifest["updated_at"] == "2026-03-31T23:59:59Z"
        assert manifest["compressed_size_bytes"] > 0
    # What the listing shows for an index: no blobs of its own, sizes 0 (its children carry theirs).
    top = listed[0]
    assert (top["blobs"], top["compressed_size_bytes"], top["size_bytes"], top["tags"]) == ([], 0, 0, ["v1"])
    info = fake.manifest_info("example", "web", digest)
    assert info is not None and info["kind"] == "index" and set(info["children"]) == children


def test_an_index_without_attestations_lists_only_platforms() -> None:
    fake = FakeRegistry()
    digest = fake.push_index("example", "web", attestations=False)
    assert len(document(fake, "web", digest)["manifests"]) == 2
    assert len(fake.manifests("example", "web")) == 3


def test_a_referrer_names_its_subject() -> None:
    fake = FakeRegistry()
    image = fake.push_image("example", "app", tags=["v1"])
    signature = fake.push_image("example", "app", subject=image)
    sbom = fake.push_image("example", "app", subject=image, artifact_type="application/spdx+json", layers=[48_000])
    for digest, artifact_type in [
        (signature, "application/vnd.dev.cosign.artifact.sig.v1+json"),
        (sbom, "application/spdx+json"),
    ]:
        manifest = document(fake, "app", digest)
        assert manifest["artifactType"] == artifact_type
        assert manifest["subject"] == {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": image,
            "size": len(fake.manifest_bytes("example", "app", image)),
        }
        assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
        assert listing(fake, "app", digest)["tags"] == []
        info = fake.manifest_info("example", "app", digest)
        assert info is not None and (info["kind"], info["subject"]) == ("artifact", image)
    with pytest.raises(ValueError, match="subject"):
        fake.push_image("example", "app", subject="sha256:" + "1" * 64)


def test_pushing_the_same_bytes_again_keeps_one_manifest_with_both_tags() -> None:
    fake = FakeRegistry()
    layers = [fake.blob(1_000)]
    first = fake.push_image("example", "app", tags=["a"], layers=layers, updated_at="2026-01-01T00:00:00Z")
    again = fake.push_image("example", "app", tags=["b"], layers=layers, updated_at="2026-01-01T00:00:00Z")
    assert first == again
    assert [(m["digest"], m["tags"]) for m in fake.manifests("example", "app")] == [(first, ["a", "b"])]


def test_listing_only_manifests_have_no_content() -> None:
    fake = FakeRegistry()
    listed = fake.generate("example", "my/repo", count=2, seed=1)
    assert fake.manifest_info("example", "my/repo", listed[0]["digest"]) is None
    with pytest.raises(KeyError):
        fake.manifest_bytes("example", "my/repo", listed[0]["digest"])
    with pytest.raises(KeyError):
        fake.manifest_info("example", "my/repo", "sha256:" + "0" * 64)


def test_blobs_are_shared_and_counted_across_repositories() -> None:
    fake = FakeRegistry()
    base = fake.blob(25_000_000)
    fake.push_image("example", "one", layers=[base, 100])
    fake.push_image("example", "one", layers=[base, 200])
    fake.push_image("example", "two", layers=[base, 300])
    blobs = fake.blobs("example")
    assert blobs[base[0]] == (25_000_000, 3)
    assert len(blobs) == 1 + 3 + 3  # the base, three own layers, three configs
    assert fake.storage_usage_bytes("example") == sum(blob.size for blob in blobs.values())


def test_seed_demo_is_the_realistic_mix() -> None:
    fake = FakeRegistry()
    repositories = fake.seed_demo("example")
    assert repositories == ["api", "base/debian", "tools/migrate", "web/admin", "web/frontend"]
    kinds: dict[str, int] = {}
    broken_by_naive_cleanup = 0
    for repo in repositories:
        tagged = set(fake.tags("example", repo).values())
        for manifest in fake.manifests("example", repo):
            info = fake.manifest_info("example", repo, manifest["digest"])
            assert info is not None  # everything seeded has OCI content
            kinds[info["kind"]] = kinds.get(info["kind"], 0) + 1
            if manifest["digest"] in tagged and info["kind"] == "index":
                children = set(info["children"])
                untagged_children = {m["digest"] for m in fake.manifests("example", repo) if not m["tags"]} & children
                assert untagged_children == children  # buildx pushes them untagged
                broken_by_naive_cleanup += 1
    assert broken_by_naive_cleanup == 12  # frontend 7 (6 releases, main), api 4 (3 releases, staging), base/debian 1
    assert set(kinds) == {"image", "index", "attestation", "artifact"}
    frontend = fake.manifests("example", "web/frontend")
    assert sum(1 for m in frontend if not m["tags"]) == 9 * 4 + 2 + 1  # children, the stale main builds, a signature
    # Shared base layers: admin's amd64 images sit on frontend's amd64 debian and node layers.
    layers = {repo: {b["digest"] for m in fake.manifests("example", repo) for b in m["blobs"]} for repo in repositories}
    assert len(layers["web/admin"] & layers["web/frontend"]) == 2
    assert len(layers["api"] & layers["base/debian"] & layers["web/frontend"]) == 1  # debian amd64
    blobs = fake.blobs("example")
    assert sum(blob.size for blob in blobs.values()) < sum(
        m["compressed_size_bytes"] for repo in repositories for m in fake.manifests("example", repo)
    )


def test_seed_demo_is_deterministic_and_moves_with_now() -> None:
    one, two, other = FakeRegistry(), FakeRegistry(), FakeRegistry()
    two.push_image("example", "unrelated")  # what the fake held before does not matter
    one.seed_demo("example")
    two.seed_demo("example")
    later = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    other.seed_demo("example", now=later)
    for repo in one.repositories("example"):
        assert one.manifests("example", repo) == two.manifests("example", repo)
    newest = max(m["updated_at"] for m in other.manifests("example", "web/frontend"))
    assert newest == "2026-06-01T09:00:00Z"  # three hours before now
    assert max(m["updated_at"] for m in one.manifests("example", "web/frontend")) == "2026-05-01T09:00:00Z"


def test_generate_repositories_shares_layers_across_repositories() -> None:
    fake = FakeRegistry()
    names = fake.generate_repositories("example", repositories=200, count=200, seed=1)
    assert len(names) == 200 == len(set(names)) == len(fake.repositories("example"))
    assert sum(len(fake.manifests("example", name)) for name in names[:3]) == 600
    blobs = fake.blobs("example")
    shared = [blob for blob in blobs.values() if blob.refcount > 200]
    assert 10 <= len(shared) <= 40  # base layers, each under several repositories
    plain = FakeRegistry()
    plain.generate_repositories("example", repositories=3, count=50, seed=1, shared_layers=False)
    assert max(blob.refcount for blob in plain.blobs("example").values()) == 1
