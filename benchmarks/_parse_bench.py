"""Parsing one page, in a fresh process: ``python benchmarks/_parse_bench.py URL REPOSITORY PER_PAGE``.

Fetches page 1 of REPOSITORY from the fake once (the body and headers as served), then times,
in interleaved rounds, the CPU (``process_time``) of turning that answer into results:

- ``baseline``: ``response.json()`` on an ``httpx.Response`` holding the body, plus building a
  plain dict per manifest (``[dict(m) for m in body["manifests"]]``: what a thin client hands back);
- ``docr``: ``docr._exchange.settle`` on a ``Reply`` holding the same body and headers: the
  status, the request id, ``json.loads``, every field checked by ``docr._parse``, a ``Manifest``
  per item (blobs stay lazy), the rate limit: the ``ManifestPage`` a walk yields from.

Prints one JSON line: per contender the seconds per page of each round (the rounds pair up).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from _contenders import REGISTRY, _path

from docr._exchange import Reply, settle
from docr._operations import PageRequest
from docr._secrets import Secret

ROUNDS = 41
BATCH = 10  # pages parsed per timing, so the clock's resolution does not matter


def measure(url: str, repository: str, per_page: int) -> dict[str, Any]:
    token = Secret("bench-parse-token")
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token.reveal()}"}) as http:
        response = http.get(_path(repository), params={"page": 1, "per_page": per_page})
    response.raise_for_status()
    body, headers = response.content, response.headers
    call = PageRequest(registry=REGISTRY, repository=repository, page=1, per_page=per_page).call()
    secrets = [token]

    def baseline() -> int:
        data = response.json()
        return len([dict(manifest) for manifest in data["manifests"]])

    def docr() -> int:
        return len(settle(call, Reply(200, headers, body), 1, secrets).manifests)

    contenders: dict[str, Callable[[], int]] = {"baseline": baseline, "docr": docr}
    counts = {name: run() for name, run in contenders.items()}  # warm-up, and the same manifests
    if len(set(counts.values())) != 1 or counts["docr"] != per_page:
        raise RuntimeError(f"the parsers disagree or the page is short: {counts}")
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for number in range(ROUNDS):
        # Short rounds, who goes first alternating: the machine's drift hits both alike, and each
        # round's pair gives one ratio (the report's figure is their median).
        for name, run in list(contenders.items())[:: 1 if number % 2 else -1]:
            started = time.process_time()
            for _ in range(BATCH):
                run()
            samples[name].append((time.process_time() - started) / BATCH)
    return {"samples": samples, "bytes": len(body), "manifests": counts["docr"]}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
