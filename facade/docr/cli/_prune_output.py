"""How ``docr prune`` prints plans and results: tables and summary lines, plan JSON, the CI summary line.

The table shows what a plan deletes: digest, tags, age, the reason, and the bytes its blobs free;
then one line: ``10 manifests, 32.24 MiB freed of 314.83 MiB, 24 protected as index children``
(freed: what garbage collection reclaims once the plan is applied, blobs shared with anything kept
not counted; of: the sum of the manifests' sizes, what tools that ignore sharing report).

Every value from the server goes through ``visible`` (tables) or ``json_text`` (JSON), as in
``_output``; rich (imported with this module) never reads a cell as markup.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from docr.cli._humanize import human_age, human_size, short_digest
from docr.cli._output import isatty
from docr.cli._sanitize import json_text, visible
from docr.retention import ApplyReport, Plan, Policy, format_duration

__all__ = [
    "applied_freed",
    "freed_total",
    "naive_note",
    "plans_json",
    "policy_text",
    "report_line",
    "summary_json",
    "summary_line",
    "write_plans",
]

UNTAGGED = "<none>"
PIPE_WIDTH = 1000  # a piped table never wraps
_DIGEST = re.compile(r"\b(sha256:[0-9a-f]{12})[0-9a-f]{52}\b")


def policy_text(policy: Policy) -> str:
    """``keep tags latest, grace 1d, untagged: delete``: the policy in one line."""
    parts = []
    if policy.keep_tags:
        parts.append(f"keep tags {', '.join(policy.keep_tags)}")
    if policy.keep_last:
        parts.append(f"keep the {policy.keep_last} newest tagged")
    parts.append(f"grace {format_duration(policy.grace)}")
    parts.append(f"untagged: {policy.untagged}")
    if policy.tagged_older_than is not None:
        parts.append(f"tagged older than {format_duration(policy.tagged_older_than)}: delete")
    return ", ".join(parts)


def _protected(plans: Sequence[Plan]) -> tuple[int, int]:
    kept = [d for plan in plans for d in plan.kept if d.protected]
    referrers = sum(d.rule == "referrer" for d in kept)
    return len(kept) - referrers, referrers


def freed_total(plans: Sequence[Plan]) -> int:
    """Bytes freed by all the plans: each blob once, however many repositories' plans free it."""
    return sum({blob: size for plan in plans for blob, size in plan.decisions.blob_sizes.items()}.values())


def summary_line(plans: Sequence[Plan]) -> str:
    """``10 manifests, 32.24 MiB freed of 314.83 MiB, 24 protected as index children, 1 as a referrer``."""
    count = sum(len(plan.candidates) for plan in plans)
    naive = sum(plan.naive_bytes for plan in plans)
    children, referrers = _protected(plans)
    line = f"{count} {'manifest' if count == 1 else 'manifests'}, {human_size(freed_total(plans))} freed of"
    line += f" {human_size(naive)}, {children} protected as index children"
    if referrers:
        line += f", {referrers} as {'a referrer' if referrers == 1 else 'referrers'}"
    if len(plans) > 1:
        line += f" ({len(plans)} repositories)"
    return line


def write_plans(plans: Sequence[Plan], out: TextIO, *, now: dt.datetime) -> None:
    """Each plan as a title line, a table of its candidates (if any) and its summary; then a total."""
    console, buffer = _console(out)
    for number, plan in enumerate(plans):
        if number:
            console.print()
        title = f"{plan.registry}/{plan.repository}: {policy_text(plan.policy)}"
        console.print(Text(visible(title), style="bold"))
        if plan.candidates:
            console.print(_table(plan, now))
            console.print(Text(summary_line([plan])), style="dim" if buffer is None else None)
        else:
            children, referrers = _protected([plan])
            kept = f"nothing to delete: {len(plan.kept)} manifests kept, {children} protected as index children"
            console.print(Text(kept + (f", {referrers} as referrers" if referrers else "")))
    if len(plans) > 1:
        console.print()
        console.print(Text(f"total: {summary_line(plans)}", style="bold"))
    if buffer is not None:
        out.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))
        out.flush()


def _table(plan: Plan, now: dt.datetime) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("Digest", no_wrap=True, style="cyan")
    table.add_column("Tags", overflow="fold", min_width=6)
    table.add_column("Updated", no_wrap=True)
    table.add_column("Reason", overflow="fold", min_width=20)
    table.add_column("Freed", justify="right", no_wrap=True)
    for candidate in plan.candidates:
        tags = ", ".join(visible(tag) for tag in candidate.tags) or UNTAGGED
        reason = _DIGEST.sub(r"\1", visible(candidate.reason))
        freed = human_size(plan.decisions.freed_bytes_of(candidate.digest))
        updated = human_age(candidate.updated_at, now)
        table.add_row(*map(Text, (visible(short_digest(candidate.digest)), tags, updated, reason, freed)))
    return table


