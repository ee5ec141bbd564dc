"""Realistic, deterministic manifests for a repository (`FakeRegistry.generate`).

What "realistic" means here, as DOCR and a CI pipeline pushing to it would produce:

- digests are `sha256:` + 64 hex digits; updated_at is spread over the ~6 months before a
  fixed reference date (so a seed gives the same data on any day), ISO 8601 with `Z`;
- sizes range from a few MB to ~1 GB (log-uniform: most images are small), and the compressed
  size is smaller than the uncompressed one and equals the sum of the 1-10 blobs' sizes (a small
  config blob, then layers);
- about 20% of manifests are untagged (their `tags` is `[]` or, sometimes, absent); the others
  carry version tags rising with time (`v1.4.2`), git shas, `pr-123`, or several at once, and
  the newest tagged manifest carries `latest`. A tag names one manifest, so no tag repeats.

Generation is fast (100,000 manifests in about a second): benchmarks build big repositories.
`generate_repositories` builds many at once (200 x 200, 1,000 x 100) for usage benchmarks:
with shared layers, each repository is built on one of a few dozen base layers (most of its
manifests name it after their config blob, on top of their own layers), so repositories share
blobs as images built `FROM` the same base do.
"""

from __future__ import annotations

import gc
import math
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from docr.testing._store import ENCODER, Entry

__all__ = ["REFERENCE_DATE", "generate", "generate_repositories"]

REFERENCE_DATE = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
_SPAN_SECONDS = 182 * 24 * 3600
_LOG_MIN_SIZE = math.log(3_000_000)
_LOG_MAX_SIZE = math.log(1_000_000_000)


