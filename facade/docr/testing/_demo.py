"""`seed_demo`: a registry that looks like the ones people clean up today, the same on every run.

What `--demo` shows, and what a cleanup must get right. In the registry (default `example`):

- `web/frontend`: multi-arch images (linux/amd64 and linux/arm64) pushed by buildx with
  attestations: each a tagged index whose platform and attestation manifests are untagged.
  Releases `v1.0.0`..`v1.5.0` (`latest` on the newest), plus `main` builds: the tag moved twice,
  leaving two untagged indexes whose children are garbage. The newest index has a signature
  (an OCI 1.1 referrer, untagged, `subject` the index);
- `web/admin`: single-arch Docker schema 2 images on the same debian and node base layers as
  frontend's amd64 images (blobs shared across repositories), with two stale untagged builds
  that `latest` moved away from;
- `api`: buildx with attestations for one platform (an index even so, as buildx >= 0.10), an
  SBOM referrer on the release, and a `staging` tag that moved (a stale untagged index);
- `tools/migrate`: plain single-arch OCI images on alpine, with three stale untagged builds
  (one nearly a year old);
- `base/debian`: the shared base as a two-platform index without attestations.

A naive "delete every untagged manifest" here deletes the platform and attestation
manifests of every multi-arch image, breaking each one. Times are relative to `now` (default
2026-05-01T12:00:00Z); digests and sizes depend on nothing else, whatever the fake held before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from docr.testing._push import Layer, Pusher
from docr.testing._registries import Registries

__all__ = ["DEMO_NOW", "seed"]

DEMO_NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
PLATFORMS = ("linux/amd64", "linux/arm64")


def _base(name: str, size: int) -> tuple[str, int]:
    return "sha256:" + hashlib.sha256(f"docr.testing demo base {name}".encode()).hexdigest(), size


DEBIAN = {
    "linux/amd64": _base("debian-bookworm-amd64", 29_153_402),
    "linux/arm64": _base("debian-bookworm-arm64", 28_897_120),
}
NODE = {"linux/amd64": _base("node-20-amd64", 45_310_774), "linux/arm64": _base("node-20-arm64", 44_796_013)}
ALPINE = _base("alpine-3.20-amd64", 3_624_804)


def seed(registries: Registries, registry: str, now: datetime | None) -> list[str]:
    now = now or DEMO_NOW
    pusher = Pusher(registries, lambda: now.timestamp(), namespace=f"demo {registry}")

    def ago(days: float = 0, hours: float = 0) -> datetime:
        return now - timedelta(days=days, hours=hours)

    def web(app_size: int) -> dict[str, Sequence[Layer]]:
        return {platform: [DEBIAN[platform], NODE[platform], app_size] for platform in PLATFORMS}

    repository = "web/frontend"
    releases = [(60, "v1.0.0"), (45, "v1.1.0"), (30, "v1.2.0"), (14, "v1.3.0"), (7, "v1.4.0")]
    for days, tag in releases:
        pusher.push_index(registry, repository, tags=[tag], layers=web(8_000_000 + days * 10_000), updated_at=ago(days))
    for days in (20, 10, 1):
        pusher.push_index(registry, repository, tags=["main"], layers=web(8_200_000 + days), updated_at=ago(days))
    newest = pusher.push_index(
        registry, repository, tags=["v1.5.0", "latest"], layers=web(8_400_000), updated_at=ago(hours=3)
    )
    pusher.push_image(registry, repository, subject=newest, updated_at=ago(hours=3))

    repository = "web/admin"
    for days, tags in [(50, ["v2.3.0"]), (25, ["latest"]), (12, ["latest"]), (2, ["v2.3.1", "latest"])]:
        layers: list[Layer] = [DEBIAN["linux/amd64"], NODE["linux/amd64"], 2_100_000 + days * 1_000]
        pusher.push_image(registry, repository, tags=tags, layers=layers, docker=True, updated_at=ago(days))

    repository = "api"
    for days, tags in [(40, ["v0.9.0"]), (21, ["v0.9.1"]), (9, ["staging"]), (4, ["staging"])]:
        layers_api: dict[str, Sequence[Layer]] = {
            "linux/amd64": [DEBIAN["linux/amd64"], 15_000_000 + days * 1_000, 320_000]
        }
        pusher.push_index(
            registry, repository, platforms=["linux/amd64"], tags=tags, layers=layers_api, updated_at=ago(days)
        )
    release = pusher.push_index(
        registry,
        repository,
        platforms=["linux/amd64"],
        tags=["v1.0.0", "latest"],
        layers={"linux/amd64": [DEBIAN["linux/amd64"], 15_400_000, 330_000]},
        updated_at=ago(hours=20),
    )
    pusher.push_image(
        registry,
        repository,
        subject=release,
        artifact_type="application/spdx+json",
        layers=[48_213],
        updated_at=ago(hours=20),
    )

    repository = "tools/migrate"
    for days, tags in [(340, []), (95, ["2025.01"]), (60, []), (33, []), (16, ["latest"])]:
        pusher.push_image(
            registry, repository, tags=tags, layers=[ALPINE, 1_800_000 + days * 100], updated_at=ago(days)
        )
    pusher.push_image(registry, repository, tags=["2025.04"], layers=[ALPINE, 1_801_000], updated_at=ago(90))

    pusher.push_index(
        registry,
        "base/debian",
        attestations=False,
        tags=["bookworm"],
        layers={platform: [DEBIAN[platform]] for platform in PLATFORMS},
        updated_at=ago(120),
    )
    with registries.lock:
        return sorted(registries.require(registry).repositories)
