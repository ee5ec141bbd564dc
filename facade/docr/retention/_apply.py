"""Applying a plan, the pure parts: what changed since planning, and the report.

Usage::

    current = list(client.iter_manifests(plan.registry, plan.repository))   # re-listed just before
    skip = stale_candidates(plan, current, oci=bodies_of_new_manifests)
    for candidate in plan.candidates:
        if candidate.digest in skip:
            journal.record(candidate.digest, "already-gone" if skip[candidate.digest] == ALREADY_GONE
                           else "skipped", why=skip[candidate.digest])
    ...
    report = ApplyReport.from_journal(plan, journal)

A candidate is skipped when its tags or ``updated_at`` changed since the plan (the decision was
made on other facts), or when a manifest that appeared since the plan lists it as a child (a
new index, say ``docker buildx imagetools create``, now uses it). New manifests whose bodies are
not given may be such indexes, so then every candidate is skipped: fail closed, as planning does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from docr._oci import OCIManifest
from docr.retention._journal import Journal
from docr.retention._plan import Plan
from docr.retention._types import ListedManifest

__all__ = ["ALREADY_GONE", "ApplyReport", "stale_candidates"]

ALREADY_GONE = "already gone"


def stale_candidates(
    plan: Plan, current_manifests: Iterable[ListedManifest], *, oci: Mapping[str, OCIManifest] | None = None
) -> dict[str, str]:
    """``{digest: why}`` for each candidate not to delete now; ``why`` is ``ALREADY_GONE`` for one gone.

    ``oci`` holds the parsed bodies of manifests listed now but absent from the plan.
    """
    current = {m.digest: m for m in current_manifests if m.digest is not None}
    planned = {d.digest for d in plan.candidates} | {d.digest for d in plan.kept}
    new = sorted(set(current) - planned)
    bodies = oci or {}
    unread = [digest for digest in new if digest not in bodies]
    users: dict[str, str] = {}
    for digest in new:
        body = bodies.get(digest)
        for child in body.children if body else ():
            users.setdefault(child.digest, digest)
    stale: dict[str, str] = {}
    for candidate in plan.candidates:
        now = current.get(candidate.digest)
        if now is None:
            stale[candidate.digest] = ALREADY_GONE
            continue
        why = _changed(candidate.tags, candidate.updated_at, tuple(sorted(set(now.tags))), _aware(now.updated_at))
        if why is None and candidate.digest in users:
            why = f"now a child of {users[candidate.digest]}, which appeared since the plan"
        if why is None and unread:
            why = f"{len(unread)} manifest(s) appeared since the plan and were not read: any may use it"
        if why is not None:
            stale[candidate.digest] = why
    return stale


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def _changed(
    tags: tuple[str, ...], updated_at: dt.datetime | None, tags_now: tuple[str, ...], updated_now: dt.datetime | None
) -> str | None:
    if tags != tags_now:
        added = sorted(set(tags_now) - set(tags))
        if added:
            return f"tagged {', '.join(added)} since the plan"
        if not tags_now:
            return f"untagged since the plan (was {', '.join(tags)})"
        return f"tags changed since the plan ({', '.join(tags)} -> {', '.join(tags_now)})"
    if updated_at != updated_now:
        return f"updated since the plan ({_show(updated_at)} -> {_show(updated_now)})"
    return None


def _show(value: dt.datetime | None) -> str:
    return "unknown" if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ApplyReport:
    """What an apply did, in plan order; ``freed_bytes`` is what the plan expects the deletions to free."""

    deleted: tuple[str, ...]
    already_gone: tuple[str, ...]
    skipped: Mapping[str, str]
    failed: Mapping[str, str]
    unfinished: tuple[str, ...]
    freed_bytes: int

    @property
    def complete(self) -> bool:
        """Every candidate deleted, gone or skipped: nothing failed or left to do."""
        return not self.failed and not self.unfinished

    @classmethod
    def from_journal(cls, plan: Plan, journal: Journal) -> ApplyReport:
        """The report of ``plan``'s apply so far, from its journal (``skipped`` from ``why=``,
        ``failed`` from ``error=``; an ``attempt`` without an outcome is unfinished). A manifest
        found gone after an ``attempt`` counts as deleted: the DELETE went out before a crash."""
        if journal.plan_id != plan.id:
            raise ValueError(f"the journal belongs to plan {journal.plan_id}, not {plan.id}")
        latest = journal.latest()
        attempted = {entry.digest for entry in journal.entries() if entry.outcome == "attempt"}
        deleted, gone, unfinished = [], [], []
        skipped: dict[str, str] = {}
        failed: dict[str, str] = {}
        for candidate in plan.candidates:
            entry = latest.get(candidate.digest)
            outcome = entry.outcome if entry else None
            if entry is None or outcome == "attempt":
                unfinished.append(candidate.digest)
            elif outcome == "deleted" or (outcome == "already-gone" and candidate.digest in attempted):
                deleted.append(candidate.digest)
            elif outcome == "already-gone":
                gone.append(candidate.digest)
            elif outcome == "skipped":
                skipped[candidate.digest] = str(entry.details.get("why", "skipped"))
            else:
                failed[candidate.digest] = str(entry.details.get("error", "failed"))
        freed = plan.decisions.expected_freed_bytes(deleted, also_gone=gone)
        return cls(tuple(deleted), tuple(gone), skipped, failed, tuple(unfinished), freed)
