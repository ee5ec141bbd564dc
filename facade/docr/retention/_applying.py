"""Applying a plan to the registry: ``apply`` for ``docr.Client``, ``aapply`` for ``docr.AsyncClient``.

Usage::

    report = retention.apply(client, plan, journal="prune.journal", on_progress=print)
    print(len(report.deleted), "deleted;", report.failed or "no failures")

    report = await retention.aapply(async_client, plan, journal="prune.journal")

What happens, in order:

1. The journal opens (a path, a ``Journal``, or ``None`` to keep it in memory); candidates it
   records as deleted or already gone are done, and if all are, nothing is sent.
2. The repository is listed again, and the bodies of the candidates still there and of any
   manifest that appeared since the plan are read; ``Schedule`` (pure) decides from them what is
   gone, what changed (skipped, and whatever it references with it) and the order.
3. Deletes go ``concurrency`` at a time, each paced by the client's rate budget (so a normal run
   meets no 429) and retried by the client; a delete whose answer was lost finds the manifest
   gone on its retry and counts as done. Each is journaled as an ``attempt`` before it is sent
   and with its outcome when it ends (deleted, already gone, failed with the error).

Interrupted (Ctrl-C, a crash, an exception from ``on_progress``), a run waits a few seconds for
the deletes in flight and journals them; rerun with the same journal to continue: nothing
finished is sent again, and an ``attempt`` whose manifest is gone counts as deleted.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from docr._errors import ClientClosedError, DocrError, InvalidArgument, NotFoundError
from docr.retention._apply import ApplyReport
from docr.retention._journal import Journal, Outcome
from docr.retention._plan import Plan
from docr.retention._reading import aread_bodies, check_concurrency, read_bodies, reason
from docr.retention._schedule import Event, Schedule
from docr.retention._types import ListedManifest

if TYPE_CHECKING:  # asyncio is imported by the async functions only: sync users never load it
    import asyncio

    from docr._async_client import AsyncClient
    from docr._client import Client

__all__ = ["ApplyEvent", "aapply", "apply"]

DEFAULT_CONCURRENCY = 8
SETTLE_SECONDS = 5.0  # how long an interrupted run waits for the deletes in flight
_Result = tuple[Outcome, dict[str, Any]]


@dataclass(frozen=True)
class ApplyEvent:
    """One candidate's outcome, as ``on_progress`` sees it: ``outcome`` is ``deleted``,
    ``already-gone``, ``skipped`` or ``failed``; ``detail`` why it was skipped or the error;
    ``completed`` of ``total`` candidates have an outcome (in this run or a journaled one)."""

    digest: str
    outcome: Outcome
    detail: str | None
    completed: int
    total: int


OnProgress = Callable[[ApplyEvent], object]


def apply(
    client: Client,
    plan: Plan,
    *,
    journal: Journal | str | os.PathLike[str] | None = None,
    on_progress: OnProgress | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> ApplyReport:
    """Delete the plan's candidates that are still as planned; see the module docstring."""
    from docr._workers import Workers

    run = _Run(plan, journal, on_progress, concurrency)
    if not run.todo:
        return run.report()
    current = _listing(lambda: list(client.iter_manifests(plan.registry, plan.repository)))
    bodies = read_bodies(client, plan.registry, plan.repository, run.to_read(current), concurrency=concurrency)
    schedule = run.schedule(current, *bodies)
    workers = Workers(concurrency, name="docr-retention-delete", waitable=True)
    pending: dict[concurrent.futures.Future[_Result], str] = {}
    try:
        while not schedule.finished:
            for digest in schedule.ready(concurrency - len(pending)):
                run.journal.record(digest, "attempt")
                pending[workers.submit(_delete, client, plan, digest)] = digest
            _check_progress(pending)
            ended, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in ended:
                run.finish(schedule, pending.pop(future), future.result())
    except BaseException:
        concurrent.futures.wait(pending, timeout=SETTLE_SECONDS)
        run.settle((digest, future.result()) for future, digest in pending.items() if _succeeded(future))
        raise
    finally:
        workers.cancel()
    return run.report()


