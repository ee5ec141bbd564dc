"""``Plan``: a prune decided and saved, to read, review and apply later (like a Terraform plan).

Usage::

    plan = Plan.create(listing, registry="example", repository="web/app", policy=policy,
                       now=now, oci=bodies, unreadable=failures)
    Path("prune.json").write_text(plan.to_json())
    ...
    plan = Plan.from_json(Path("prune.json").read_text())  # PlanError if tampered with or too new

The file is JSON with a ``format`` version (``docr.retention.plan/1``) and an ``id``: the sha256
of its canonical content, which a journal records so it cannot be replayed against another
plan. ``from_json`` is strict: unknown or missing keys, wrong types, totals that do not add up
and an ``id`` that does not match are refused; ``Plan.from_json(plan.to_json()) == plan``.
The id is a checksum against accidents, not a signature: whoever can write the file can recompute it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from docr import _names
from docr._errors import InvalidArgument
from docr._oci import OCIManifest
from docr.retention._decisions import DELETE_RULES, GRAPH_RULES, KEEP_RULES, Decision, Decisions, Rule
from docr.retention._planner import decide
from docr.retention._policy import Policy
from docr.retention._types import ManifestLike

__all__ = ["PLAN_FORMAT", "Plan", "PlanError"]

PLAN_FORMAT = "docr.retention.plan/1"
_TOP_KEYS = (
    *("format", "id", "registry", "repository", "created_at", "policy", "summary", "notes"),
    *("candidates", "kept", "blobs"),
)
_DECISION_KEYS = ("digest", "tags", "updated_at", "rule", "reason", "via", "compressed_size_bytes")
_CANDIDATE_KEYS = (*_DECISION_KEYS, "freed_bytes", "unique_bytes", "blobs")


class PlanError(InvalidArgument):
    """A plan file that cannot be applied: not JSON, another format version, tampered with."""

    def __init__(self, message: str) -> None:
        super().__init__("plan", message)


@dataclass(frozen=True)
class Plan:
    """What a prune of one repository will delete and keep, and why, as decided at ``created_at``."""

    registry: str
    repository: str
    policy: Policy
    created_at: dt.datetime
    decisions: Decisions

    @classmethod
    def create(
        cls,
        manifests: Iterable[ManifestLike],
        *,
        registry: str,
        repository: str,
        policy: Policy,
        now: dt.datetime,
        oci: Mapping[str, OCIManifest],
        unreadable: Mapping[str, str],
        external_blobs: Collection[str] = (),
    ) -> Plan:
        """Plan a prune (see ``docr.retention.decide``); ``now`` becomes ``created_at``."""
        _names.registry_name(registry, "registry_name")
        _names.repository_name(repository, "repository_name")
        decisions = decide(
            manifests, policy=policy, now=now, oci=oci, unreadable=unreadable, external_blobs=external_blobs
        )
        return cls(registry, repository, policy, now, decisions)

    @property
    def candidates(self) -> tuple[Decision, ...]:
        return self.decisions.candidates

    @property
    def kept(self) -> tuple[Decision, ...]:
        return self.decisions.kept

    @property
    def notes(self) -> tuple[str, ...]:
        """Why fewer manifests than the policy asks may go (fail closed), and listing oddities."""
        return self.decisions.notes

    @property
    def protected(self) -> int:
        return self.decisions.protected

    @property
    def freed_bytes(self) -> int:
        return self.decisions.freed_bytes

    @property
    def naive_bytes(self) -> int:
        return self.decisions.naive_bytes

    @property
    def id(self) -> str:
        """``sha256:`` of the plan's canonical JSON: what a journal records to tell plans apart."""
        return _plan_id(self._body())

    def to_json(self) -> str:
        body = self._body()
        return json.dumps({"format": PLAN_FORMAT, "id": _plan_id(body), **body}, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Plan:
        """Read a plan ``to_json`` wrote; raise ``PlanError`` saying what is wrong with anything else."""
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicates)
        except (ValueError, RecursionError) as exc:
            raise PlanError(f"is not a JSON plan file ({exc})") from None
        if not isinstance(data, dict) or "format" not in data:
            raise PlanError("is not a docr plan (no 'format' key)")
        if data["format"] != PLAN_FORMAT:
            raise PlanError(f"has format {data['format']!r:.60}; this docr reads {PLAN_FORMAT!r} plans only")
        _exact_keys(data, _TOP_KEYS, "the plan")
        return _read(data)

    def _body(self) -> dict[str, Any]:
        d = self.decisions
        return {
            "registry": self.registry,
            "repository": self.repository,
            "created_at": _time(self.created_at),
            "policy": self.policy.to_dict(),
            "summary": _summary(d),
            "notes": list(d.notes),
            "candidates": [_decision(c) | _candidate_bytes(d, c) for c in d.candidates],
            "kept": [_decision(k) for k in d.kept],
            "blobs": dict(d.blob_sizes),
        }


