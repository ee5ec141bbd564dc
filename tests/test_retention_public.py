"""The public surface of docr.retention is pinned: nothing leaks out, nothing disappears by accident."""

from __future__ import annotations

import inspect

from docr import retention


def test_all_is_pinned() -> None:
    assert sorted(retention.__all__) == sorted(
        [
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
    )


def test_every_public_name_resolves_and_lives_in_docr_retention() -> None:
    for name in retention.__all__:
        value = getattr(retention, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("docr.retention."), name