async def aapply(
    client: AsyncClient,
    plan: Plan,
    *,
    journal: Journal | str | os.PathLike[str] | None = None,
    on_progress: OnProgress | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> ApplyReport:
    """``apply`` for ``docr.AsyncClient``."""
    import asyncio

    run = _Run(plan, journal, on_progress, concurrency)
    if not run.todo:
        return run.report()
    try:
        current: list[ListedManifest] = [m async for m in client.iter_manifests(plan.registry, plan.repository)]
    except NotFoundError:
        current = []
    bodies = await aread_bodies(client, plan.registry, plan.repository, run.to_read(current), concurrency=concurrency)
    schedule = run.schedule(current, *bodies)
    pending: dict[asyncio.Task[_Result], str] = {}
    try:
        while not schedule.finished:
            for digest in schedule.ready(concurrency - len(pending)):
                run.journal.record(digest, "attempt")
                pending[asyncio.ensure_future(_adelete(client, plan, digest))] = digest
            _check_progress(pending)
            ended, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in ended:
                run.finish(schedule, pending.pop(task), task.result())
    except BaseException:
        if pending:
            await asyncio.wait(pending, timeout=SETTLE_SECONDS)
        run.settle((digest, task.result()) for task, digest in pending.items() if _succeeded(task))
        raise
    finally:
        for task in pending:
            task.cancel()
    return run.report()


class _Run:
    """What ``apply`` and ``aapply`` share: the journal, progress and the report. No network."""

    def __init__(
        self, plan: Plan, journal: Journal | str | os.PathLike[str] | None, on_progress: Any, concurrency: int
    ):
        if not isinstance(plan, Plan):
            raise TypeError(f"plan must be a docr.retention.Plan, not {type(plan).__name__}")
        if on_progress is not None and not callable(on_progress):
            raise InvalidArgument("on_progress", "must be a callable taking an ApplyEvent, or None")
        check_concurrency(concurrency)
        if isinstance(journal, Journal):
            if journal.plan_id != plan.id:
                raise InvalidArgument("journal", f"belongs to plan {journal.plan_id}, not {plan.id}")
            self.journal = journal
        else:
            self.journal = Journal(journal, plan.id)
        self.plan = plan
        self._on_progress: OnProgress | None = on_progress
        self._done = self.journal.done()
        self.todo = [c.digest for c in plan.candidates if c.digest not in self._done]
        self._completed = len(plan.candidates) - len(self.todo)

    def to_read(self, current: Iterable[ListedManifest]) -> list[str]:
        """The bodies the schedule needs: candidates still there and manifests new since the plan."""
        planned = {d.digest for d in self.plan.candidates} | {d.digest for d in self.plan.kept}
        todo = set(self.todo)
        return [m.digest for m in current if m.digest and (m.digest in todo or m.digest not in planned)]

    def schedule(self, current: list[ListedManifest], oci: Any, unreadable: Any) -> Schedule:
        schedule = Schedule(self.plan, done=self._done, current=current, oci=oci, unreadable=unreadable)
        self._record(schedule.initial)
        return schedule

    def finish(self, schedule: Schedule, digest: str, result: _Result) -> None:
        self._record(schedule.finish(digest, *result))

    def settle(self, results: Iterable[tuple[str, _Result]]) -> None:
        """Journal the outcomes of deletes that ended after the run was interrupted (no progress calls)."""
        for digest, (outcome, details) in results:
            self.journal.record(digest, outcome, **details)

    def report(self) -> ApplyReport:
        return ApplyReport.from_journal(self.plan, self.journal)

    def _record(self, events: list[Event]) -> None:
        # Every outcome is on disk before anyone hears of it: a callback that raises loses nothing.
        for event in events:
            self.journal.record(event.digest, event.outcome, **event.details)
        for event in events:
            self._completed += 1
            if self._on_progress is not None:
                detail = event.details.get("why", event.details.get("error"))
                total = len(self.plan.candidates)
                self._on_progress(ApplyEvent(event.digest, event.outcome, detail, self._completed, total))


def _listing(read: Callable[[], list[Any]]) -> list[ListedManifest]:
    try:
        return read()
    except NotFoundError:  # the repository is gone, and with it every candidate
        return []


def _delete(client: Client, plan: Plan, digest: str) -> _Result:
    try:
        client.delete_manifest(plan.registry, plan.repository, digest)
    except ClientClosedError:
        raise
    except NotFoundError:  # gone before this run's first attempt reached it
        return "already-gone", {}
    except DocrError as error:
        return "failed", {"error": reason(error)}
    return "deleted", {}


async def _adelete(client: AsyncClient, plan: Plan, digest: str) -> _Result:
    try:
        await client.delete_manifest(plan.registry, plan.repository, digest)
    except ClientClosedError:
        raise
    except NotFoundError:
        return "already-gone", {}
    except DocrError as error:
        return "failed", {"error": reason(error)}
    return "deleted", {}


def _check_progress(pending: dict[Any, str]) -> None:
    if not pending:  # waiting candidates, none ready, none in flight: a reference cycle
        raise AssertionError("the apply stalled: candidates wait on each other")  # pragma: no cover


def _succeeded(future: concurrent.futures.Future[_Result] | asyncio.Future[_Result]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None
