#!/usr/bin/env python3
"""Record the vcrpy cassettes that drive docr's client tests (tests/cassettes/).

Usage::

    .venv/bin/python scripts/record_cassettes.py          # rewrite every cassette
    .venv/bin/python scripts/record_cassettes.py not_found  # just one

Two kinds of cassette come out:

- *Recorded*: each scenario runs the real ``docr.Client`` against ``docr.testing.FakeRegistry``
  on loopback, under vcrpy in record mode. The token is filtered out (the Authorization
  header becomes ``Bearer <DIGITALOCEAN_TOKEN>``) and the fake's ``http://127.0.0.1:PORT`` is
  rewritten to ``https://api.digitalocean.com``, so a replay looks like the real API and tests
  use the client's default base URL.
- *Transcribed*: ``upstream_examples.yaml`` holds one exchange per status the spec documents
  (200, 401, 404, 429, 500 and a ``default`` one), built from the examples in
  ``openapi/docr.openapi.yaml``, upstream's own words (the misspelled blob key included).

CI only replays (``--record-mode=none``, network blocked). Recording needs no account, and is
reproducible: the values that change from run to run (request ids, rate-limit reset times, the
date, the client's version) are written as fixed placeholders, so recording again gives the same
bytes (``tests/test_cassettes.py`` checks it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import vcr
import yaml

import docr
from docr.testing import FakeRegistry

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "tests" / "cassettes"
SPEC = ROOT / "openapi" / "docr.openapi.yaml"
API = "https://api.digitalocean.com"
TOKEN = "recording-token-never-stored"
FILTERED = "Bearer <DIGITALOCEAN_TOKEN>"
_LOOPBACK = re.compile(r"http://127\.0\.0\.1:\d+")


# Header -> the fixed value recorded in its place (what varies between runs, never what a test reads).
_STABLE_RESPONSE_HEADERS = {"ratelimit-reset": "1767225600", "date": "Thu, 01 Jan 2026 00:00:00 GMT"}


class _Scrubber:
    """Per cassette: rewrites the fake's address and numbers request ids in order."""

    def __init__(self) -> None:
        self.request_ids: dict[str, str] = {}

    def request(self, request: Any) -> Any:
        request.uri = _LOOPBACK.sub(API, request.uri)
        if "user-agent" in request.headers:
            request.headers["user-agent"] = "docr"
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = response["headers"]
        for name, value in _STABLE_RESPONSE_HEADERS.items():
            if name in headers:
                headers[name] = [value]
        if "x-request-id" in headers:
            headers["x-request-id"] = [self._request_id(v) for v in headers["x-request-id"]]
        body = response["body"]["string"]
        for real, stable in self.request_ids.items():
            body = (
                body.replace(real.encode(), stable.encode()) if isinstance(body, bytes) else body.replace(real, stable)
            )
        response["body"]["string"] = body
        return _scrub_response(response)

    def _request_id(self, real: str) -> str:
        return self.request_ids.setdefault(real, f"00000000-0000-4000-8000-{len(self.request_ids) + 1:012d}")


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response["body"]["string"]
    if isinstance(body, bytes):
        response["body"]["string"] = re.sub(_LOOPBACK.pattern.encode(), API.encode(), body)
    elif isinstance(body, str):
        response["body"]["string"] = _LOOPBACK.sub(API, body)
    return response


def recorder() -> vcr.VCR:
    scrubber = _Scrubber()
    return vcr.VCR(
        record_mode="all",
        filter_headers=[("authorization", FILTERED), "host"],
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=True,
    )


def _client(fake: FakeRegistry, **kwargs: Any) -> docr.Client:
    client = docr.Client(TOKEN, base_url=fake.url, concurrency=1, **kwargs)
    client._sleep = lambda seconds: None  # recordings need not wait out retry-after
    return client


def _list_all(fake: FakeRegistry, **kwargs: Any) -> None:
    with _client(fake, **kwargs) as client:
        list(client.iter_manifests("example", "my/repo", per_page=20))


def _expect(error: type[Exception], action: Callable[[], object]) -> None:
    try:
        action()
    except error:
        return
    raise SystemExit(f"expected {error.__name__}")


def three_pages(fake: FakeRegistry) -> None:
    fake.generate("example", "my/repo", count=45, seed=1)
    _list_all(fake)


def legacy_endpoint(fake: FakeRegistry) -> None:
    fake.generate("example", "my/repo", count=5, seed=2)
    _list_all(fake, legacy_endpoint=True)


def one_page(fake: FakeRegistry) -> None:
    fake.generate("example", "my/repo", count=25, seed=3)
    with _client(fake) as client:
        client.list_manifests("example", "my/repo", page=2, per_page=10)


