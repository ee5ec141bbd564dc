"""``docr prune REF``: plan a clean-up by a retention policy; with ``--apply``, carry it out.

The steps, in order: check the flags (every usage error before any request), find a token (or
start the embedded demo registry), plan (``docr.retention.plan`` or ``plan_registry``) or read a
saved plan, print it (table or JSON) and save it (``--plan-out``); with ``--apply``: ask (or
``--yes``), delete with a journal (``_prune_apply``), print what happened and, with ``-o json``,
one summary line for CI; with ``--gc``: collect garbage and print what it freed beside the estimate.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from docr.cli import _client, _filters
from docr.cli._args import DOCR_HOST, duration
from docr.cli._errors import EXIT_OK, CommandError, UsageError, explain, say, warn
from docr.cli._output import isatty
from docr.cli._prune_args import Request, count, parse_request

if TYPE_CHECKING:
    import docr
    from docr.cli._prune_demo import PruneDemo
    from docr.retention import Plan

__all__ = ["DESCRIPTION", "EPILOG", "REGISTRY_URL_VARIABLE", "add_arguments", "run"]

REGISTRY_URL_VARIABLE = "DOCR_REGISTRY_URL"

DESCRIPTION = (
    "Delete what a retention policy does not keep: a dry run by default, safe for multi-arch images,"
    " with the bytes it frees."
)
EPILOG = f"""\
REF is [{DOCR_HOST}/]REGISTRY/REPOSITORY; with --policy FILE it may be just REGISTRY, and every
repository a section of FILE matches is planned. Without --policy the flags make the policy
(default: delete untagged manifests not updated for a day, keep 'latest').

Nothing is deleted without --apply, which asks first (--yes in scripts). The platform and
attestation manifests of kept image indexes and the referrers of kept manifests (signatures,
SBOMs) are always kept; if any manifest cannot be read, no untagged manifest is deleted.

To be able to resume after a crash or Ctrl-C, save the plan and apply it with a journal:
  docr prune example/my/repo --plan-out plan.json
  docr prune --from-plan plan.json --apply --yes --journal prune.journal   # rerun it to continue

Image indexes are read from the registry itself: https://registry.digitalocean.com, or
${REGISTRY_URL_VARIABLE} (e.g. the registry URL a `docr fake-server` prints).

Exit codes: 0 done, 1 some deletes failed (or an API error), 2 usage error, 130 interrupted.

examples:
  docr prune example/my/repo                                # dry run: what would go, and why
  docr prune example/my/repo --keep-last 10 --keep-tag 'v*' --tagged-older-than 90d
  docr prune example --policy retention.toml -o json > plan.json
  docr prune example/my/repo --apply --yes --gc -o json     # in CI: the last line sums it up
  docr prune --demo                                         # an embedded registry, no account
