"""Planner properties over random repositories: random index graphs (platform and attestation
children, nested and shared children, referrers, dangling references), random policies, random
unreadable manifests. Every expectation is computed here from the inputs, not from the planner."""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docr._oci import OCI_INDEX, OCI_MANIFEST, OCIDescriptor, OCIManifest
from docr.retention import Decisions, Plan, Policy, decide, stale_candidates
from docr.retention._decisions import DELETE_RULES, GRAPH_RULES, KEEP_RULES
from tests.test_retention_planner import NOW, Blob, Listed, sha

HOUR = dt.timedelta(hours=1)
TAGS = ["latest", "v1", "v1.1", "v2", "rc1", "dev", "stable", "nightly"]
BLOBS = [sha(f"blob{i}") for i in range(8)]
ATTESTATION = {"vnd.docker.reference.type": "attestation-manifest"}


@dataclasses.dataclass
class Repo:
    listing: list[Listed]
    oci: dict[str, OCIManifest]
    unreadable: dict[str, str]
    # (parent, child, kind): for "index" and "subject" the parent protects the child; for
    # "attestation", an index lists the child as the attestation of the parent (an order only).
    # The generator only lets a manifest name manifests listed after it, so the graph is acyclic,
    # as content addressing makes it.
    edges: list[tuple[str, str, str]]

    @property
    def protecting(self) -> list[tuple[str, str, str]]:
        return [edge for edge in self.edges if edge[2] != "attestation"]

    def without(self, gone: set[str]) -> Repo:
        return Repo(
            [m for m in self.listing if m.digest not in gone],
            {d: b for d, b in self.oci.items() if d not in gone},
            {d: why for d, why in self.unreadable.items() if d not in gone},
            [e for e in self.edges if e[0] not in gone and e[1] not in gone],
        )


@st.composite
def repositories(draw: st.DrawFn) -> Repo:
    count = draw(st.integers(1, 16))
    digests = [sha(f"m{i}") for i in range(count)]
    owner = {tag: draw(st.none() | st.integers(0, count - 1)) for tag in TAGS}
    sizes = draw(st.lists(st.integers(0, 5000), min_size=len(BLOBS), max_size=len(BLOBS)))
    listing, oci, edges = [], {}, []
    defined_by: list[str] = []  # the manifest whose body states each edge
    for i, digest in enumerate(digests):
        age = draw(st.integers(-2, 24 * 40))
        updated = None if draw(st.integers(0, 15)) == 0 else NOW - age * HOUR
        used = draw(st.lists(st.integers(0, len(BLOBS) - 1), max_size=3, unique=True))
        blobs = [Blob(BLOBS[b], sizes[b]) for b in used]
        tags = [tag for tag, who in owner.items() if who == i]
        listing.append(Listed(digest, tags, updated, sum(sizes[b] for b in used), blobs))
        later = list(range(i + 1, count))
        kind = draw(st.sampled_from(["image", "image", "index", "referrer"]))
        if kind == "index" and later:
            picks = draw(st.lists(st.sampled_from(later), max_size=4, unique=True))
            children = []
            for position, j in enumerate(sorted(picks)):
                # An attestation is paired with a child listed after it (so the graph stays acyclic).
                attested = sorted(picks)[position + 1 :]
                annotations: dict[str, str] = {}
                if attested and draw(st.booleans()):
                    k = draw(st.sampled_from(attested))
                    annotations = {**ATTESTATION, "vnd.docker.reference.digest": digests[k]}
                    edges.append((digests[k], digests[j], "attestation"))
                    defined_by.append(digest)
                media = OCI_INDEX if draw(st.booleans()) else OCI_MANIFEST
                children.append(OCIDescriptor(digests[j], media, 1, None, annotations))
                edges.append((digest, digests[j], "index"))
                defined_by.append(digest)
            if draw(st.booleans()):
                children.append(OCIDescriptor(sha("not listed"), OCI_MANIFEST, 1))
            oci[digest] = OCIManifest(digest, OCI_INDEX, children=tuple(children))
        elif kind == "referrer" and later:
            j = draw(st.sampled_from(later))
            oci[digest] = OCIManifest(digest, OCI_MANIFEST, subject=digests[j])
            edges.append((digests[j], digest, "subject"))
            defined_by.append(digest)
        else:
            subject = sha("not listed") if draw(st.booleans()) else None
            oci[digest] = OCIManifest(digest, OCI_MANIFEST, subject=subject)
    unreadable: dict[str, str] = {}
    if draw(st.integers(0, 3)) == 0:
        for digest in draw(st.lists(st.sampled_from(digests), max_size=2, unique=True)):
            if draw(st.booleans()):
                unreadable[digest] = "500 Internal Server Error"
            del oci[digest]  # either way its body is not known
    # What an unread body states is unknown to the planner too: it protects by failing closed.
    edges = [edge for edge, source in zip(edges, defined_by, strict=True) if source in oci]
    listing = draw(st.permutations(listing))
    return Repo(listing, oci, unreadable, edges)


