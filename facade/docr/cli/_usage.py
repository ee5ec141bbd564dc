"""``docr usage REGISTRY``: where a registry's storage goes, repository by repository.

The steps: parse REGISTRY and the options (usage errors first), read the policy file, find a token
(or start the embedded fake of ``--demo``, seeded with ``seed_demo``), walk every repository with
``docr.usage`` (a progress bar on a terminal's stderr), print the table, JSON or CSV.

Every value from the server is printed safely (``_sanitize``): ``visible`` in the table and CSV,
``json_text`` in JSON. Repository names are checked before any request is built from them, so a
listing naming an impossible repository fails the command (one escaped line), never quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from docr.cli import _client, _filters
from docr.cli._args import DOCR_HOST
from docr.cli._demo import Demo
from docr.cli._errors import EXIT_OK, CommandError, UsageError, explain, warn
from docr.cli._humanize import human_size
from docr.cli._options import add_api_options, output_format
from docr.cli._output import isatty
from docr.cli._sanitize import json_text, one_line, visible

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from docr._schedule import RegistryProgress
    from docr._usage_models import RepositoryUsage, Usage, UsageTotals

__all__ = ["DESCRIPTION", "EPILOG", "add_arguments", "render_table", "run"]

DESCRIPTION = "Show where a registry's storage goes: per repository, its own and shared bytes, and what a prune frees."
EPILOG = f"""\
REGISTRY is [{DOCR_HOST}/]REGISTRY. Every repository is walked (many at once, at the API's rate
limit); memory grows with the repositories, not the manifests.

