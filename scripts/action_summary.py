"""The GitHub Action's one-line summary of a ``docr prune -o json`` run (stdin to stdout).

An apply already ends with docr's summary line (``deleted``, ``failed``, ``gc``...): it is passed
through. A dry run prints its plans instead (one object, or a list for a policy file); they are
summed up with the same names, ``"dry_run": true`` and nothing deleted. Standard library only: the
runner's ``python3`` runs this, not docr's venv. Prints nothing and exits 1 on anything else.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def summarize(text: str) -> dict[str, Any] | None:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        last = json.loads(lines[-1])
    except ValueError:
        last = None
    if isinstance(last, dict) and "deleted" in last:
        return last
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and "deleted" in data:
        return data  # a summary spread over lines
    plans = [data] if isinstance(data, dict) else data
    if not isinstance(plans, list) or not all(
        isinstance(plan, dict) and str(plan.get("format", "")).startswith("docr.retention.plan/") for plan in plans
    ):
        return None
    sums = [plan.get("summary") or {} for plan in plans]
    return {
        "registry": plans[0].get("registry") if plans else None,
        "repositories": [plan.get("repository") for plan in plans],
        "dry_run": True,
        "candidates": sum(int(s.get("candidates", 0)) for s in sums),
        "protected": sum(int(s.get("protected", 0)) for s in sums),
        "deleted": 0,
        # Per repository, summed: a blob two repositories' plans both free counts twice here.
        "freed_bytes_expected": sum(int(s.get("freed_bytes", 0)) for s in sums),
        "naive_bytes": sum(int(s.get("naive_bytes", 0)) for s in sums),
    }


def main() -> int:
    summary = summarize(sys.stdin.read())
    if summary is None:
        return 1
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