policies = st.builds(
    Policy,
    keep_last=st.integers(0, 4),
    keep_tags=st.lists(st.sampled_from(["latest", "v1*", "rc?", "none", "*"]), max_size=2).map(tuple),
    grace=st.integers(0, 24 * 10).map(lambda hours: hours * HOUR),
    untagged=st.sampled_from(["delete", "keep"]),
    tagged_older_than=st.none() | st.integers(1, 24 * 40).map(lambda hours: hours * HOUR),
)


def run(repo: Repo, policy: Policy) -> Decisions:
    return decide(repo.listing, policy=policy, now=NOW, oci=repo.oci, unreadable=repo.unreadable)


def fails_closed(repo: Repo) -> bool:
    return bool(repo.unreadable) or any(m.digest not in repo.oci for m in repo.listing)


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(repo=repositories(), policy=policies)
def test_every_manifest_is_decided_once_with_a_reason(repo: Repo, policy: Policy) -> None:
    decisions = run(repo, policy)
    decided = [d.digest for d in (*decisions.kept, *decisions.candidates)]
    assert sorted(decided) == sorted(m.digest for m in repo.listing if m.digest)
    for decision in decisions.kept:
        assert not decision.delete and decision.rule in KEEP_RULES | GRAPH_RULES and decision.reason
    for decision in decisions.candidates:
        assert decision.delete and decision.rule in DELETE_RULES | GRAPH_RULES and decision.reason
    assert decisions.protected == sum(d.rule in GRAPH_RULES for d in decisions.kept)


@PROPERTY
@given(repo=repositories(), policy=policies)
def test_never_deletes_what_a_keep_rule_or_grace_protects(repo: Repo, policy: Policy) -> None:
    decisions = run(repo, policy)
    listed = {m.digest: m for m in repo.listing}
    tagged = [m for m in repo.listing if m.tags]
    for candidate in decisions.candidates:
        manifest = listed[candidate.digest]
        assert not any(fnmatch.fnmatchcase(tag, glob) for tag in manifest.tags for glob in policy.keep_tags)
        assert manifest.updated_at is not None and manifest.updated_at < NOW - policy.grace
        if manifest.tags:
            # Outside the keep_last newest: at least keep_last other tagged manifests are as new.
            newer = [m for m in tagged if m is not manifest and m.updated_at and m.updated_at >= manifest.updated_at]
            assert len(newer) >= policy.keep_last
            # A tag is explicit: only tagged_older_than deletes a tagged manifest.
            assert policy.tagged_older_than is not None and manifest.updated_at < NOW - policy.tagged_older_than


@PROPERTY
@given(repo=repositories(), policy=policies)
def test_what_a_kept_manifest_references_is_kept_transitively(repo: Repo, policy: Policy) -> None:
    decisions = run(repo, policy)
    kept = {d.digest for d in decisions.kept}
    tagged = {m.digest for m in repo.listing if m.tags}
    for parent, child, kind in repo.protecting:
        # An edge in a body that could not be read protects an untagged child by failing closed;
        # a tagged one its policy may still delete (tagged_older_than): the planner cannot see the edge.
        hidden_in = parent if kind == "index" else child
        unseen = hidden_in not in repo.oci and child in tagged
        if parent in kept and not unseen:
            assert child in kept, f"{kind} child {child} of kept {parent} is deleted"
    parents = {(p, c) for p, c, _ in repo.protecting}
    for decision in decisions.kept:
        if decision.rule in GRAPH_RULES:
            assert decision.via in kept and (decision.via, decision.digest) in parents


@PROPERTY
@given(repo=repositories(), policy=policies)
def test_fail_closed_deletes_no_untagged_manifest(repo: Repo, policy: Policy) -> None:
    decisions = run(repo, policy)
    if fails_closed(repo):
        assert decisions.fail_closed
        assert all(c.tags for c in decisions.candidates)
    else:
        assert not decisions.fail_closed