Columns: manifests (tagged/untagged); "compressed sum", the sum of the manifests' compressed sizes
as registry UIs show it (a shared layer counts once per manifest); "unique", blobs no other
repository references (what deleting the repository frees); "shared", blobs another repository
references too; "reclaimable", what a prune under the policy frees (--policy FILE, else docr
prune's default: untagged manifests older than a day). The totals count each blob once, so
unique + shared is comparable to the registry's storage_usage_bytes.

-o json: {{"registry", "repositories": [{{"name", "manifests", "tagged", "untagged",
"compressed_bytes_sum", "unique_bytes", "shared_bytes", "reclaimable_bytes"}}], "totals": {{...}},
"storage_usage_bytes", "included_storage_bytes"}}

Exit codes: 0 ok, 1 API or network error, 2 usage error or no token, 130 interrupted.

examples:
  docr usage example
  docr usage example --repos 'web/*' -o csv > usage.csv
  docr usage example --policy retention.toml -o json
  docr usage example --demo
"""
FORMATS = ("table", "json", "csv")
CSV_FIELDS = (
    "name",
    "manifests",
    "tagged",
    "untagged",
    "compressed_bytes_sum",
    "unique_bytes",
    "shared_bytes",
    "reclaimable_bytes",
)
BAR_WIDTH = 20
BARS_FROM_WIDTH = 120  # columns a terminal needs for the bars beside the numbers
PIPE_WIDTH = 1000


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("registry", metavar="REGISTRY", help=f"[{DOCR_HOST}/]REGISTRY, e.g. example")
    cmd.add_argument(
        "--repos",
        metavar="GLOB",
        action="append",
        help="only repositories matching GLOB (fnmatch, case-sensitive, e.g. 'web/*'); repeat for any of several",
    )
    cmd.add_argument(
        "--policy",
        metavar="FILE",
        help="retention policy file (TOML, as docr prune reads) for the reclaimable bytes (default: prune's default)",
    )
    out = cmd.add_argument_group("output")
    out.add_argument(
        "-o",
        "--output",
        choices=FORMATS,
        help="table (default on a terminal, with a bar per repository), json (default otherwise) or csv",
    )
    out.add_argument("--no-header", action="store_true", help="table and csv: no header (and no summary lines)")
    api = add_api_options(cmd, items="repositories and manifests")
    api.add_argument(
        "--registry-url",
        metavar="URL",
        help=f"where manifest bodies are read (default https://{DOCR_HOST}); only indexes' are",
    )


def run(args: argparse.Namespace) -> int:
    from docr._errors import DocrError, InvalidArgument
    from docr._usage import measure

    stdout, stderr = sys.stdout, sys.stderr
    registry = _registry(args)
    output = output_format(args, stdout)
    clock = _filters.now()
    policy = _policy(args)
    demo_oci: list[str] = []

    with contextlib.ExitStack() as stack:
        connection = _client.connect(args, stack, stderr, demo=lambda: _demo(registry, clock, demo_oci))
        oci_base_url = demo_oci[0] if demo_oci else args.registry_url
        progress = stack.enter_context(_Progress(stderr, label=registry))
        try:
            client = stack.enter_context(
                _client.make_client(
                    args, token=connection.token.value, base_url=connection.base_url, oci_base_url=oci_base_url
                )
            )
            paging = {} if args.per_page is None else {"per_page": args.per_page}
            report = measure(
                client,
                registry,
                repositories=args.repos,
                policy=policy,
                on_progress=progress.update,
                now=clock,
                **paging,
            )
        except InvalidArgument as error:
            if error.argument != "repository_name":
                raise explain(error, target=registry) from error
            # The registry's own listing named it: the server's fault, not the command line's.
            raise CommandError(one_line(str(error).removeprefix("repository_name: "), 400)) from error
        except DocrError as error:
            raise explain(
                error, target=registry, token_source=connection.token.source, api_url=connection.api_url
            ) from error
        progress.close()
    if report.unreadable:
        warn(
            f"{report.unreadable} index bodies could not be read: reclaimable bytes fail closed in their"
            " repositories (no untagged manifest counted)",
            stderr,
        )
    if output == "json":
        stdout.write(json_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False)) + "\n")
    elif output == "csv":
        write_csv(report, stdout, header=not args.no_header)
    else:
        render_table(report, stdout, header=not args.no_header, bars=isatty(stdout))
    stdout.flush()
    return EXIT_OK


def _registry(args: argparse.Namespace) -> str:
    """REGISTRY, checked before anything else."""
    from docr import _names
    from docr._errors import DocrError

    text: str = args.registry.strip().removeprefix(f"{DOCR_HOST}/").rstrip("/")
    if "/" in text:
        raise UsageError(f"{one_line(args.registry)!r} names a repository; docr usage takes a registry, e.g. example")
    try:
        _names.registry_name(text)
    except DocrError as error:
        raise explain(error, target=text) from None
    _client.check_demo(args)
    if args.demo and args.registry_url:
        raise UsageError("--demo reads the embedded fake registry; drop --registry-url, or --demo")
    return text


def _policy(args: argparse.Namespace) -> Any:
    if args.policy is None:
        return None
    from docr.retention import PolicyFileError, load_policy_file

    try:
        return load_policy_file(args.policy)
    except PolicyFileError as error:
        raise UsageError(str(error).removeprefix("policy file: ")) from None


@contextlib.contextmanager
def _demo(registry: str, now: dt.datetime, oci: list[str]) -> Iterator[Demo]:
    """An embedded fake holding ``seed_demo``'s registry (ages relative to ``now``)."""
    from docr.testing import FakeRegistry

    with FakeRegistry() as fake:
        repositories = fake.seed_demo(registry, now=now)
        oci.append(fake.oci_url)
        notice = (
            f"demo: {len(repositories)} sample repositories from an embedded fake registry ({fake.url}),"
            " not DigitalOcean; no token used"
        )
        yield Demo(url=fake.url, token="demo-token", notice=notice)


# --- output -----------------------------------------------------------------------------------


def write_csv(report: Usage, out: TextIO, *, header: bool = True) -> None:
    """One row per repository (by name), the JSON's names as the header."""
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(CSV_FIELDS)
    for row in report.repositories:
        values = row.to_dict()
        writer.writerow([visible(row.name), *(values[name] for name in CSV_FIELDS[1:])])


def render_table(
    report: Usage, out: TextIO, *, header: bool = True, bars: bool = False, width: int | None = None
) -> None:
    """The table, largest repositories first, then the totals and the registry's figures.

    ``bars``: a bar per repository (its own bytes, then its shared bytes) scaled to the largest.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    tty = isatty(out) and width is None
    buffer = out if tty else io.StringIO()
    console = Console(
        file=buffer, width=None if tty else (width or PIPE_WIDTH), highlight=False, emoji=False, no_color=not tty
    )
    bars = bars and console.width >= BARS_FROM_WIDTH  # a narrow terminal keeps the numbers whole instead
    rows = sorted(report.repositories, key=lambda row: (-row.stored_bytes, row.name))
    table = Table(
        box=box.SIMPLE_HEAD if header else None,
        show_header=header,
        show_edge=False,
        pad_edge=False,
        padding=0,  # the box draws one space between columns: 80 columns hold every number
    )
    # On a narrow terminal headers wrap and names fold before any number is cut.
    table.add_column("Repository", overflow="fold", min_width=12, style="cyan")
    for title in ("Manifests", "Untagged"):  # tagged: the difference (in the JSON and CSV)
        table.add_column(title, justify="right", min_width=5)
    for title in ("Compressed Sum", "Unique", "Shared", "Reclaimable"):
        table.add_column(title, justify="right", min_width=10)
    if bars:
        table.add_column("", no_wrap=True, min_width=BAR_WIDTH)
    largest = max((row.stored_bytes for row in rows), default=0)
    for row in rows:
        cells = [Text(visible(row.name)), *(Text(value) for value in _figures(row))]
        if bars:
            cells.append(_bar(row, largest))
        table.add_row(*cells)
    if header and rows:
        table.add_section()
        table.add_row(Text("total"), *(Text(value) for value in _figures(report.totals)), style="bold")
    console.print(table)
    if header:
        for line in summary_lines(report):
            console.print(Text(line))
    if not tty:
        assert isinstance(buffer, io.StringIO)
        out.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


def _figures(row: RepositoryUsage | UsageTotals) -> list[str]:
    return [
        f"{row.manifests:,}",
        f"{row.untagged:,}",
        human_size(row.compressed_bytes_sum),
        human_size(row.unique_bytes),
        human_size(row.shared_bytes),
        human_size(row.reclaimable_bytes),
    ]


def _bar(row: RepositoryUsage, largest: int) -> Any:
    from rich.text import Text

    if largest <= 0:
        return Text("")
    own = round(BAR_WIDTH * row.unique_bytes / largest)
    shared = round(BAR_WIDTH * row.stored_bytes / largest) - own
    bar = Text("█" * own, style="magenta")
    bar.append("▒" * max(0, shared), style="blue")
    return bar


def summary_lines(report: Usage) -> list[str]:
    """The registry's figures under the table."""
    totals = report.totals
    count = len(report.repositories)
    stored = totals.unique_bytes + totals.shared_bytes
    lines = [
        f"{count} {'repository' if count == 1 else 'repositories'} of {visible(report.registry)}:"
        f" {human_size(stored)} in blobs, each counted once ({human_size(totals.compressed_bytes_sum)} summed per"
        " manifest)"
    ]
    used = "unknown" if report.storage_usage_bytes is None else human_size(report.storage_usage_bytes)
    line = f"storage used (registry): {used}"
    if report.included_storage_bytes is not None:
        line += f" of {human_size(report.included_storage_bytes)} included"
        if report.storage_usage_bytes is not None and report.included_storage_bytes > 0:
            line += f" ({100 * report.storage_usage_bytes / report.included_storage_bytes:.1f}%)"
    lines.append(line)
    lines.append(f"a prune under the policy frees {human_size(totals.reclaimable_bytes)} (after garbage collection)")
    return lines


class _Progress:
    """``on_progress`` for ``docr.usage``: a bar on a terminal's stderr, nothing elsewhere."""

    def __init__(self, stream: TextIO, *, label: str) -> None:
        self._stream = stream
        self._enabled = isatty(stream)
        self._label = one_line(label)
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def update(self, state: RegistryProgress) -> None:
        if not self._enabled:
            return
        if self._progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("repositories, {task.fields[manifests]:,} manifests", markup=False),
                TimeElapsedColumn(),
                console=Console(file=self._stream),
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = self._progress.add_task(f"Walking {self._label}", total=None, manifests=0)
            self._progress.start()
        assert self._task is not None
        total = state.repositories if state.listed else None
        self._progress.update(self._task, completed=state.repositories_done, total=total, manifests=state.manifests)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        self._enabled = False

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
