"""docr.usage: where a registry's storage goes, checked against the fake's own data.

Every expected number is computed here from what the fake holds (its listings, its blob store),
by the definitions in ``docr._usage_models``, or, for reclaimable bytes, by what ``docr prune``
does: the planner with every manifest body read and the other repositories' blobs as external.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import tracemalloc
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

import docr
from docr import retention
from docr.testing import FakeRegistry
from docr.testing._demo import DEMO_NOW

TOKEN = "dop_v1_" + "05a6e000" * 8
FIELDS = [
    "name",
    "manifests",
    "tagged",
    "untagged",
    "compressed_bytes_sum",
    "unique_bytes",
    "shared_bytes",
    "reclaimable_bytes",
]


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        yield fake


@pytest.fixture
def client(fake: FakeRegistry) -> Iterator[docr.Client]:
    with docr.Client(TOKEN, base_url=fake.url, oci_base_url=fake.oci_url) as client:
        yield client


def expected_bytes(fake: FakeRegistry, registry: str = "example") -> dict[str, Any]:
    """By definition, from the listings: per repository its blobs (once), who else holds each."""
    holders: dict[str, set[str]] = defaultdict(set)
    sizes: dict[str, int] = {}
    rows: dict[str, dict[str, int]] = {}
    for name in fake.repositories(registry):
        listing = fake.manifests(registry, name)
        rows[name] = {
            "manifests": len(listing),
            "tagged": sum(1 for m in listing if m.get("tags")),
            "untagged": sum(1 for m in listing if not m.get("tags")),
            "compressed_bytes_sum": sum(m.get("compressed_size_bytes") or 0 for m in listing),
        }
        for manifest in listing:
            for blob in manifest.get("blobs") or []:
                holders[blob["digest"]].add(name)
                sizes[blob["digest"]] = blob["compressed_size_bytes"]
    for name, row in rows.items():
        own = [digest for digest, names in holders.items() if name in names]
        row["unique_bytes"] = sum(sizes[d] for d in own if holders[d] == {name})
        row["shared_bytes"] = sum(sizes[d] for d in own if len(holders[d]) > 1)
    shared_once = sum(sizes[d] for d, names in holders.items() if len(names) > 1)
    return {"rows": rows, "shared_once": shared_once, "all_once": sum(sizes.values())}


def prune_oracle(client: docr.Client, registry: str, policy: retention.Policy, now: dt.datetime) -> dict[str, int]:
    """What docr prune frees per repository: every body read, other repositories' blobs external."""
    names = [r.name for r in client.iter_repositories(registry) if r.name]
    listings = {name: list(client.iter_manifests(registry, name)) for name in names}
    blobs = {name: {b.digest for m in ms for b in m.blobs if b.digest} for name, ms in listings.items()}
    freed = {}
    for name, manifests in listings.items():
        bodies = {m.digest: client.get_oci_manifest(registry, name, m.digest) for m in manifests if m.digest}
        external = set().union(*(held for other, held in blobs.items() if other != name))
        decisions = retention.decide(
            manifests, policy=policy, now=now, oci=bodies, unreadable={}, external_blobs=external
        )
        freed[name] = decisions.freed_bytes
    return freed


# --- bytes -------------------------------------------------------------------------------------


def test_unique_and_shared_bytes_with_layers_shared_across_repositories(
    fake: FakeRegistry, client: docr.Client
) -> None:
    fake.generate_repositories("example", repositories=12, count=30, seed=4, shared_layers=True)
    report = docr.usage(client, "example")
    expected = expected_bytes(fake)
    assert expected["shared_once"] > 0  # the data does share base layers across repositories
    got = {
        row.name: {k: v for k, v in row.to_dict().items() if k not in ("name", "reclaimable_bytes")}
        for row in report.repositories
    }
    assert got == expected["rows"]
    assert [row.name for row in report.repositories] == sorted(expected["rows"])
    totals = report.totals
    assert totals.shared_bytes == expected["shared_once"]  # each shared blob once
    assert totals.unique_bytes == sum(row.unique_bytes for row in report.repositories)
    assert totals.unique_bytes + totals.shared_bytes == expected["all_once"] == fake.storage_usage_bytes("example")
    assert report.storage_usage_bytes == fake.storage_usage_bytes("example")
    assert totals.manifests == 12 * 30 == totals.tagged + totals.untagged
    assert totals.compressed_bytes_sum > totals.unique_bytes + totals.shared_bytes  # the naive sum overcounts