def generate(
    registry: str, repository: str, count: int, seed: int, base: tuple[str, int] | None = None
) -> tuple[list[dict[str, Any]], list[Entry]]:
    """`count` manifests newest first, and their store entries (encoded once, here)."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    # Hundreds of thousands of fresh dicts trigger dozens of cyclic collections that find
    # nothing (nothing here makes cycles): pausing the collector makes generation ~40% faster.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(registry, repository, count, seed, base)
    finally:
        if collecting:
            gc.enable()


def generate_repositories(
    registry: str, repositories: int, count: int, seed: int, shared_layers: bool
) -> Iterator[tuple[str, list[Entry]]]:
    """(name, entries) of `repositories` repositories of `count` manifests each."""
    if repositories < 0:
        raise ValueError(f"repositories must be >= 0, got {repositories}")
    rng = random.Random(seed)
    pool = [
        ("sha256:" + rng.randbytes(32).hex(), int(math.exp(rng.uniform(math.log(5e6), math.log(9e7)))))
        for _ in range(40)
    ]
    for index in range(repositories):
        name = f"team-{index % 10:02d}/service-{index:04d}"
        base = pool[rng.randrange(len(pool))] if shared_layers else None
        yield name, generate(registry, name, count, seed * 1_000_003 + index, base)[1]


def _generate(
    registry: str, repository: str, count: int, seed: int, base: tuple[str, int] | None
) -> tuple[list[dict[str, Any]], list[Entry]]:
    rng = random.Random(seed)
    uniform = rng.random  # bound once: this loop runs 100,000 times in benchmarks
    reference = int(REFERENCE_DATE.timestamp())
    # Oldest first, so version tags can rise with time.
    stamps = sorted(reference - int(uniform() * _SPAN_SECONDS) for _ in range(count))
    tagger = _Tagger(rng)
    days: dict[int, str] = {}
    manifests: list[dict[str, Any]] = []
    for stamp in stamps:
        size = int(math.exp(_LOG_MIN_SIZE + (_LOG_MAX_SIZE - _LOG_MIN_SIZE) * uniform()))
        compressed = int(size * (0.3 + 0.5 * uniform()))
        layers = int(uniform() * 10)
        # One draw of random bytes for the manifest's and its blobs' digests.
        hexes = rng.randbytes(32 * (layers + 1) + 32).hex()
        manifest: dict[str, Any] = {
            "digest": "sha256:" + hexes[:64],
            "registry_name": registry,
            "repository": repository,
            "compressed_size_bytes": compressed,
            "size_bytes": size,
            "updated_at": _iso(stamp, days),
        }
        tags = tagger.tags()
        if tags is not None:
            manifest["tags"] = tags
        manifest["blobs"] = _blobs(uniform, hexes, layers, compressed)
        if base is not None and uniform() < 0.85:
            manifest["blobs"].insert(1, {"digest": base[0], "compressed_size_bytes": base[1]})
            manifest["compressed_size_bytes"] = compressed + base[1]
            manifest["size_bytes"] = size + int(base[1] * 2.4)
        manifests.append(manifest)
    _tag_latest(manifests)
    # Newest first with ties broken by digest: the order the store serves, so what generate
    # returns is what a walk of a fresh repository lists.
    rows = sorted(
        zip(
            [(-float(stamp), manifest["digest"]) for stamp, manifest in zip(stamps, manifests, strict=True)],
            manifests,
            strict=True,
        ),
        key=itemgetter(0),
    )
    registry_json, repository_json = ENCODER.encode(registry), ENCODER.encode(repository)
    entries: list[Entry] = [(key, key[1], _encode(manifest, registry_json, repository_json)) for key, manifest in rows]
    return [manifest for _, manifest in rows], entries


def _encode(manifest: dict[str, Any], registry_json: str, repository_json: str) -> str:
    # The same text ENCODER.encode(manifest) gives, four times faster: every value here is
    # hex, a number or a generated tag (no character needs escaping) except the two names,
    # encoded once by the caller. tests/test_fake_data.py checks the texts decode to the dicts.
    blobs = ",".join(
        [
            f'{{"digest":"{blob["digest"]}","compressed_size_bytes":{blob["compressed_size_bytes"]}}}'
            for blob in manifest["blobs"]
        ]
    )
    tags = manifest.get("tags")
    tags_json = "" if tags is None else ',"tags":[' + ",".join([f'"{tag}"' for tag in tags]) + "]"
    return (
        f'{{"digest":"{manifest["digest"]}","registry_name":{registry_json},"repository":{repository_json},'
        f'"compressed_size_bytes":{manifest["compressed_size_bytes"]},"size_bytes":{manifest["size_bytes"]},'
        f'"updated_at":"{manifest["updated_at"]}"{tags_json},"blobs":[{blobs}]}}'
    )


def _iso(stamp: int, days: dict[int, str]) -> str:
    # strftime per manifest is a third of the run time; the date part repeats, so cache it.
    day, seconds = divmod(stamp, 86_400)
    date = days.get(day)
    if date is None:
        date = days[day] = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{date}T{hours:02d}:{minutes:02d}:{seconds:02d}Z"


def _blobs(uniform: Callable[[], float], hexes: str, layers: int, compressed: int) -> list[dict[str, Any]]:
    # A config blob of a few KB, then layers sharing the rest: the blobs add up to the manifest.
    config = 500 + int(uniform() * 11_500) if layers else compressed
    blobs = [{"digest": "sha256:" + hexes[64:128], "compressed_size_bytes": config}]
    remaining = compressed - config
    for index in range(layers):
        share = remaining if index == layers - 1 else int(remaining * (0.1 + 0.6 * uniform()))
        remaining -= share
        start = 128 + 64 * index
        blobs.append({"digest": "sha256:" + hexes[start : start + 64], "compressed_size_bytes": share})
    return blobs


class _Tagger:
    """Hands out tags in push order; every tag is new, as a tag names exactly one manifest."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.version = [1, 0, 0]
        self.pull_request = 100
        self.shas: set[str] = set()

    def tags(self) -> list[str] | None:
        roll = self.rng.random()
        if roll < 0.2:
            # Untagged: DOCR usually sends "tags": [], some clients see the key missing.
            return [] if roll < 0.15 else None
        if roll < 0.6:
            return [self._next_version()]
        if roll < 0.8:
            return [self._sha()]
        if roll < 0.9:
            return [self._next_version(), self._sha()]
        self.pull_request += self.rng.randint(1, 5)
        return [f"pr-{self.pull_request}", self._sha()]

    def _next_version(self) -> str:
        roll = self.rng.random()
        if roll < 0.002:
            self.version = [self.version[0] + 1, 0, 0]
        elif roll < 0.05:
            self.version = [self.version[0], self.version[1] + 1, 0]
        else:
            self.version[2] += 1
        return "v{}.{}.{}".format(*self.version)

    def _sha(self) -> str:
        while True:
            sha = f"{self.rng.getrandbits(28):07x}"
            if sha not in self.shas:
                self.shas.add(sha)
                return sha


def _tag_latest(oldest_first: list[dict[str, Any]]) -> None:
    for manifest in reversed(oldest_first):
        if manifest.get("tags"):
            manifest["tags"].insert(0, "latest")
            return
