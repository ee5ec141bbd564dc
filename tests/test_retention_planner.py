"""The planner on hand-built repositories: each rule, index safety, fail closed and the bytes.

The builders here (``Listed``, ``image``, ``index``, ...) are shared by the other retention tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pytest

import docr
from docr._oci import OCI_INDEX, OCI_MANIFEST, OCIDescriptor, OCIManifest, Platform, parse_manifest
from docr.retention import Decisions, Policy, decide

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Blob:
    digest: str | None
    compressed_size_bytes: int | None


@dataclass
class Listed:
    """A manifest as the listing shows it (the shape of docr.Manifest)."""

    digest: str | None
    tags: list[str] = field(default_factory=list)
    updated_at: dt.datetime | None = NOW - 10 * DAY
    compressed_size_bytes: int | None = None
    blobs: list[Blob] = field(default_factory=list)


def image(name: str) -> OCIManifest:
    return OCIManifest(sha(name), OCI_MANIFEST, config=sha(name + "-config"))


def index(name: str, *children: str, attestations: Sequence[tuple[str, str]] = ()) -> OCIManifest:
    """An index listing ``children`` (names) and ``(attestation, attested)`` pairs."""
    descriptors = [OCIDescriptor(sha(c), OCI_MANIFEST, 1, Platform("linux", "amd64")) for c in children]
    for attestation, attested in attestations:
        annotations = {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": sha(attested),
        }
        descriptors.append(
            OCIDescriptor(sha(attestation), OCI_MANIFEST, 1, Platform("unknown", "unknown"), annotations)
        )
    return OCIManifest(sha(name), OCI_INDEX, children=tuple(descriptors))


def referrer(name: str, subject: str) -> OCIManifest:
    return OCIManifest(sha(name), OCI_MANIFEST, subject=sha(subject), artifact_type="application/vnd.dev.sigstore")


def plan(
    listing: Iterable[Listed],
    bodies: Iterable[OCIManifest],
    policy: Policy | None = None,
    unreadable: dict[str, str] | None = None,
    **kwargs: object,
) -> Decisions:
    return decide(
        list(listing),
        policy=policy or Policy(),
        now=NOW,
        oci={body.digest: body for body in bodies},
        unreadable=unreadable or {},
        **kwargs,  # type: ignore[arg-type]
    )


def by_name(decisions: Decisions) -> dict[str, tuple[bool, str]]:
    """``{digest: (deleted, reason)}``."""
    return {d.digest: (d.delete, d.reason) for d in (*decisions.kept, *decisions.candidates)}


def multi_arch(tag: str, name: str = "app", age: dt.timedelta = 10 * DAY) -> tuple[list[Listed], list[OCIManifest]]:
    """An index (tagged ``tag``) with two platform images and their attestations, all but the index untagged."""
    when = NOW - age
    names = [f"{name}-amd64", f"{name}-arm64", f"{name}-att-amd64", f"{name}-att-arm64"]
    listing = [Listed(sha(name), [tag] if tag else [], when), *(Listed(sha(n), [], when) for n in names)]
    bodies = [
        index(name, names[0], names[1], attestations=[(names[2], names[0]), (names[3], names[1])]),
        *(image(n) for n in names),
    ]
    return listing, bodies


class TestIndexSafety:
    def test_naive_untagged_cleanup_would_break_the_image_and_the_plan_does_not(self) -> None:
        listing, bodies = multi_arch("latest")
        listing.append(Listed(sha("orphan"), [], NOW - 10 * DAY))
        bodies.append(image("orphan"))
        naive = {m.digest for m in listing if not m.tags and m.updated_at and m.updated_at < NOW - DAY}
        assert len(naive) == 5  # the four children of `latest` and the orphan

        decisions = plan(listing, bodies)

        assert [c.digest for c in decisions.candidates] == [sha("orphan")]
        assert decisions.candidates[0].reason == "untagged, older than grace"
        outcome = by_name(decisions)
        assert outcome[sha("app")] == (False, "keep-tag latest")
        assert outcome[sha("app-amd64")] == (False, f"child of kept index {sha('app')}")
        assert outcome[sha("app-att-amd64")] == (
            False,
            f"attestation of kept {sha('app-amd64')} (in index {sha('app')})",
        )
        assert decisions.protected == 4
        assert naive - {c.digest for c in decisions.candidates} == {m.digest for m in listing[1:5]}

    def test_a_deleted_index_takes_its_children_with_it_index_first(self) -> None:
        listing, bodies = multi_arch("v0")
        decisions = plan(listing, bodies, Policy(tagged_older_than=7 * DAY))
        order = [c.digest for c in decisions.candidates]
        assert order[0] == sha("app") and len(order) == 5
        assert decisions.candidates[0].reason == "tagged v0 older than 7d"
        outcome = by_name(decisions)
        assert outcome[sha("app-arm64")] == (True, f"child of deleted index {sha('app')}")
        # An attestation goes before the image it attests.
        assert order.index(sha("app-att-arm64")) < order.index(sha("app-arm64"))
        assert decisions.kept == ()

    def test_a_child_shared_with_a_kept_index_stays(self) -> None:
        old = [Listed(sha("old"), ["v0"]), Listed(sha("new"), ["latest"]), Listed(sha("shared")), Listed(sha("gone"))]
        bodies = [index("old", "shared", "gone"), index("new", "shared"), image("shared"), image("gone")]
        decisions = plan(old, bodies, Policy(tagged_older_than=7 * DAY))
        assert [c.digest for c in decisions.candidates] == [sha("old"), sha("gone")]
        assert by_name(decisions)[sha("shared")] == (False, f"child of kept index {sha('new')}")

    def test_nested_indexes_are_protected_transitively(self) -> None:
        listing = [Listed(sha(n), ["latest"] if n == "outer" else []) for n in ("outer", "inner", "leaf", "att")]
        bodies = [index("outer", "inner"), index("inner", "leaf", attestations=[("att", "leaf")]), image("leaf")]
        bodies.append(image("att"))
        decisions = plan(listing, bodies)
        assert decisions.candidates == ()
        outcome = by_name(decisions)
        assert outcome[sha("inner")] == (False, f"child of kept index {sha('outer')}")
        assert outcome[sha("leaf")] == (False, f"child of kept index {sha('inner')}")
        assert decisions.protected == 3

    def test_an_attestation_goes_with_its_deleted_index_even_if_its_image_stays(self) -> None:
        # Attestations are found through their index: once it is gone, nothing can reach them.
        listing, bodies = multi_arch("v0")
        listing[1].tags = ["amd64-pinned"]
        decisions = plan(listing, bodies, Policy(keep_tags=("*-pinned",), tagged_older_than=7 * DAY))
        outcome = by_name(decisions)
        assert outcome[sha("app-amd64")] == (False, "keep-tag amd64-pinned (*-pinned)")
        assert outcome[sha("app-att-amd64")] == (True, f"child of deleted index {sha('app')}")
        assert outcome[sha("app-arm64")][0] and outcome[sha("app-att-arm64")][0]
        assert plan([m for m in listing if m.digest == sha("app-amd64")], bodies).candidates == ()

    def test_referrers_follow_their_subject(self) -> None:
        listing = [Listed(sha("img"), ["latest"]), Listed(sha("sig")), Listed(sha("old")), Listed(sha("oldsig"))]
        bodies = [image("img"), referrer("sig", "img"), image("old"), referrer("oldsig", "old")]
        decisions = plan(listing, bodies, Policy(untagged="keep"))
        outcome = by_name(decisions)
        assert outcome[sha("sig")] == (False, f"referrer of kept {sha('img')}")
        assert outcome[sha("old")] == (False, "untagged=keep")
        assert outcome[sha("oldsig")] == (False, f"referrer of kept {sha('old')}")
        listing[2].tags = ["v0"]
        decisions = plan(listing, bodies, Policy(untagged="keep", tagged_older_than=DAY))
        assert [c.digest for c in decisions.candidates] == [sha("oldsig"), sha("old")]  # referrer first
        assert decisions.candidates[0].reason == f"referrer of deleted {sha('old')}"

    def test_a_tagged_child_of_a_kept_index_is_kept_even_if_old(self) -> None:
        listing = [Listed(sha("idx"), ["latest"]), Listed(sha("child"), ["v1-amd64"])]
        decisions = plan(listing, [index("idx", "child"), image("child")], Policy(tagged_older_than=DAY))
        assert decisions.candidates == ()
        assert by_name(decisions)[sha("child")] == (False, f"child of kept index {sha('idx')}")

    def test_untagged_keep_still_clears_children_of_deleted_indexes(self) -> None:
        listing, bodies = multi_arch("v0")
        listing.append(Listed(sha("orphan")))
        bodies.append(image("orphan"))
        decisions = plan(listing, bodies, Policy(untagged="keep", tagged_older_than=DAY))
        assert {c.digest for c in decisions.candidates} == {m.digest for m in listing[:5]}
        assert by_name(decisions)[sha("orphan")] == (False, "untagged=keep")

    def test_a_manifest_listing_itself_protects_nothing(self) -> None:
        # Impossible for content-addressed data; the planner must still terminate and explain.
        weird = OCIManifest(sha("loop"), OCI_INDEX, children=(OCIDescriptor(sha("loop"), OCI_INDEX, 1),))
        decisions = plan([Listed(sha("loop"))], [weird])
        assert [c.reason for c in decisions.candidates] == ["untagged, older than grace"]


class TestPolicyRules:
    def test_grace_keeps_recent_manifests_with_their_age(self) -> None:
        listing = [Listed(sha("fresh"), [], NOW - dt.timedelta(hours=2)), Listed(sha("future"), [], NOW + DAY)]
        listing.append(Listed(sha("edge"), [], NOW - DAY))
        listing.append(Listed(sha("stale"), [], NOW - DAY - dt.timedelta(seconds=1)))
        decisions = plan(listing, [image(n) for n in ("fresh", "future", "edge", "stale")])
        outcome = by_name(decisions)
        assert outcome[sha("fresh")] == (False, "within grace (updated 2h ago)")
        assert outcome[sha("future")] == (False, "within grace (updated 1d in the future)")
        assert outcome[sha("edge")] == (False, "within grace (updated 1d ago)")
        assert outcome[sha("stale")] == (True, "untagged, older than grace")

    def test_unknown_age_is_never_deleted(self) -> None:
        listing = [Listed(sha("a"), [], None), Listed(sha("b"), ["v1"], None)]
        decisions = plan(listing, [image("a"), image("b")], Policy(tagged_older_than=DAY))
        assert decisions.candidates == ()
        assert {d.rule for d in decisions.kept} == {"age-unknown"}

    def test_keep_last_counts_tagged_manifests_newest_first(self) -> None:
        listing = [Listed(sha(f"v{i}"), [f"v{i}"], NOW - (i + 2) * DAY) for i in range(5)]
        listing.append(Listed(sha("latest"), ["latest"], NOW - 30 * DAY))
        decisions = plan(listing, [image(f"v{i}") for i in range(5)] + [image("latest")], Policy(keep_last=2))
        outcome = by_name(decisions)
        assert outcome[sha("v0")] == (False, "keep-last 2 (#1 newest tagged)")
        assert outcome[sha("v1")] == (False, "keep-last 2 (#2 newest tagged)")
        assert outcome[sha("v2")] == (False, "tagged, no rule deletes it")  # no tagged_older_than
        decisions = plan(
            listing,
            [image(f"v{i}") for i in range(5)] + [image("latest")],
            Policy(keep_last=2, tagged_older_than=3 * DAY),
        )
        assert [c.reason for c in decisions.candidates] == [
            "tagged v4 older than 3d",
            "tagged v3 older than 3d",
            "tagged v2 older than 3d",
        ]
        assert by_name(decisions)[sha("latest")] == (False, "keep-tag latest")

    def test_keep_tags_are_globs_and_case_sensitive(self) -> None:
        listing = [Listed(sha("a"), ["release-1", "tmp"]), Listed(sha("b"), ["Release-2"])]
        decisions = plan(listing, [image("a"), image("b")], Policy(keep_tags=("release-*",), tagged_older_than=DAY))
        assert by_name(decisions) == {
            sha("a"): (False, "keep-tag release-1 (release-*)"),
            sha("b"): (True, "tagged Release-2 older than 1d"),
        }

    def test_real_docr_manifests_work(self) -> None:
        blob = {"digest": sha("layer"), "compressed_size_bytes": 100}
        listing = [
            docr.Manifest.from_dict(
                {"digest": sha(n), "tags": [], "updated_at": "2024-05-01T00:00:00Z", "blobs": [blob]}
            )
            for n in ("x", "y")
        ]
        decisions = plan(listing, [image("x"), image("y")])
        assert len(decisions.candidates) == 2 and decisions.freed_bytes == 100


class TestFailClosed:
    def test_an_unreadable_manifest_stops_untagged_deletions_but_not_tagged_ones(self) -> None:
        listing, bodies = multi_arch("")  # the index is untagged: nothing but its body protects the children
        listing.append(Listed(sha("old-tag"), ["v0"]))
        bodies.append(image("old-tag"))
        unreadable = {sha("app"): "500 Internal Server Error"}
        decisions = plan(listing, bodies[1:], Policy(tagged_older_than=DAY), unreadable=unreadable)
        assert [c.digest for c in decisions.candidates] == [sha("old-tag")]
        assert decisions.fail_closed
        (note,) = decisions.notes
        assert note.startswith("fail closed: 1 manifest(s) could not be read") and "500 Internal" in note
        assert {d.rule for d in decisions.kept} == {"fail-closed"}

    def test_a_listed_manifest_without_a_body_counts_as_unreadable(self) -> None:
        listing, bodies = multi_arch("")
        decisions = plan(listing, bodies[1:])  # the index was never fetched
        assert decisions.candidates == () and decisions.fail_closed
        assert f"{sha('app')} (not read)" in decisions.notes[0]
        assert len(plan(listing, bodies).candidates) == 5  # with it, the whole untagged image goes

    def test_a_listed_manifest_without_a_digest_fails_closed(self) -> None:
        decisions = plan([Listed(None), Listed(sha("x"))], [image("x")])
        assert decisions.candidates == ()
        assert any("no valid digest" in note for note in decisions.notes) and decisions.fail_closed


class TestBytes:
    def test_only_blobs_no_kept_manifest_references_are_freed(self) -> None:
        base, app1, app2, kept_only = (
            Blob(sha("base"), 1000),
            Blob(sha("a1"), 10),
            Blob(sha("a2"), 20),
            Blob(sha("k"), 5),
        )
        shared = Blob(sha("cands"), 300)
        listing = [
            Listed(sha("keep"), ["latest"], compressed_size_bytes=1005, blobs=[base, kept_only]),
            Listed(sha("old1"), compressed_size_bytes=1310, blobs=[base, app1, shared]),
            Listed(sha("old2"), compressed_size_bytes=1320, blobs=[base, app2, shared]),
        ]
        decisions = plan(listing, [image("keep"), image("old1"), image("old2")])
        assert decisions.naive_bytes == 2630
        assert decisions.freed_bytes == 330  # a1, a2 and the blob only the candidates share
        assert decisions.freed_bytes_of(sha("old1")) == 310 and decisions.unique_bytes_of(sha("old1")) == 10
        assert decisions.unique_bytes_of(sha("old2")) == 20
        assert decisions.expected_freed_bytes([sha("old1")]) == 10
        assert decisions.expected_freed_bytes([sha("old1")], also_gone=[sha("old2")]) == 310
        assert decisions.expected_freed_bytes([sha("old1"), sha("old2")]) == 330
        assert decisions.freed_bytes_of(sha("keep")) == 0

    def test_blobs_used_by_other_repositories_free_nothing(self) -> None:
        listing = [Listed(sha("old"), blobs=[Blob(sha("b1"), 7), Blob(sha("b2"), 9), Blob(None, 99)])]
        decisions = plan(listing, [image("old")], external_blobs={sha("b2")})
        assert decisions.freed_bytes == 7 and decisions.candidates[0].blobs == (sha("b1"),)

    def test_the_same_blob_twice_in_one_manifest_counts_once(self) -> None:
        empty = Blob(sha("{}"), 2)  # the OCI empty descriptor, config and layer of an artifact
        decisions = plan([Listed(sha("art"), blobs=[empty, empty])], [image("art")])
        assert decisions.freed_bytes == 2 and decisions.unique_bytes_of(sha("art")) == 2


def test_a_manifest_listed_twice_is_merged_toward_keeping_it() -> None:
    listing = [Listed(sha("x"), ["v1"], NOW - 10 * DAY), Listed(sha("x"), ["latest"], NOW - 20 * DAY)]
    decisions = plan(listing, [image("x")], Policy(tagged_older_than=DAY))
    (kept,) = decisions.kept
    assert kept.tags == ("latest", "v1") and kept.updated_at == NOW - 10 * DAY
    assert any("listed more than once" in note for note in decisions.notes)


def test_planning_from_real_bodies() -> None:
    """From registry bytes to a plan: parse_manifest output feeds the planner directly."""
    amd, att = sha("amd"), sha("att")
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": amd, "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
            {
                "mediaType": OCI_MANIFEST,
                "digest": att,
                "size": 1,
                "annotations": {
                    "vnd.docker.reference.type": "attestation-manifest",
                    "vnd.docker.reference.digest": amd,
                },
            },
        ],
    }
    body = json.dumps(doc).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    parsed = parse_manifest(body, content_type=OCI_INDEX, digest=digest)
    listing = [Listed(digest, ["latest"]), Listed(amd), Listed(att)]
    decisions = decide(
        listing, policy=Policy(), now=NOW, oci={digest: parsed, amd: image("amd"), att: image("att")}, unreadable={}
    )
    assert decisions.candidates == () and decisions.protected == 2


def test_now_must_be_aware_and_policy_a_policy() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide([], policy=Policy(), now=dt.datetime(2024, 1, 1), oci={}, unreadable={})
    with pytest.raises(TypeError, match="Policy"):
        decide([], policy={"keep_last": 1}, now=NOW, oci={}, unreadable={})  # type: ignore[arg-type]