@PROPERTY
@given(repo=repositories(), policy=policies)
def test_untagged_manifests_go_unless_something_keeps_them(repo: Repo, policy: Policy) -> None:
    """Liveness: not so conservative that it deletes nothing."""
    decisions = run(repo, policy)
    if fails_closed(repo):
        return
    candidates = {c.digest for c in decisions.candidates}
    for manifest in repo.listing:
        parents = {p for p, c, _ in repo.protecting if c == manifest.digest}
        old = manifest.updated_at is not None and manifest.updated_at < NOW - policy.grace
        if manifest.tags or not old:
            continue
        if parents and parents <= candidates:
            assert manifest.digest in candidates  # a deleted index takes its children with it
        if not parents and policy.untagged == "delete":
            assert manifest.digest in candidates


@PROPERTY
@given(repo=repositories(), policy=policies)
def test_planning_again_after_applying_deletes_nothing_more(repo: Repo, policy: Policy) -> None:
    decisions = run(repo, policy)
    gone = {c.digest for c in decisions.candidates}
    unknown = set(repo.unreadable) | {m.digest for m in repo.listing if m.digest not in repo.oci}
    if unknown and unknown <= gone:
        return  # deleting every unreadable manifest lifts fail-closed: more may go, rightly
    again = run(repo.without(gone), policy)
    assert again.candidates == ()
    assert {d.digest: d.rule for d in again.kept} == {d.digest: d.rule for d in decisions.kept}


@PROPERTY
@given(repo=repositories(), policy=policies)
def test_candidates_are_ordered_referencing_manifest_first(repo: Repo, policy: Policy) -> None:
    decisions = run(repo, policy)
    position = {c.digest: n for n, c in enumerate(decisions.candidates)}
    for parent, child, kind in repo.edges:
        if parent in position and child in position:
            if kind == "index":
                assert position[parent] < position[child]  # an index before its children
            else:
                assert position[child] < position[parent]  # a referrer or attestation before its subject


@PROPERTY
@given(repo=repositories(), policy=policies, external=st.lists(st.sampled_from(BLOBS), max_size=2))
def test_bytes_add_up(repo: Repo, policy: Policy, external: list[str]) -> None:
    decisions = decide(
        repo.listing, policy=policy, now=NOW, oci=repo.oci, unreadable=repo.unreadable, external_blobs=external
    )
    candidates = {c.digest for c in decisions.candidates}
    holders: dict[str, set[str]] = {}
    size: dict[str, int] = {}
    for manifest in repo.listing:
        for blob in manifest.blobs:
            assert blob.digest is not None and blob.compressed_size_bytes is not None
            holders.setdefault(blob.digest, set()).add(manifest.digest or "")
            size[blob.digest] = blob.compressed_size_bytes
    freeable = {b for b, who in holders.items() if who <= candidates and b not in external}
    assert decisions.freed_bytes == sum(size[b] for b in freeable)
    unique = sum(decisions.unique_bytes_of(c) for c in candidates)
    each = sum(decisions.freed_bytes_of(c) for c in candidates)
    blob_sum = sum(size[b.digest or ""] for m in repo.listing if m.digest in candidates for b in m.blobs)
    assert unique <= decisions.freed_bytes <= each <= blob_sum
    assert decisions.freed_bytes <= decisions.naive_bytes  # sizes here are consistent, as DigitalOcean's are
    assert decisions.naive_bytes == sum(m.compressed_size_bytes or 0 for m in repo.listing if m.digest in candidates)
    assert decisions.expected_freed_bytes(candidates) == decisions.freed_bytes
    assert decisions.expected_freed_bytes(()) == 0
    ordered = [c.digest for c in decisions.candidates]
    partial = [decisions.expected_freed_bytes(ordered[:n]) for n in range(len(ordered) + 1)]
    assert partial == sorted(partial)  # deleting more never frees less


@PROPERTY
@given(repo=repositories(), policy=policies)
def test_plans_round_trip_through_json(repo: Repo, policy: Policy) -> None:
    plan = Plan.create(
        repo.listing,
        registry="example",
        repository="web/app",
        policy=policy,
        now=NOW,
        oci=repo.oci,
        unreadable=repo.unreadable,
    )
    text = plan.to_json()
    again = Plan.from_json(text)
    assert again == plan and again.to_json() == text and again.id == plan.id
    # Nothing changed since planning: nothing is stale.
    assert stale_candidates(again, repo.listing) == {}
