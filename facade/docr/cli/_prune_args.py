"""``docr prune``'s flags, checked: which repository or registry, which policy, where plans come from.

Every usage error is raised here, before a token is looked for or a request sent. Standard
library only at import (``docr prune --help`` imports this module).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from docr.cli import _client
from docr.cli._args import DOCR_HOST, parse_ref
from docr.cli._errors import UsageError, explain

if TYPE_CHECKING:
    from docr.retention import Policy

__all__ = ["POLICY_FLAGS", "Request", "count", "parse_request"]

POLICY_FLAGS = ("--keep-last", "--keep-tag", "--grace", "--keep-untagged", "--tagged-older-than")


@dataclass(frozen=True)
class Request:
    """What the flags ask for, checked: a repository or a whole registry, and where its plans come from."""

    registry: str
    repository: str | None
    policy: Policy | None = None
    policy_file: str | None = None
    from_plan: str | None = None

    @property
    def target(self) -> str:
        return self.registry if self.repository is None else f"{self.registry}/{self.repository}"


def parse_request(args: argparse.Namespace) -> Request:
    """Every usage error, before a token is looked for or a request sent."""
    from docr import retention
    from docr._errors import DocrError

    _client.check_demo(args)
    given = [flag for flag, dest in zip(POLICY_FLAGS, _policy_values(args), strict=True) if dest]
    if args.from_plan:
        for flag, value in [*((f, True) for f in given), ("--policy", args.policy), ("--plan-out", args.plan_out)]:
            if value:
                raise UsageError(f"--from-plan applies a saved plan as it is: drop {flag}")
    elif args.policy and given:
        raise UsageError(f"--policy FILE holds the policy: drop {given[0]} (or --policy)")
    if not (args.apply or args.from_plan):
        for flag, value in (("--yes", args.yes), ("--journal", args.journal), ("--gc", args.gc)):
            if value:
                raise UsageError(f"{flag} is for applying a plan: add --apply")
    text = args.ref or (None if args.from_plan or not args.demo else _demo_ref())
    if text is None:
        if args.from_plan:
            return Request("", None, from_plan=args.from_plan)
        raise UsageError("REF is missing: REGISTRY/REPOSITORY, e.g. example/my/repo (or --demo)")
    registry, repository = _target(text)
    if repository is None and not (args.policy or args.from_plan):
        raise UsageError(
            f"{text!r} names a registry: give REGISTRY/REPOSITORY, or --policy FILE to prune what it covers"
        )
    if args.from_plan or args.policy:
        return Request(registry, repository, policy_file=args.policy, from_plan=args.from_plan)
    keep_tags = ("latest",) if args.keep_tags is None else tuple(args.keep_tags)
    try:
        policy = retention.Policy(
            keep_last=args.keep_last or 0,
            keep_tags=keep_tags,
            grace=retention.Policy().grace if args.grace is None else args.grace,
            untagged="keep" if args.keep_untagged else "delete",
            tagged_older_than=args.tagged_older_than,
        )
    except DocrError as error:
        raise explain(error, target=text) from None
    return Request(registry, repository, policy=policy)


def _policy_values(args: argparse.Namespace) -> tuple[Any, ...]:
    return (
        args.keep_last is not None,
        args.keep_tags is not None,
        args.grace is not None,
        args.keep_untagged,
        args.tagged_older_than is not None,
    )


def _target(text: str) -> tuple[str, str | None]:
    """``REGISTRY`` or ``REGISTRY/REPOSITORY`` (with or without the DOCR host)."""
    from docr import _names
    from docr._errors import DocrError

    ref = text.strip().removeprefix(f"{DOCR_HOST}/")
    try:
        if ref and not any(mark in ref for mark in "/:@"):
            return _names.registry_name(ref), None
        parsed = parse_ref(text)
        return _names.registry_name(parsed.registry), _names.repository_name(parsed.repository)
    except DocrError as error:  # before ValueError: docr.InvalidArgument is one too
        raise explain(error, target=text) from None
    except ValueError as error:
        raise UsageError(str(error)) from None


def _demo_ref() -> str:
    from docr.cli._prune_demo import DEMO_REF

    return DEMO_REF


def count(text: str) -> int:
    """``--keep-last``: a whole number, 0 or more."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}: expected a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {number}")
    return number
