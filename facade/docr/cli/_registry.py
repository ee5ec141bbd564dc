"""``docr registry REGISTRY``: the registry, the storage it uses against the plan's, and the plan.

Storage is what DigitalOcean bills: past the plan's included storage, each GiB costs the plan's
overage price a month, if the plan allows overage at all (else pushes fail). Deleting manifests
frees nothing until a garbage collection runs (``docr gc start``).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TYPE_CHECKING

from docr.cli import _client, _filters
from docr.cli._args import DOCR_HOST
from docr.cli._errors import EXIT_OK
from docr.cli._humanize import UNKNOWN, human_age, human_size, iso_time
from docr.cli._options import add_api_options, add_output_options, output_format
from docr.cli._output import isatty
from docr.cli._records import card, json_value
from docr.cli._refs import registry_arg
from docr.cli._shapes import registry_dict, subscription_dict

if TYPE_CHECKING:
    import datetime as dt

    import docr

__all__ = ["BAR_WIDTH", "DESCRIPTION", "EPILOG", "add_arguments", "registry_card", "run", "storage_line"]

DESCRIPTION = "Show a registry: its storage used against the plan's included storage, and the plan."
EPILOG = f"""\
REGISTRY is [{DOCR_HOST}/]REGISTRY. On a terminal a bar shows the share of the included storage
used. Deleted manifests keep their storage until a garbage collection (`docr gc start`).

The token comes from DIGITALOCEAN_TOKEN, then DIGITALOCEAN_ACCESS_TOKEN, then doctl's config
file (the current context, or the one --context names). There is no --token flag.

Exit codes: 0 ok, 1 API or network error, 2 usage error or no token, 130 interrupted.

examples:
  docr registry example
  docr registry example -o json | jq .registry.storage_usage_bytes
  docr registry example --demo
"""

BAR_WIDTH = 40


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("registry", metavar="REGISTRY", help=f"[{DOCR_HOST}/]REGISTRY, e.g. example")
    add_output_options(cmd, quiet_help=None, formats=("table", "json"), header=False)
    add_api_options(
        cmd,
        items="registries",
        paged=False,
        legacy=False,
        demo_help="show a sample registry from an embedded fake (no token needed)",
    )


def run(args: argparse.Namespace) -> int:
    from docr.cli._demo import demo_fake

    name = registry_arg(args.registry)
    _client.check_demo(args)
    stdout, stderr = sys.stdout, sys.stderr
    output = output_format(args, stdout)
    now = _filters.now()
    with contextlib.ExitStack() as stack:
        connection = _client.connect(args, stack, stderr, demo=lambda: demo_fake(name, now=now))
        with _client.api_errors(connection, target=name, what="registry"):
            client = _client.open_client(args, stack, connection)
            registry = client.get_registry(name)
            subscription = client.get_subscription()
    if output == "json":
        document = {"registry": registry_dict(registry), "subscription": subscription_dict(subscription)}
        print(json_value(document), file=stdout)
        return EXIT_OK
    card(stdout, registry_card(registry, subscription, now))
    if isatty(stdout):
        print(bar(registry.storage_usage_bytes, subscription.included_storage_bytes), file=stdout)
    return EXIT_OK


def storage_line(used: int | None, included: int | None) -> str:
    """``383.91 MiB of 5.00 GiB (7.5%)``."""
    if used is None:
        return UNKNOWN
    if not included:
        return f"{human_size(used)} (the plan's included storage is unknown)"
    return f"{human_size(used)} of {human_size(included)} ({used / included:.1%})"


def bar(used: int | None, included: int | None, width: int = BAR_WIDTH) -> str:
    """``[██████░░░░...]``: the share of the included storage used (full past 100%)."""
    share = min(1.0, (used or 0) / included) if included else 0.0
    filled = round(share * width)
    return "[" + "█" * filled + "░" * (width - filled) + "]"


def _cents(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def registry_card(registry: docr.Registry, plan: docr.Subscription, now: dt.datetime) -> list[tuple[str, str]]:
    """The registry and its plan as ``KEY  value`` lines."""
    created = registry.created_at
    updated = registry.storage_usage_updated_at
    if plan.allow_storage_overage is None:
        overage = UNKNOWN
    elif not plan.allow_storage_overage:
        overage = "not allowed: pushes fail once the included storage is used"
    elif plan.storage_overage_price_in_cents is None:
        overage = "allowed"
    else:
        overage = f"allowed, {_cents(plan.storage_overage_price_in_cents)} per GiB a month"
    price = "" if plan.monthly_price_in_cents is None else f", {_cents(plan.monthly_price_in_cents)} a month"
    over = ""
    used, included = registry.storage_usage_bytes, plan.included_storage_bytes
    if used is not None and included and used > included:
        over = f"; {human_size(used - included)} over"
    return [
        ("Registry", registry.name or UNKNOWN),
        ("Region", registry.region or UNKNOWN),
        ("Created", iso_time(created) or UNKNOWN),
        ("Storage", storage_line(used, included) + over),
        ("Measured", human_age(updated, now)),
        ("Plan", f"{plan.tier_name or plan.tier or UNKNOWN}{price}"),
        ("Overage", overage),
    ]