def _plan_id(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _summary(d: Decisions) -> dict[str, int]:
    return {
        "candidates": len(d.candidates),
        "kept": len(d.kept),
        "protected": d.protected,
        "freed_bytes": d.freed_bytes,
        "naive_bytes": d.naive_bytes,
    }


def _decision(decision: Decision) -> dict[str, Any]:
    return {
        "digest": decision.digest,
        "tags": list(decision.tags),
        "updated_at": None if decision.updated_at is None else _time(decision.updated_at),
        "rule": decision.rule,
        "reason": decision.reason,
        "via": decision.via,
        "compressed_size_bytes": decision.compressed_size_bytes,
    }


def _candidate_bytes(d: Decisions, candidate: Decision) -> dict[str, Any]:
    return {
        "freed_bytes": d.freed_bytes_of(candidate.digest),
        "unique_bytes": d.unique_bytes_of(candidate.digest),
        "blobs": list(candidate.blobs),
    }


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _exact_keys(data: object, keys: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PlanError(f"{where} must be an object")
    unknown = sorted(set(data) - set(keys))
    missing = [key for key in keys if key not in data]
    if unknown or missing:
        problem = f"unknown key {unknown[0]!r}" if unknown else f"missing key {missing[0]!r}"
        raise PlanError(f"{where}: {problem}")
    return data


def _read(data: dict[str, Any]) -> Plan:
    try:
        registry = _names.registry_name(data["registry"], "registry")
        repository = _names.repository_name(data["repository"], "repository")
        policy = Policy.from_dict(_exact_keys(data["policy"], tuple(Policy().to_dict()), "policy"))
    except PlanError:
        raise
    except InvalidArgument as exc:
        raise PlanError(str(exc)) from None
    created_at = _read_time(data["created_at"], "created_at")
    if created_at is None:
        raise PlanError("created_at must be a time")
    candidates = [_read_decision(item, True, f"candidates[{n}]") for n, item in enumerate(_list(data, "candidates"))]
    kept = [_read_decision(item, False, f"kept[{n}]") for n, item in enumerate(_list(data, "kept"))]
    digests = [decision.digest for decision, _ in [*candidates, *kept]]
    if len(set(digests)) != len(digests):
        raise PlanError("a digest appears more than once")
    blobs = _read_blobs(data["blobs"], {blob for decision, _ in candidates for blob in decision.blobs})
    notes = _list(data, "notes")
    if not all(isinstance(note, str) for note in notes):
        raise PlanError("notes must be strings")
    decisions = Decisions(tuple(k for k, _ in kept), tuple(c for c, _ in candidates), blobs, tuple(notes))
    plan = Plan(registry, repository, policy, created_at, decisions)
    body = plan._body()
    for (candidate, stored), written in zip(candidates, body["candidates"], strict=True):
        if stored != {key: written[key] for key in ("freed_bytes", "unique_bytes")}:
            raise PlanError(f"the bytes of {candidate.digest} do not add up: the plan was modified")
    if data["summary"] != body["summary"]:
        raise PlanError("the summary does not match the decisions: the plan was modified")
    if data["id"] != _plan_id(body):
        raise PlanError("its id does not match its content: the plan was modified after it was written")
    return plan


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data[key]
    if not isinstance(value, list):
        raise PlanError(f"{key} must be a list")
    return value


def _read_time(value: object, where: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise PlanError(f"{where} must be an ISO 8601 time with a zone, not {value!r:.60}")
    return parsed


def _read_decision(item: object, delete: bool, where: str) -> tuple[Decision, dict[str, Any]]:
    data = _exact_keys(item, _CANDIDATE_KEYS if delete else _DECISION_KEYS, where)
    try:
        digest = _names.digest(data["digest"], f"{where}.digest")
        via = None if data["via"] is None else _names.digest(data["via"], f"{where}.via")
    except InvalidArgument as exc:
        raise PlanError(str(exc)) from None
    rules = (DELETE_RULES if delete else KEEP_RULES) | GRAPH_RULES
    if not isinstance(data["rule"], str) or data["rule"] not in rules:
        raise PlanError(f"{where}.rule: {data['rule']!r:.60} is not a rule for a {'candidate' if delete else 'kept'}")
    tags, blobs = data["tags"], data.get("blobs", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise PlanError(f"{where}.tags must be a list of strings")
    if not isinstance(blobs, list) or not all(isinstance(blob, str) and blob for blob in blobs):
        raise PlanError(f"{where}.blobs must be a list of digests")
    if not isinstance(data["reason"], str):
        raise PlanError(f"{where}.reason must be a string")
    size = data["compressed_size_bytes"]
    if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
        raise PlanError(f"{where}.compressed_size_bytes must be an integer or null")
    decision = Decision(
        digest=digest,
        delete=delete,
        rule=cast(Rule, data["rule"]),
        reason=data["reason"],
        via=via,
        tags=tuple(tags),
        updated_at=_read_time(data["updated_at"], f"{where}.updated_at"),
        compressed_size_bytes=size,
        blobs=tuple(blobs),
    )
    return decision, {key: data[key] for key in ("freed_bytes", "unique_bytes") if key in data}


def _read_blobs(value: object, referenced: set[str]) -> dict[str, int]:
    if not isinstance(value, dict):
        raise PlanError("blobs must be an object of digest: size")
    for blob, size in value.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise PlanError(f"blobs[{blob!r:.80}] must be a size in bytes")
    if set(value) != referenced:
        raise PlanError("the blob table and the candidates' blobs differ: the plan was modified")
    return value
