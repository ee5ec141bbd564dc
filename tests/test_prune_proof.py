"""What docr's plans get right that a naive clean-up gets wrong, on the fake's seeded registry; and
planning again after applying a plan finds nothing more to delete (a property, against the fake)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import docr
from docr import retention
from docr.retention import Policy
from docr.testing import FakeRegistry
from tests.test_prune_library import EVERYTHING, NOW, REGISTRY, client_for, digests, index_children, seeded


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    yield from seeded()


def naive_untagged(fake: FakeRegistry, repository: str, older_than: dt.timedelta = dt.timedelta(0)) -> set[str]:
    """What "delete every untagged manifest (older than ...)" deletes: the scripts people share."""
    cutoff = NOW - older_than
    return {
        m["digest"]
        for m in fake.manifests(REGISTRY, repository)
        if not m.get("tags") and dt.datetime.fromisoformat(m["updated_at"]) < cutoff
    }


def tagged_indexes(fake: FakeRegistry) -> dict[tuple[str, str], list[str]]:
    """Every multi-platform image of the registry: its tagged indexes, with their children."""
    found = {}
    for repository in fake.repositories(REGISTRY):
        tags = set(fake.tags(REGISTRY, repository).values())
        for index, children in index_children(fake, repository).items():
            if index in tags:
                found[(repository, index)] = children
    return found


def test_naive_delete_untagged_breaks_every_multi_arch_image_and_docr_keeps_them(fake: FakeRegistry) -> None:
    day = dt.timedelta(days=1)
    images = tagged_indexes(fake)
    naive = {(r, d) for r in fake.repositories(REGISTRY) for d in naive_untagged(fake, r, older_than=day)}
    broken = {image for image, children in images.items() if {(image[0], c) for c in children} & naive}
    recent = {(r, i) for r, i in images if _updated(fake, r, i) > NOW - day}
    assert broken == set(images) - recent and len(broken) == 10  # every image older than a day loses its platforms

    with client_for(fake) as client:
        plans = retention.plan_registry(client, REGISTRY, EVERYTHING, now=NOW)  # the same grace: 1 day
        going = {(p.repository, c.digest) for p in plans for c in p.candidates}
        protected = {(p.repository, d.digest) for p in plans for d in p.kept if d.protected}
        # What docr keeps that the naive script deletes is exactly what it protects, and says why.
        assert naive - going == protected and len(protected) == 32
        for plan in plans:
            assert retention.apply(client, plan).complete
        for (repository, _), children in sorted(images.items()):
            for child in children:
                client.get_oci_manifest(REGISTRY, repository, child)  # every platform of every image still pulls
    assert going < naive  # and the rest of what the naive script deletes is garbage docr deletes too


def _updated(fake: FakeRegistry, repository: str, digest: str) -> dt.datetime:
    entry = next(m for m in fake.manifests(REGISTRY, repository) if m["digest"] == digest)
    return dt.datetime.fromisoformat(entry["updated_at"])


def test_what_a_naive_delete_leaves_cannot_be_pulled(fake: FakeRegistry) -> None:
    """The same on the wire: after the naive delete, pulling a release's platform image fails."""
    repository = "web/frontend"
    release = fake.tags(REGISTRY, repository)["v1.4.0"]
    fake.delete_manifests(REGISTRY, repository, naive_untagged(fake, repository))
    with client_for(fake) as client:
        index = client.get_oci_manifest(REGISTRY, repository, release)
        assert index.is_index
        for child in index.children:
            with pytest.raises(docr.NotFoundError):
                client.get_oci_manifest(REGISTRY, repository, child.digest)


TAGS = ("latest", "v1", "v2", "main", "dev")
builds = st.lists(
    st.tuples(
        st.sampled_from(["image", "index", "single-index", "signed-index"]),
        st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
        st.integers(0, 60),  # age in days
    ),
    min_size=1,
    max_size=6,
)
policies = st.builds(
    Policy,
    keep_last=st.integers(0, 2),
    keep_tags=st.sampled_from([(), ("latest",), ("v*",)]),
    grace=st.sampled_from([dt.timedelta(0), dt.timedelta(days=1), dt.timedelta(days=10)]),
    untagged=st.sampled_from(["delete", "keep"]),
    tagged_older_than=st.sampled_from([None, dt.timedelta(days=5), dt.timedelta(days=30)]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pushes=builds, policy=policies)
def test_planning_again_after_applying_finds_nothing_more(
    pushes: list[tuple[str, list[str], int]], policy: Policy
) -> None:
    with FakeRegistry() as fake:
        for kind, tags, age in sorted(pushes, key=lambda push: -push[2]):  # oldest first, as they were pushed
            when = NOW - dt.timedelta(days=age, hours=1)
            if kind == "image":
                fake.push_image(REGISTRY, "app", tags=tags, layers=[1000 + age], updated_at=when)
                continue
            platforms = ["linux/amd64"] if kind == "single-index" else ["linux/amd64", "linux/arm64"]
            index = fake.push_index(REGISTRY, "app", tags=tags, platforms=platforms, updated_at=when)
            if kind == "signed-index":
                fake.push_image(REGISTRY, "app", subject=index, updated_at=when)
        with client_for(fake) as client:
            first = retention.plan(client, REGISTRY, "app", policy, now=NOW)
            kept = {d.digest for d in first.kept}
            assert retention.apply(client, first).complete
            assert digests(fake, "app") == kept
            again = retention.plan(client, REGISTRY, "app", policy, now=NOW)
        assert again.candidates == ()
        assert {d.digest for d in again.kept} == kept
        for index, children in index_children(fake, "app").items():
            assert set(children) <= kept, index  # no image left half-deleted