def test_a_base_layer_pushed_to_three_repositories_is_shared_by_them_only(
    fake: FakeRegistry, client: docr.Client
) -> None:
    base = fake.blob(1_000_000)
    fake.push_image("example", "a", tags=["v1"], layers=[base, 5_000])
    fake.push_image("example", "a", tags=["v2"], layers=[base, 7_000])
    fake.push_image("example", "b", tags=["v1"], layers=[base, 3_000])
    fake.push_image("example", "c", tags=["v1"], layers=[2_000])
    rows = {row.name: row for row in docr.usage(client, "example").repositories}
    assert rows["a"].shared_bytes == rows["b"].shared_bytes == 1_000_000
    assert rows["c"].shared_bytes == 0
    # The sum counts the base once per manifest; storage holds it once.
    assert rows["a"].compressed_bytes_sum - rows["a"].stored_bytes == 1_000_000
    assert (rows["a"].manifests, rows["a"].tagged, rows["a"].untagged) == (2, 2, 0)


def test_the_registry_and_the_plan_stand_beside_the_totals(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    report = docr.usage(client, "example", now=DEMO_NOW)
    assert report.storage_usage_bytes == fake.storage_usage_bytes("example")
    assert report.included_storage_bytes == client.get_subscription().included_storage_bytes
    assert report.included_storage_bytes is not None and report.included_storage_bytes > 0
    fake.fail_next(404, operation="get_subscription")
    assert docr.usage(client, "example").included_storage_bytes is None  # an account without a plan


# --- reclaimable -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy", [retention.Policy(), retention.Policy(keep_last=2, tagged_older_than=dt.timedelta(days=20))]
)
def test_reclaimable_is_what_a_prune_frees_though_only_index_bodies_are_read(
    fake: FakeRegistry, client: docr.Client, policy: retention.Policy
) -> None:
    fake.seed_demo("example")
    fake.clear_requests()
    report = docr.usage(client, "example", policy=policy, now=DEMO_NOW)
    reads = [r for r in fake.requests if r.operation == "oci_manifest"]
    expected = prune_oracle(client, "example", policy, DEMO_NOW)
    assert {row.name: row.reclaimable_bytes for row in report.repositories} == expected
    assert sum(expected.values()) > 0
    assert report.totals.reclaimable_bytes >= sum(expected.values())
    listed = sum(row.manifests for row in report.repositories)
    assert 0 < len(reads) < listed / 2  # indexes only, never one request per manifest


def test_the_one_overcount_is_a_referrer_of_a_kept_image_past_grace(fake: FakeRegistry, client: docr.Client) -> None:
    # No grace: the demo's signature (of web/frontend's newest index) and SBOM (of api's release)
    # are past it. docr prune reads their bodies, sees their subjects kept and keeps them; usage
    # takes them for plain images (documented in docr._usage) and counts their blobs.
    fake.seed_demo("example")
    policy = retention.Policy(grace=dt.timedelta(0))
    report = docr.usage(client, "example", policy=policy, now=DEMO_NOW)
    expected = prune_oracle(client, "example", policy, DEMO_NOW)
    listings = {name: fake.manifests("example", name) for name in fake.repositories("example")}
    referrers: dict[str, int] = defaultdict(int)
    for name, listing in listings.items():
        elsewhere = {b["digest"] for other, ms in listings.items() if other != name for m in ms for b in m["blobs"]}
        for manifest in listing:
            info = fake.manifest_info("example", name, manifest["digest"])
            if info is not None and info["subject"] and not manifest.get("tags"):
                # Its blobs no other repository holds (an empty "{}" config is shared by all referrers).
                referrers[name] += sum(
                    b["compressed_size_bytes"] for b in manifest["blobs"] if b["digest"] not in elsewhere
                )
    assert set(referrers) == {"web/frontend", "api"}
    got = {row.name: row.reclaimable_bytes for row in report.repositories}
    assert got == {name: freed + referrers.get(name, 0) for name, freed in expected.items()}