def empty_repository(fake: FakeRegistry) -> None:
    fake.add_manifests("example", "my/repo", [])
    _list_all(fake)


def not_found(fake: FakeRegistry) -> None:
    fake.generate("example", "my/repo", count=1, seed=4)
    with _client(fake) as client:
        _expect(docr.NotFoundError, lambda: client.list_manifests("example", "no/such-repo"))


def unauthorized(fake: FakeRegistry) -> None:
    fake.generate("example", "my/repo", count=1, seed=5)
    with _client(fake) as client:  # the fake was started with another token (FAKE_OPTIONS)
        _expect(docr.AuthenticationError, lambda: client.list_manifests("example", "my/repo"))


def rate_limited_then_ok(fake: FakeRegistry) -> None:
    fake.generate("example", "my/repo", count=3, seed=6)
    fake.fail_next(429, retry_after=2)
    _list_all(fake)


def server_errors_then_ok(fake: FakeRegistry) -> None:
    fake.generate("example", "my/repo", count=30, seed=7)
    fake.fail_next(500, page=2)
    fake.fail_next("truncated", page=2)
    _list_all(fake)


def bad_gateway_gives_up(fake: FakeRegistry) -> None:
    fake.generate("example", "my/repo", count=3, seed=8)
    fake.fail_next(502, count=4)
    with _client(fake) as client:
        _expect(docr.ServerError, lambda: client.list_manifests("example", "my/repo"))


SCENARIOS: dict[str, Callable[[FakeRegistry], None]] = {
    f.__name__: f
    for f in (
        three_pages,
        legacy_endpoint,
        one_page,
        empty_repository,
        not_found,
        unauthorized,
        rate_limited_then_ok,
        server_errors_then_ok,
        bad_gateway_gives_up,
    )
}


FAKE_OPTIONS: dict[str, dict[str, Any]] = {"unauthorized": {"token": "the-right-token"}}


def record(name: str, directory: Path = CASSETTES) -> Path:
    path = directory / f"{name}.yaml"
    path.unlink(missing_ok=True)
    with FakeRegistry(**FAKE_OPTIONS.get(name, {})) as fake, recorder().use_cassette(str(path)):
        SCENARIOS[name](fake)
    return path


# --- transcribed from upstream's examples ----------------------------------------------------

_EXAMPLE_STATUSES = {
    "unauthorized": 401,
    "not_found": 404,
    "too_many_requests": 429,
    "server_error": 500,
    "unexpected_error": 400,  # `default`: any other status; 400 stands for them
}


def transcribe_upstream_examples() -> Path:
    path = CASSETTES / "upstream_examples.yaml"
    text = yaml.safe_dump({"interactions": upstream_interactions(), "version": 1}, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def upstream_interactions() -> list[dict[str, Any]]:
    """One exchange per documented status, from the fragment's examples (no fake involved)."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    components = spec["components"]
    interactions = []
    ok_example = components["schemas"]["repository_manifests_page"]["example"]
    interactions.append(_interaction("example-ok", 200, ok_example, {}))
    for response_name, status in _EXAMPLE_STATUSES.items():
        response = components["responses"][response_name]
        example = response["content"]["application/json"]["example"]
        headers = {name: str(components["headers"][name]["example"]) for name in sorted(response["headers"])}
        interactions.append(_interaction(f"example-{status}", status, example, headers))
    return interactions


def _interaction(repository: str, status: int, body: Any, headers: dict[str, str]) -> dict[str, Any]:
    reasons = {
        200: "OK",
        400: "Bad Request",
        401: "Unauthorized",
        404: "Not Found",
        429: "Too Many Requests",
        500: "Internal Server Error",
    }
    uri = f"{API}/v2/registries/example/repositories/{repository}/digests?per_page=20&page=1"
    all_headers = {"content-type": ["application/json; charset=utf-8"], **{k: [v] for k, v in headers.items()}}
    if status == 200:
        all_headers.update(
            {"ratelimit-limit": ["5000"], "ratelimit-remaining": ["4816"], "ratelimit-reset": ["1444931833"]}
        )
    return {
        "request": {"body": "", "headers": {"authorization": [FILTERED]}, "method": "GET", "uri": uri},
        "response": {
            "status": {"code": status, "message": reasons[status]},
            "headers": all_headers,
            "body": {"string": json.dumps(body)},
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"scenarios (default: all): {', '.join(SCENARIOS)}")
    args = parser.parse_args(argv)
    CASSETTES.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(SCENARIOS):
        if name not in SCENARIOS:
            parser.error(f"no scenario {name!r}")
        print(f"recorded {record(name).relative_to(ROOT)}", file=sys.stderr)
    if not args.names:
        print(f"wrote {transcribe_upstream_examples().relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