"""


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "ref", metavar="REF", nargs="?", help=f"[{DOCR_HOST}/]REGISTRY/REPOSITORY, or REGISTRY with --policy"
    )
    rules = cmd.add_argument_group("policy (these flags, or --policy FILE)")
    rules.add_argument("--keep-last", metavar="N", type=count, help="keep the N most recently updated tagged manifests")
    rules.add_argument(
        "--keep-tag",
        metavar="GLOB",
        action="append",
        dest="keep_tags",
        help="keep manifests with a tag matching GLOB (fnmatch); repeat for several (default: latest;"
        " giving any replaces it)",
    )
    rules.add_argument("--grace", metavar="AGE", type=duration, help="delete nothing updated within AGE (default 1d)")
    rules.add_argument("--keep-untagged", action="store_true", help="keep untagged manifests (default: delete them)")
    rules.add_argument(
        "--tagged-older-than",
        metavar="AGE",
        type=duration,
        help="also delete tagged manifests older than AGE (beyond --keep-last, not matching --keep-tag)",
    )
    rules.add_argument("--policy", metavar="FILE", help="a TOML policy file: [[policy]] sections per repository glob")
    steps = cmd.add_argument_group("plan and apply (a dry run unless --apply)")
    steps.add_argument("--plan-out", metavar="FILE", help="save the plan as JSON, to review and --from-plan it later")
    steps.add_argument("--apply", action="store_true", help="delete the plan's manifests (asks first on a terminal)")
    steps.add_argument("--yes", action="store_true", help="with --apply: do not ask (for scripts)")
    steps.add_argument("--from-plan", metavar="FILE", help="apply a saved plan (implies --apply)")
    steps.add_argument(
        "--journal",
        metavar="FILE",
        help="record each delete in FILE (a directory for several repositories); rerun to resume",
    )
    steps.add_argument(
        "--gc", action="store_true", help="after applying, collect garbage, wait, and print the bytes it freed"
    )
    out = cmd.add_argument_group("output")
    out.add_argument(
        "-o",
        "--output",
        choices=("table", "json"),
        help="table (default on a terminal) or json: the plan (with --apply: one line each, then a summary line)",
    )
    api = cmd.add_argument_group("API")
    api.add_argument("--legacy-endpoint", action="store_true", help="use the deprecated /v2/registry/... path")
    api.add_argument("--api-url", metavar="URL", help="API base URL (default $DIGITALOCEAN_API_URL, else DO's)")
    api.add_argument("--context", metavar="NAME", help="use the token of this doctl auth context")
    api.add_argument(
        "--demo",
        action="store_true",
        help="prune a seeded registry in an embedded fake (default REF example/web/frontend)",
    )


def run(args: argparse.Namespace) -> int:
    from docr._errors import DocrError

    stdout, stderr = sys.stdout, sys.stderr
    request = parse_request(args)
    applying = bool(args.apply or args.from_plan)
    if applying and not args.yes and not isatty(sys.stdin):
        raise UsageError("--apply asks before deleting and stdin is not a terminal: add --yes to delete without asking")
    output = args.output or ("table" if isatty(stdout) else "json")
    clock = _filters.now()
    demos: list[PruneDemo] = []
    with contextlib.ExitStack() as stack:
        connection = _client.connect(args, stack, stderr, demo=lambda: _demo(request, clock, demos))
        oci_url = demos[0].oci_url if demos else os.environ.get(REGISTRY_URL_VARIABLE) or None
        if oci_url and not demos and _plain_http_elsewhere(oci_url):
            warn(f"{oci_url} is plain http: registry credentials travel unencrypted", stderr)
        try:
            client = stack.enter_context(
                _client.make_client(
                    args, token=connection.token.value, base_url=connection.base_url, oci_base_url=oci_url
                )
            )
            plans = _plans(client, request, clock, stderr)
            _show(plans, args, output, clock, demo=bool(demos), applying=applying)
            if not applying:
                if any(plan.candidates for plan in plans):
                    say("dry run: nothing was deleted; add --apply to delete these manifests", stderr)
                return EXIT_OK
            from docr.cli._prune_apply import apply_and_report

            return apply_and_report(client, plans, args, output, demo=bool(demos))
        except DocrError as error:
            token_source = connection.token.source
            raise explain(
                error, target=request.target, token_source=token_source, api_url=connection.api_url
            ) from error


@contextlib.contextmanager
def _demo(request: Request, now: dt.datetime, found: list[PruneDemo]) -> Iterator[PruneDemo]:
    from docr.cli._prune_demo import demo_registry

    with demo_registry(request.registry or "example", now=now) as demo:
        found.append(demo)
        yield demo


def _plans(client: docr.Client, request: Request, now: dt.datetime, stderr: TextIO) -> list[Plan]:
    from docr import retention

    if request.from_plan is not None:
        return _read_plans(request)
    if request.policy is not None:
        assert request.repository is not None
        with _status(stderr, f"Planning {request.target}"):
            return [retention.plan(client, request.registry, request.repository, request.policy, now=now)]
    assert request.policy_file is not None
    policies = retention.load_policy_file(request.policy_file)
    if request.repository is not None:
        policy = policies.for_repository(request.repository)
        if policy is None:
            say(f"no section of {request.policy_file} covers {request.target}: nothing to prune", stderr)
            return []
        with _status(stderr, f"Planning {request.target}"):
            return [retention.plan(client, request.registry, request.repository, policy, now=now)]
    with _status(stderr, f"Planning {request.registry}") as update:
        return retention.plan_registry(
            client, request.registry, policies, now=now, on_repository=lambda name: update(f"Planning {name}")
        )


def _read_plans(request: Request) -> list[Plan]:
    from docr.retention import Plan, PlanError

    assert request.from_plan is not None
    try:
        text = Path(request.from_plan).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(
            f"cannot read the plan {request.from_plan}: {getattr(error, 'strerror', None) or error}"
        ) from None
    try:
        data = json.loads(text) if text.lstrip().startswith("[") else None
    except ValueError as error:
        raise PlanError(f"is not a JSON plan file ({error})") from None
    plans = [Plan.from_json(text)] if data is None else [Plan.from_json(json.dumps(item)) for item in data]
    for plan in plans:
        wanted = (request.registry or plan.registry, request.repository or plan.repository)
        if (plan.registry, plan.repository) != wanted:
            raise UsageError(f"the plan is for {plan.registry}/{plan.repository}, not {request.target}")
    return plans


@contextlib.contextmanager
def _status(stream: TextIO, text: str) -> Iterator[Callable[[str], None]]:
    """A spinner with ``text`` on a terminal while planning; nothing anywhere else."""
    if not isatty(stream):
        yield lambda _: None
        return
    from rich.console import Console

    from docr.cli._sanitize import one_line

    with Console(file=stream).status(one_line(text)) as status:
        yield lambda new: status.update(one_line(new))


def _show(
    plans: list[Plan], args: argparse.Namespace, output: str, now: dt.datetime, *, demo: bool, applying: bool
) -> None:
    from docr.cli._prune_output import naive_note, plans_json, write_plans

    stdout, stderr = sys.stdout, sys.stderr
    for plan in plans:
        for note in plan.notes:
            warn(f"{plan.registry}/{plan.repository}: {note}", stderr)
    if output == "table":
        write_plans(plans, stdout, now=now)
    else:
        stdout.write(plans_json(plans, one_line=applying) if plans else "[]\n")
        stdout.flush()
    if demo and (naive := naive_note(plans)) is not None:
        say(f"demo: {naive}", stderr)
    if args.plan_out:
        try:
            Path(args.plan_out).write_text(plans_json(plans) if plans else "[]\n", encoding="utf-8")
        except OSError as error:
            raise CommandError(f"cannot write the plan to {args.plan_out}: {error.strerror or error}") from None


def _plain_http_elsewhere(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return False  # not a URL: the client refuses it
    return parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1")