def test_no_body_is_read_where_the_policy_deletes_nothing(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    fake.clear_requests()
    report = docr.usage(client, "example", policy=retention.Policy(untagged="keep"), now=DEMO_NOW)
    assert report.totals.reclaimable_bytes == 0
    assert not any(r.api == "oci" for r in fake.requests)
    fake.clear_requests()
    docr.usage(client, "example", policy=retention.Policy(grace=dt.timedelta(days=3650)), now=DEMO_NOW)
    assert not any(r.api == "oci" for r in fake.requests)  # everything within grace: nothing to read


def test_a_blob_counts_as_reclaimable_registry_wide_only_when_every_holder_lets_it_go(
    fake: FakeRegistry, client: docr.Client
) -> None:
    old = DEMO_NOW - dt.timedelta(days=30)
    both = fake.blob(50_000)
    kept_elsewhere = fake.blob(70_000)
    fake.push_image("example", "a", tags=["latest"], layers=[1_000])
    stale_a = fake.push_image("example", "a", layers=[both, kept_elsewhere, 2_000], updated_at=old)
    fake.push_image("example", "c", tags=["latest"], layers=[kept_elsewhere])
    stale_c = fake.push_image("example", "c", layers=[both, 3_000], updated_at=old)
    report = docr.usage(client, "example", now=DEMO_NOW)
    rows = {row.name: row for row in report.repositories}
    config = {
        d: next(b for b in fake.manifests("example", r) if b["digest"] == d)["blobs"][0]["compressed_size_bytes"]
        for r, d in (("a", stale_a), ("c", stale_c))
    }
    assert rows["a"].reclaimable_bytes == 2_000 + config[stale_a]  # not `both` (c holds it), not the kept layer
    assert rows["c"].reclaimable_bytes == 3_000 + config[stale_c]
    # Registry-wide, `both` goes too: every manifest holding it is deleted. The kept layer stays.
    assert report.totals.reclaimable_bytes == rows["a"].reclaimable_bytes + rows["c"].reclaimable_bytes + 50_000


def test_unreadable_index_bodies_fail_closed(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    client._sleep = lambda seconds: None
    fake.fail_randomly(1.0, kinds=[500], operation="oci_manifest")
    report = docr.usage(client, "example", now=DEMO_NOW)
    rows = {row.name: row for row in report.repositories}
    assert rows["web/frontend"].unreadable > 0 and report.unreadable >= rows["web/frontend"].unreadable
    assert rows["web/frontend"].reclaimable_bytes == 0  # no untagged manifest deleted when an index is unknown
    assert rows["tools/migrate"].unreadable == 0 and rows["tools/migrate"].reclaimable_bytes > 0  # no index there


def test_refused_registry_credentials_stop_further_body_reads(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    fake.fail_randomly(1.0, kinds=[403], operation="get_docker_credentials")
    report = docr.usage(client, "example", now=DEMO_NOW)
    assert report.unreadable > 0
    asked = [r for r in fake.requests if r.operation == "get_docker_credentials"]
    assert len(asked) < report.unreadable  # after the first refusal nothing more is asked


def test_a_policy_file_picks_each_repositorys_policy(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    policies = retention.parse_policy_file(
        '[[policy]]\nrepositories = ["web/*"]\nuntagged = "keep"\n\n[[policy]]\nrepositories = "tools/*"\n'
    )
    rows = {row.name: row for row in docr.usage(client, "example", policy=policies, now=DEMO_NOW).repositories}
    assert rows["web/frontend"].reclaimable_bytes == rows["web/admin"].reclaimable_bytes == 0
    assert rows["tools/migrate"].reclaimable_bytes > 0
    assert rows["api"].reclaimable_bytes == 0  # no section applies: a prune leaves it alone


# --- shape, drivers, arguments -----------------------------------------------------------------


def test_json_shape_is_exactly_the_documented_one(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    data = docr.usage(client, "example", now=DEMO_NOW).to_dict()
    assert list(data) == ["registry", "repositories", "totals", "storage_usage_bytes", "included_storage_bytes"]
    assert data["registry"] == "example"
    assert all(list(row) == FIELDS for row in data["repositories"])
    assert list(data["totals"]) == FIELDS[1:]
    assert all(isinstance(v, int) for row in data["repositories"] for k, v in row.items() if k != "name")


def test_attribute_names_are_the_json_names(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    report = docr.usage(client, "example", now=DEMO_NOW)
    for row, data in zip(report.repositories, report.to_dict()["repositories"], strict=True):
        assert {name: getattr(row, name) for name in FIELDS} == data
    assert {name: getattr(report.totals, name) for name in FIELDS[1:]} == report.to_dict()["totals"]


def test_async_gives_the_same_report(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")

    async def main() -> docr.Usage:
        async with docr.AsyncClient(TOKEN, base_url=fake.url, oci_base_url=fake.oci_url) as aclient:
            return await docr.usage(aclient, "example", now=DEMO_NOW)

    assert asyncio.run(main()) == docr.usage(client, "example", now=DEMO_NOW)


def test_repositories_narrow_the_walk_and_progress_reports_it(fake: FakeRegistry, client: docr.Client) -> None:
    fake.seed_demo("example")
    states: list[docr.RegistryProgress] = []
    report = docr.usage(client, "example", repositories="web/*", on_progress=states.append, now=DEMO_NOW)
    assert [row.name for row in report.repositories] == ["web/admin", "web/frontend"]
    last = states[-1]
    assert (last.repositories_done, last.repositories, last.listed) == (2, 2, True)
    assert last.manifests == report.totals.manifests
    assert [s.requests for s in states] == sorted(s.requests for s in states)


@pytest.mark.parametrize(
    ("arguments", "name"),
    [
        ({"policy": "keep everything"}, "policy"),
        ({"now": dt.datetime(2026, 1, 1)}, "now"),  # naive
        ({"repositories": [""]}, "repositories"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    fake: FakeRegistry, client: docr.Client, arguments: dict[str, Any], name: str
) -> None:
    with pytest.raises(docr.InvalidArgument, match=name):
        docr.usage(client, "example", **arguments)
    assert fake.requests == []


# --- memory ------------------------------------------------------------------------------------


def _client_memory() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def _retained_after_walk(fake: FakeRegistry, registry: str) -> int:
    """Bytes held when the last repository is done: what the walk keeps, not what it saw."""
    held: list[int] = []

    def progress(state: docr.RegistryProgress) -> None:
        if state.listed and state.repositories_done == state.repositories:
            held.append(_client_memory())

    with docr.Client(TOKEN, base_url=fake.url, oci_base_url=fake.oci_url) as client:
        start = _client_memory()
        docr.usage(client, registry, on_progress=progress)
    return held[-1] - start


def test_per_manifest_objects_are_not_kept_once_their_repository_is_done(fake: FakeRegistry) -> None:
    # The same 30 repositories, 20 and then 80 manifests each (one page either way).
    fake.generate_repositories("small", repositories=30, count=20, seed=9)
    fake.generate_repositories("large", repositories=30, count=80, seed=9)
    tracemalloc.start()
    try:
        # Warm: imports, the connection pool, and the in-process fake's caches of both registries
        # (what it keeps from then on is its request log, the same for both).
        _retained_after_walk(fake, "small")
        _retained_after_walk(fake, "large")
        small = _retained_after_walk(fake, "small")
        large = _retained_after_walk(fake, "large")
    finally:
        tracemalloc.stop()
    per_manifest = (large - small) / (30 * 60)
    # A docr.Manifest with its JSON takes well over 1 KB; the blob sets 17 bytes a blob (~6 a manifest).
    assert per_manifest < 300, f"{per_manifest:.0f} bytes kept per manifest walked"
