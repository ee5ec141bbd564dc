"""The plan artefact: its JSON round-trips exactly, and anything else is refused with a reason."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

import docr
from docr.retention import PLAN_FORMAT, Plan, PlanError, Policy
from tests.test_retention_planner import DAY, NOW, Blob, Listed, image, multi_arch, sha


def sample_plan(now: dt.datetime = NOW) -> Plan:
    listing, bodies = multi_arch("latest")
    base, own = Blob(sha("base"), 1000), Blob(sha("own"), 50)
    listing += [
        Listed(sha("orphan"), [], NOW - 3 * DAY, 1050, [base, own]),
        Listed(sha("old"), ["v0"], NOW - 40 * DAY, 1075, [base, Blob(sha("v0"), 75)]),
        Listed(sha("kept"), ["v1"], NOW - 2 * DAY, 1000, [base]),
    ]
    bodies += [image("orphan"), image("old"), image("kept")]
    return Plan.create(
        listing,
        registry="example",
        repository="web/app",
        policy=Policy(keep_last=1, tagged_older_than=30 * DAY),
        now=now,
        oci={body.digest: body for body in bodies},
        unreadable={},
    )


def canonical_id(data: dict[str, Any]) -> str:
    """The documented id: sha256 of the canonical JSON of everything but format and id."""
    body = {key: value for key, value in data.items() if key not in ("format", "id")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_the_plan_says_what_goes_why_and_what_it_is_worth() -> None:
    plan = sample_plan()
    data = json.loads(plan.to_json())
    assert list(data) == [
        "format",
        "id",
        "registry",
        "repository",
        "created_at",
        "policy",
        "summary",
        "notes",
        "candidates",
        "kept",
        "blobs",
    ]
    assert data["format"] == PLAN_FORMAT and data["id"] == plan.id == canonical_id(data)
    assert data["created_at"] == "2024-06-01T12:00:00Z"
    assert data["policy"]["tagged_older_than"] == "30d"
    assert data["summary"] == {"candidates": 2, "kept": 6, "protected": 4, "freed_bytes": 125, "naive_bytes": 2125}
    old, orphan = data["candidates"]
    assert old == {
        "digest": sha("old"),
        "tags": ["v0"],
        "updated_at": "2024-04-22T12:00:00Z",
        "rule": "tagged-older",
        "reason": "tagged v0 older than 30d",
        "via": None,
        "compressed_size_bytes": 1075,
        "freed_bytes": 75,
        "unique_bytes": 75,
        "blobs": [sha("v0")],
    }
    assert orphan["reason"] == "untagged, older than grace" and orphan["freed_bytes"] == 50
    assert data["blobs"] == {sha("own"): 50, sha("v0"): 75}
    assert {k["reason"] for k in data["kept"]} >= {"keep-tag latest", "keep-last 1 (#1 newest tagged)"}


def test_json_round_trips_exactly() -> None:
    plan = sample_plan()
    text = plan.to_json()
    again = Plan.from_json(text)
    assert again == plan and again.to_json() == text
    assert Plan.from_json(text.encode()) == plan
    assert (again.freed_bytes, again.naive_bytes, again.protected, again.notes) == (125, 2125, 4, ())


def test_an_empty_repository_plans_nothing() -> None:
    plan = Plan.create([], registry="example", repository="web/app", policy=Policy(), now=NOW, oci={}, unreadable={})
    assert plan.candidates == () and plan.kept == () and plan.freed_bytes == 0
    assert Plan.from_json(plan.to_json()) == plan


def test_the_id_depends_on_the_content() -> None:
    assert sample_plan().id == sample_plan().id
    assert sample_plan().id != sample_plan(NOW + dt.timedelta(seconds=1)).id
    other_zone = NOW.astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert sample_plan(other_zone).id == sample_plan().id  # the same instant


def edit(data: dict[str, Any], change: Callable[[dict[str, Any]], object]) -> str:
    """Apply ``change`` and recompute the id, as a careful forger would."""
    change(data)
    data["id"] = canonical_id(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(extra=1), "the plan: unknown key 'extra'"),
        (lambda d: d.pop("notes"), "the plan: missing key 'notes'"),
        (lambda d: d["candidates"][0].update(digest="sha256:nope"), "candidates[0].digest"),
        (lambda d: d["candidates"][0].update(via=17), "candidates[0].via: must be a str"),
        (lambda d: d["kept"].append(copy.deepcopy(d["kept"][0])), "appears more than once"),
        (lambda d: d["kept"][0].update(rule="untagged"), "kept[0].rule: 'untagged' is not a rule for a kept"),
        (lambda d: d["candidates"][0].update(rule="keep-tag"), "is not a rule for a candidate"),
        (lambda d: d["candidates"][0].update(rule=["x"]), "is not a rule"),
        (lambda d: d["candidates"][0].update(freed_bytes=76), f"the bytes of {sha('old')} do not add up"),
        (lambda d: d["summary"].update(freed_bytes=10**12), "the summary does not match"),
        (lambda d: d["blobs"].update({sha("x"): 1}), "the blob table and the candidates' blobs differ"),
        (lambda d: d["blobs"].update({sha("v0"): -75}), "must be a size in bytes"),
        (lambda d: d["candidates"][0].update(blobs="x"), "candidates[0].blobs must be a list"),
        (lambda d: d["candidates"][0].update(tags="v0"), "candidates[0].tags must be a list of strings"),
        (lambda d: d["candidates"][0].update(reason=None), "candidates[0].reason must be a string"),
        (lambda d: d["candidates"][0].update(compressed_size_bytes="1"), "must be an integer or null"),
        (lambda d: d["candidates"][0].update(extra=True), "candidates[0]: unknown key 'extra'"),
        (lambda d: d["kept"][0].pop("via"), "kept[0]: missing key 'via'"),
        (lambda d: d["candidates"].append(7), "candidates[2] must be an object"),
        (lambda d: d.update(candidates={}), "candidates must be a list"),
        (lambda d: d.update(created_at="2024-06-01T12:00:00"), "created_at must be an ISO 8601 time with a zone"),
        (lambda d: d.update(created_at=None), "created_at must be a time"),
        (lambda d: d["kept"][0].update(updated_at="yesterday"), "kept[0].updated_at must be an ISO 8601 time"),
        (lambda d: d.update(registry="Example"), "registry: 'Example' must be lowercase"),
        (lambda d: d.update(repository="web/../app"), "repository: "),
        (lambda d: d["policy"].update(grace="soon"), "grace: invalid duration 'soon'"),
        (lambda d: d["policy"].update(keep_last=-2), "keep_last: must be 0 or more"),
        (lambda d: d["policy"].update(purge=True), "policy: unknown key 'purge'"),
        (lambda d: d.update(notes=[1]), "notes must be strings"),
    ],
)
def test_tampered_or_broken_plans_are_refused(change: Callable[[dict[str, Any]], object], message: str) -> None:
    text = edit(json.loads(sample_plan().to_json()), change)
    with pytest.raises(PlanError) as info:
        Plan.from_json(text)
    assert message in str(info.value)
    assert isinstance(info.value, docr.InvalidArgument) and info.value.argument == "plan"


def test_an_edit_without_a_new_id_is_detected() -> None:
    data = json.loads(sample_plan().to_json())
    data["candidates"][0]["reason"] = "trust me"
    with pytest.raises(PlanError, match="its id does not match its content"):
        Plan.from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not a JSON plan file"),
        ("{", "is not a JSON plan file"),
        ("[]", "is not a docr plan"),
        ('{"registry": "example"}', "is not a docr plan"),
        ('{"format": "docr.retention.plan/2"}', "has format 'docr.retention.plan/2'; this docr reads"),
        ('{"format": "x", "format": "docr.retention.plan/1"}', "duplicate key 'format'"),
    ],
)
def test_files_that_are_not_plans(text: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        Plan.from_json(text)


def test_create_validates_the_names() -> None:
    with pytest.raises(docr.InvalidArgument) as info:
        Plan.create([], registry="example", repository="Web", policy=Policy(), now=NOW, oci={}, unreadable={})
    assert info.value.argument == "repository_name"
