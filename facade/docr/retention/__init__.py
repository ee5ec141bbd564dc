"""docr.retention: plan and apply registry clean-ups that never break a multi-arch image.

Usage, against a registry::

    from docr import retention

    with docr.Client() as client:
        plan = retention.plan(client, "example", "web/app", retention.Policy(keep_last=10))
        print(len(plan.candidates), "to delete,", plan.freed_bytes, "bytes freed")
        report = retention.apply(client, plan, journal="prune.journal")   # rerun to resume
        plans = retention.plan_registry(client, "example", "retention.toml")

    # asyncio: await retention.aplan(...), retention.aapply(...), retention.aplan_registry(...)

Everything that decides is pure (no network, tested on plain data); ``plan``, ``apply`` and
their async twins only list, read bodies and delete. The pure core, step by step::

    from docr import retention

    policy = retention.load_policy_file("retention.toml").for_repository("web/app")
    plan = retention.Plan.create(listing, registry="example", repository="web/app", policy=policy,
                                 now=now, oci=bodies, unreadable=failures)
    for candidate in plan.candidates:            # in a safe order: indexes before their children
        print(candidate.digest, candidate.reason)
    print(plan.decisions.freed_bytes, "bytes freed;", plan.decisions.naive_bytes, "by naive count")
    text = plan.to_json()                        # save, review, apply later

    plan = retention.Plan.from_json(text)
    skip = retention.stale_candidates(plan, listing_now)
    journal = retention.Journal("prune.journal", plan.id)
    ...                                          # delete, journal.record(digest, "deleted")
    report = retention.ApplyReport.from_journal(plan, journal)

The listing has no media types, so an index's platform and attestation manifests look like any
untagged manifest; the planner reads the bodies (``oci``) to protect them, and fails closed when
it cannot.
"""

from __future__ import annotations

from docr.retention._apply import ALREADY_GONE, ApplyReport, stale_candidates
from docr.retention._applying import ApplyEvent, aapply, apply
from docr.retention._decisions import Decision, Decisions, Rule
from docr.retention._duration import format_duration, parse_duration
from docr.retention._journal import FINAL_OUTCOMES, Journal, JournalEntry, JournalError, Outcome
from docr.retention._plan import PLAN_FORMAT, Plan, PlanError
from docr.retention._planner import decide
from docr.retention._planning import aplan, aplan_registry, plan, plan_registry
from docr.retention._policy import Policy
from docr.retention._policy_file import (
    PolicyFile,
    PolicyFileError,
    PolicySection,
    load_policy_file,
    parse_policy_file,
)
from docr.retention._types import BlobLike, ListedManifest, ManifestLike

__all__ = [
    "ALREADY_GONE",
    "FINAL_OUTCOMES",
    "PLAN_FORMAT",
    "ApplyEvent",
    "ApplyReport",
    "BlobLike",
    "Decision",
    "Decisions",
    "Journal",
    "JournalEntry",
    "JournalError",
    "ListedManifest",
    "ManifestLike",
    "Outcome",
    "Plan",
    "PlanError",
    "Policy",
    "PolicyFile",
    "PolicyFileError",
    "PolicySection",
    "Rule",
    "aapply",
    "aplan",
    "aplan_registry",
    "apply",
    "decide",
    "format_duration",
    "load_policy_file",
    "parse_duration",
    "parse_policy_file",
    "plan",
    "plan_registry",
    "stale_candidates",
]
