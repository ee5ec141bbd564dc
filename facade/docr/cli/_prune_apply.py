"""``docr prune --apply`` and ``--gc``: asking first, deleting with a progress bar, collecting garbage.

Usage (by ``_prune``)::

    if confirm("Delete 10 manifests ...?", sys.stdin, sys.stderr): ...
    reports = apply_plans(client, plans, journal=args.journal, stderr=sys.stderr)
    collection = collect_garbage(client, "example", poll_seconds=10.0, stderr=sys.stderr)

The bar is drawn only when stderr is a terminal; failures and garbage-collection statuses are
one line each on stderr anywhere (CI logs see them). Garbage collection is started for
unreferenced blobs only: docr has already deleted the manifests its plans chose, and DOCR's
"untagged manifests" collection would also delete what those plans deliberately keep (the
signatures and SBOMs of kept images, which nothing else references).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from docr.cli._errors import EXIT_API, EXIT_OK, CommandError, UsageError, say, warn
from docr.cli._output import isatty
from docr.cli._sanitize import one_line
from docr.retention import ApplyEvent, ApplyReport, JournalError, Plan, apply

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    import docr

__all__ = ["GC_POLL_SECONDS", "DeleteProgress", "apply_and_report", "apply_plans", "collect_garbage", "confirm"]

GC_POLL_SECONDS = 10.0  # how often --gc asks how the garbage collection is going


def apply_and_report(
    client: docr.Client, plans: list[Plan], args: argparse.Namespace, output: str, *, demo: bool
) -> int:
    from docr.cli._humanize import human_size
    from docr.cli._prune_demo import GC_POLL_SECONDS as DEMO_POLL
    from docr.cli._prune_output import applied_freed, freed_total, report_line, summary_json

    stdout, stderr = sys.stdout, sys.stderr
    count = sum(len(plan.candidates) for plan in plans)
    if count == 0:
        say("nothing to delete", stderr)
    elif not args.yes:
        where = plans[0].registry if len(plans) > 1 else f"{plans[0].registry}/{plans[0].repository}"
        question = f"Delete {count} manifests from {where} ({human_size(freed_total(plans))} freed)?"
        if not confirm(question, sys.stdin, stderr):
            raise CommandError("cancelled: nothing was deleted")
    try:
        reports = apply_plans(client, plans, journal=args.journal, stderr=stderr)
    except JournalError as error:
        if args.from_plan:
            raise
        # A fresh plan is a new plan: only the saved plan a journal records can resume from it.
        raise UsageError(
            f"{error}. To resume that apply, run it again with --from-plan and the plan it applied"
            " (save plans with --plan-out)"
        ) from None
    except KeyboardInterrupt:
        if args.from_plan and args.journal:
            say("interrupted: the deletes in flight were journaled; rerun the same command to continue", stderr)
        else:
            say("interrupted: run the command again to plan afresh from what is left", stderr)
        raise
    if output == "table":
        for plan, report in zip(plans, reports, strict=True):
            if plan.candidates:
                stdout.write(report_line(plan, report) + "\n")
    gc: dict[str, Any] | None = None
    failed = any(not report.complete for report in reports)
    if args.gc:
        if not any(report.deleted for report in reports):
            say("nothing was deleted: no garbage collection started", stderr)
        else:
            registry = plans[0].registry
            poll = DEMO_POLL if demo else GC_POLL_SECONDS
            collection = collect_garbage(client, registry, poll_seconds=poll, stderr=stderr)
            estimate = applied_freed(plans, reports)
            gc = {
                "uuid": collection.uuid,
                "status": collection.status,
                "blobs_deleted": collection.blobs_deleted,
                "freed_bytes": collection.freed_bytes,
                "estimated_bytes": estimate,
            }
            failed = failed or collection.status != "succeeded"
            if output == "table":
                freed, planned = human_size(collection.freed_bytes), human_size(estimate)
                stdout.write(
                    f"garbage collection {collection.uuid}: {collection.status}, {collection.blobs_deleted} blobs"
                    f" deleted, {freed} freed (the plan estimated {planned})\n"
                )
    if output == "json":
        stdout.write(summary_json(plans, reports, gc))
    stdout.flush()
    return EXIT_API if failed else EXIT_OK


def confirm(question: str, stdin: TextIO, stderr: TextIO) -> bool:
    """Ask ``question [y/N]`` on stderr; only ``y`` or ``yes`` (any case) is a yes."""
    stderr.write(f"{one_line(question)} [y/N] ")
    stderr.flush()
    return stdin.readline().strip().lower() in ("y", "yes")


def journal_path(journal: str | None, plan: Plan, *, several: bool) -> Path | None:
    """``--journal FILE`` for one plan; for several, a directory with one journal per repository."""
    if journal is None:
        return None
    if not several:
        return Path(journal)
    directory = Path(journal)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{quote(plan.repository, safe='')}.journal"


def apply_plans(
    client: docr.Client, plans: Sequence[Plan], *, journal: str | None, stderr: TextIO
) -> list[ApplyReport]:
    """Apply each plan in turn (each one's deletes run concurrently), with a bar per repository."""
    reports = []
    for plan in plans:
        path = journal_path(journal, plan, several=len(plans) > 1)
        label = f"Deleting {plan.registry}/{plan.repository}"
        with DeleteProgress(stderr, label=label, total=len(plan.candidates)) as progress:
            reports.append(apply(client, plan, journal=path, on_progress=progress))
    return reports


class DeleteProgress:
    """``on_progress`` for ``retention.apply``: a bar on a terminal, and a line for each failure."""

    def __init__(self, stream: TextIO, *, label: str, total: int) -> None:
        self._stream = stream
        self._label = one_line(label)
        self._total = total
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if total and isatty(stream):
            self._start()

    def __call__(self, event: ApplyEvent) -> None:
        with self._lock:
            if event.outcome == "failed":
                self._print(f"docr: warning: could not delete {event.digest}: {one_line(event.detail or '')}")
            if self._progress is not None and self._task is not None:
                self._progress.update(self._task, completed=event.completed)

    def _print(self, line: str) -> None:
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self._stream)

    def _start(self) -> None:
        from docr.cli._progress import manifest_bar

        self._progress = manifest_bar(self._stream)
        self._task = self._progress.add_task(self._label, total=self._total)
        self._progress.start()

    def close(self) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.stop()
                self._progress = None

    def __enter__(self) -> DeleteProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def collect_garbage(
    client: docr.Client, registry: str, *, poll_seconds: float, stderr: TextIO
) -> docr.GarbageCollection:
    """Start a garbage collection of unreferenced blobs and wait for it, saying each status on stderr."""
    started = client.start_garbage_collection(registry, untagged_manifests=False, unreferenced_blobs=True)
    say(
        f"garbage collection {started.uuid} of {registry} started (unreferenced blobs);"
        " the registry is read-only until it ends",
        stderr,
    )

    def on_status(collection: docr.GarbageCollection) -> None:
        say(f"garbage collection: {collection.status}", stderr)

    finished = client.wait_garbage_collection(
        registry, started.uuid or "", poll_interval=poll_seconds, on_status=on_status
    )
    if finished.status != "succeeded":
        warn(f"garbage collection {finished.uuid} ended {finished.status}", stderr)
    return finished