def _console(out: TextIO) -> tuple[Console, io.StringIO | None]:
    if isatty(out):
        return Console(file=out, highlight=False, emoji=False), None
    buffer = io.StringIO()
    plain = Console(file=buffer, width=PIPE_WIDTH, no_color=True, color_system=None, highlight=False, emoji=False)
    return plain, buffer


def plans_json(plans: Sequence[Plan], *, one_line: bool = False) -> str:
    """One plan's JSON (``Plan.to_json``), or a list of them for several repositories."""
    if len(plans) == 1 and not one_line:
        return json_text(plans[0].to_json())
    data: Any = [json.loads(plan.to_json()) for plan in plans]
    if one_line:
        return "\n".join(json_text(json.dumps(item, ensure_ascii=False, separators=(",", ":"))) for item in data) + "\n"
    return json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def naive_note(plans: Sequence[Plan]) -> str | None:
    """What a naive "delete untagged manifests older than the grace" would break that the plans keep."""
    lost = [(plan, d) for plan in plans for d in plan.kept if d.protected and not d.tags]
    if not lost:
        return None
    images: dict[str, str] = {}
    referrers = 0
    for plan, decision in lost:
        if decision.rule == "referrer":
            referrers += 1
            continue
        via = next((k for k in plan.kept if k.digest == decision.via), None)
        name = via.tags[0] if via is not None and via.tags else short_digest(decision.via)
        images.setdefault(f"{plan.repository}:{name}" if len(plans) > 1 else name, "")
    named = ", ".join(visible(name) for name in images)
    note = f"a naive clean-up of untagged manifests older than the grace would also delete the {len(lost)}"
    note += f" manifests this plan protects, breaking {len(images)} multi-arch images ({named})"
    if referrers:
        note += f" and losing {referrers} {'signature or SBOM' if referrers == 1 else 'signatures and SBOMs'}"
    return note


def report_line(plan: Plan, report: ApplyReport) -> str:
    """``example/app: deleted 10 of 10 manifests, 32.24 MiB to be freed by garbage collection``."""
    done = len(report.deleted)
    line = f"{plan.registry}/{plan.repository}: deleted {done} of {len(plan.candidates)} manifests"
    extra = [
        f"{len(report.already_gone)} already gone" if report.already_gone else "",
        f"{len(report.skipped)} skipped (changed since the plan)" if report.skipped else "",
        f"{len(report.failed)} failed" if report.failed else "",
        f"{len(report.unfinished)} not done" if report.unfinished else "",
    ]
    line += "".join(f", {part}" for part in extra if part)
    return line + f"; {human_size(report.freed_bytes)} to be freed by garbage collection"


def applied_freed(plans: Sequence[Plan], reports: Sequence[ApplyReport]) -> int:
    """Bytes the applies so far free, each blob once (two repositories' plans may free the same blob)."""
    freed: dict[str, int] = {}
    for plan, report in zip(plans, reports, strict=True):
        gone = {*report.deleted, *report.already_gone}
        holders: dict[str, set[str]] = {}
        for candidate in plan.candidates:
            for blob in candidate.blobs:
                holders.setdefault(blob, set()).add(candidate.digest)
        for blob, names in holders.items():
            if names <= gone and names & set(report.deleted):
                freed[blob] = plan.decisions.blob_sizes.get(blob, 0)
    return sum(freed.values())


def summary_json(plans: Sequence[Plan], reports: Sequence[ApplyReport], gc: dict[str, Any] | None) -> str:
    """The one line CI logs parse: counts over every repository, bytes, and the garbage collection."""
    data = {
        "registry": plans[0].registry if plans else None,
        "repositories": [plan.repository for plan in plans],
        "candidates": sum(len(plan.candidates) for plan in plans),
        "deleted": sum(len(r.deleted) for r in reports),
        "already_gone": sum(len(r.already_gone) for r in reports),
        "skipped": sum(len(r.skipped) for r in reports),
        "failed": sum(len(r.failed) for r in reports),
        "unfinished": sum(len(r.unfinished) for r in reports),
        "freed_bytes_expected": applied_freed(plans, reports),
        "naive_bytes": sum(plan.naive_bytes for plan in plans),
        "gc": gc,
    }
    return json_text(json.dumps(data, ensure_ascii=False, separators=(",", ":"))) + "\n"
