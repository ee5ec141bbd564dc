#!/usr/bin/env python3
"""Record the vcrpy cassettes that drive docr's client tests (tests/cassettes/).

Usage::

    .venv/bin/python scripts/record_cassettes.py          # rewrite every cassette
    .venv/bin/python scripts/record_cassettes.py not_found  # just one

Two kinds of cassette come out:

- *Recorded*: each scenario runs the real ``docr.Client`` against ``docr.testing.FakeRegistry``
  on loopback, under vcrpy in record mode, one scenario per operation and per interesting answer
  (paging, deletes and their retries, conflicts, garbage collections, credentials, the registry's
  token flow). The fake's two listeners are rewritten to the real hosts (``https://api.digitalocean.com``
  and ``https://registry.digitalocean.com``), so a replay looks like DigitalOcean and tests use
  the client's default URLs.
- *Transcribed*: ``upstream_examples.yaml`` holds one exchange per status each operation of
  ``openapi/docr.openapi.yaml`` documents, built from the fragment's own examples (upstream's
  words, the misspelled blob key included), with no fake involved.

No secret is ever written (``tests/test_cassettes.py`` checks): the API token becomes
``Bearer <DIGITALOCEAN_TOKEN>``, the docker credentials' ``auth`` becomes base64 of
``user:password``, the registry's bearer tokens ``<REGISTRY_TOKEN>`` and the Basic header sent
to the token endpoint ``Basic <DOCKER_CREDENTIALS>``. Manifest bodies from the registry are kept
byte for byte (the client checks their digest).

CI only replays (``--record-mode=none``, network blocked). Recording needs no account, and is
reproducible: the fake runs on a ``ManualClock`` (a garbage collection's polls move it), its data
is seeded, and what still changes from run to run (request ids, garbage collection uuids,
credentials, tokens, the date, rate-limit reset times, the client's version) is written as fixed
placeholders numbered in order of appearance, so recording again gives the same bytes.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import vcr
import yaml

import docr
from docr.testing import FakeRegistry, ManualClock

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "tests" / "cassettes"
SPEC = ROOT / "openapi" / "docr.openapi.yaml"
API = "https://api.digitalocean.com"
REGISTRY = "https://registry.digitalocean.com"
TOKEN = "recording-token-never-stored"
FILTERED = "Bearer <DIGITALOCEAN_TOKEN>"
REGISTRY_TOKEN = "<REGISTRY_TOKEN>"
FILTERED_REGISTRY_TOKEN = f"Bearer {REGISTRY_TOKEN}"
FILTERED_BASIC = "Basic <DOCKER_CREDENTIALS>"
DOCKER_AUTH = base64.b64encode(b"user:password").decode()  # what every recorded `auth` says
_LOOPBACK = re.compile(r"http://127\.0\.0\.1:(\d+)")

# Header -> the fixed value recorded in its place (what varies between runs, never what a test reads).
_STABLE_RESPONSE_HEADERS = {"ratelimit-reset": "1767225600", "date": "Thu, 01 Jan 2026 00:00:00 GMT"}


class _Scrubber:
    """Per cassette: the fake's addresses become the real hosts, volatile values numbered placeholders,
    secrets fixed placeholders. Values are learnt from answers (a uuid, a token) before any request
    carries them, and replaced wherever they appear after."""

    def __init__(self, fake: FakeRegistry) -> None:
        self.hosts = {_port(fake.url): API, _port(fake.oci_url): REGISTRY}
        self.request_ids: dict[str, str] = {}
        self.gc_uuids: dict[str, str] = {}
        self.secrets: dict[str, str] = {}  # real -> placeholder
        self.registry_tokens: set[str] = set()

    def request(self, request: Any) -> Any:
        request.uri = self._replace(request.uri)
        headers = request.headers
        if "user-agent" in headers:
            headers["user-agent"] = "docr"
        if "authorization" in headers:
            headers["authorization"] = self._authorization(headers["authorization"])
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = response["headers"]
        for name, value in _STABLE_RESPONSE_HEADERS.items():
            if name in headers:
                headers[name] = [value]
        if "x-request-id" in headers:
            headers["x-request-id"] = [self._numbered(self.request_ids, v, "8000") for v in headers["x-request-id"]]
        if "www-authenticate" in headers:
            headers["www-authenticate"] = [self._replace(v) for v in headers["www-authenticate"]]
        content_type = (headers.get("content-type") or [""])[0]
        body = response["body"]["string"]
        if body and not content_type.startswith("application/vnd."):  # a manifest's bytes stay exact
            text = body.decode() if isinstance(body, bytes) else body
            self._learn(text)
            text = self._replace(text)
            response["body"]["string"] = text.encode() if isinstance(body, bytes) else text
            if "content-length" in headers:  # placeholders are not as long as what they replace
                headers["content-length"] = [str(len(text.encode()))]
        return response

    def _authorization(self, value: str) -> str:
        scheme, _, credentials = value.partition(" ")
        if value == f"Bearer {TOKEN}" or (scheme == "Bearer" and credentials not in self.registry_tokens):
            return FILTERED
        if scheme == "Bearer":
            return FILTERED_REGISTRY_TOKEN
        if scheme == "Basic":
            return FILTERED_BASIC
        raise SystemExit(f"an Authorization scheme the scrubber does not know: {scheme!r}")

    def _learn(self, text: str) -> None:
        """Note the volatile values an answer brings: collection uuids, credentials, tokens."""
        try:
            data = json.loads(text)
        except ValueError:
            return  # a body cut short, or a proxy's page: nothing to learn
        if not isinstance(data, dict):
            return
        collections = data.get("garbage_collections") or [data.get("garbage_collection")]
        for collection in collections:
            if isinstance(collection, dict) and isinstance(collection.get("uuid"), str):
                self._numbered(self.gc_uuids, collection["uuid"], "9000")
        for entry in (data.get("auths") or {}).values():
            self.secrets[entry["auth"]] = DOCKER_AUTH
        for key in ("token", "access_token"):
            if isinstance(data.get(key), str):
                self.secrets[data[key]] = REGISTRY_TOKEN
                self.registry_tokens.add(data[key])

    def _replace(self, text: str) -> str:
        text = _LOOPBACK.sub(lambda match: self.hosts.get(match.group(1), API), text)
        for table in (self.request_ids, self.gc_uuids, self.secrets):
            for real, stable in table.items():
                text = text.replace(real, stable)
        return text

    @staticmethod
    def _numbered(table: dict[str, str], real: str, group: str) -> str:
        return table.setdefault(real, f"00000000-0000-4000-{group}-{len(table) + 1:012d}")


def _port(url: str) -> str:
    match = _LOOPBACK.fullmatch(url)
    assert match is not None, url
    return match.group(1)


def recorder(fake: FakeRegistry) -> vcr.VCR:
    scrubber = _Scrubber(fake)
    return vcr.VCR(
        record_mode="all",
        filter_headers=["host"],
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=True,
    )


def _client(fake: FakeRegistry, *, sleeps_move_the_clock: bool = False, **kwargs: Any) -> docr.Client:
    client = docr.Client(TOKEN, base_url=fake.url, oci_base_url=fake.oci_url, concurrency=1, **kwargs)
    # Recordings never wait: retry waits are skipped, and a garbage collection's polls move the
    # fake's ManualClock instead (poll intervals are fixed, so the statuses seen are too).
    client._sleep = _clock(fake).advance if sleeps_move_the_clock else (lambda seconds: None)
    return client


def _clock(fake: FakeRegistry) -> ManualClock:
    assert isinstance(fake.clock, ManualClock)
    return fake.clock


def _expect(error: type[Exception], action: Callable[[], object]) -> None:
    try:
        action()
    except error:
        return
    raise SystemExit(f"expected {error.__name__}")


# --- list manifests -----------------------------------------------------------------------------


def _list_all(fake: FakeRegistry, **kwargs: Any) -> None:
    with _client(fake, **kwargs) as client:
        list(client.iter_manifests("example", "my/repo", per_page=20))


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


# --- repositories and tags ----------------------------------------------------------------------


def repositories_paged(fake: FakeRegistry) -> None:
    fake.seed_demo("example")  # five repositories: three page_token pages of two
    with _client(fake) as client:
        list(client.iter_repositories("example", per_page=2))


def tags_paged(fake: FakeRegistry) -> None:
    fake.seed_demo("example")  # web/frontend has eight tags: three pages of three
    with _client(fake) as client:
        list(client.iter_tags("example", "web/frontend", per_page=3))


# --- deletes ------------------------------------------------------------------------------------


def delete_manifest(fake: FakeRegistry) -> None:
    digest = fake.push_image("example", "web", tags=["v1", "latest"])
    with _client(fake) as client:
        client.delete_manifest("example", "web", digest)  # 204
        _expect(docr.NotFoundError, lambda: client.delete_manifest("example", "web", digest))  # 404, first try


def delete_tag(fake: FakeRegistry) -> None:
    fake.push_image("example", "web", tags=["v1", "v2"])
    with _client(fake) as client:
        client.delete_tag("example", "web", "v2")
        list(client.iter_tags("example", "web"))  # v1 is left


def delete_manifest_answer_lost(fake: FakeRegistry) -> None:
    """The fake deletes, then resets the connection. vcrpy cannot record a reset (no answer came),
    so the cassette holds the retry's 404 alone; the replay test puts the reset back in front of it."""
    digest = fake.push_image("example", "web", tags=["v1"])
    fake.fail_next("lost", operation="delete_manifest")
    with _client(fake) as client:
        client.delete_manifest("example", "web", digest)


def _performed_then(fake: FakeRegistry, operation: str, perform: Callable[[], object], status: int) -> None:
    """The next `operation` is performed (as a backend behind a proxy would) and answered `status`."""
    done: list[bool] = []

    def backend(request: Any) -> None:
        if request.operation == operation and not done:
            done.append(True)
            perform()

    fake.on_request(backend)
    fake.fail_next(status, operation=operation)


def delete_manifest_after_gateway_timeout(fake: FakeRegistry) -> None:
    """A 504 from the gateway after the backend deleted: the retry's 404 means done (counted once)."""
    digest = fake.push_image("example", "web", tags=["v1"])
    _performed_then(fake, "delete_manifest", lambda: fake.delete_manifests("example", "web", [digest]), 504)
    with _client(fake) as client:
        client.delete_manifest("example", "web", digest)


def legacy_operations(fake: FakeRegistry) -> None:
    """The deprecated /v2/registry/... twins (tags, delete tag, delete manifest)."""
    digest = fake.push_image("example", "web", tags=["v1", "v2"])
    with _client(fake, legacy_endpoint=True) as client:
        list(client.iter_tags("example", "web"))
        client.delete_tag("example", "web", "v2")
        client.delete_manifest("example", "web", digest)


# --- the registry, its plan and credentials -----------------------------------------------------


def registry_and_subscription(fake: FakeRegistry) -> None:
    fake.seed_demo("example")
    with _client(fake) as client:
        client.get_registry("example")
        _expect(docr.NotFoundError, lambda: client.get_registry("nothere"))
        client.get_subscription()


def docker_credentials(fake: FakeRegistry) -> None:
    fake.seed_demo("example")
    with _client(fake) as client:
        client.get_docker_credentials("example", expiry_seconds=600)
        client.get_docker_credentials("example", read_write=True)


# --- garbage collection -------------------------------------------------------------------------

GC_STEP = 10.0  # seconds the fake's collections spend in each status; the polls wait as long


def gc_wait(fake: FakeRegistry) -> None:
    """Start one, wait (each poll sees the next status), then find it in the history."""
    fake.seed_demo("example")
    fake.gc_step_seconds = GC_STEP
    with _client(fake, sleeps_move_the_clock=True) as client:
        started = client.start_garbage_collection("example")
        assert started.uuid is not None
        client.wait_garbage_collection("example", started.uuid, poll_interval=GC_STEP)
        client.get_garbage_collection("example")  # 404: none active (then one of the history: the registry exists)
        list(client.iter_garbage_collections("example"))


def gc_conflicts(fake: FakeRegistry) -> None:
    """409s while one runs (a second start, deletes); cancel it; a cancel after it ended is a 409 too."""
    fake.seed_demo("example")
    fake.gc_step_seconds = GC_STEP
    with _client(fake, sleeps_move_the_clock=True) as client:
        started = client.start_garbage_collection("example", untagged_manifests=False)
        uuid = started.uuid
        assert uuid is not None
        _expect(docr.ConflictError, lambda: client.start_garbage_collection("example"))
        digest = fake.manifests("example", "tools/migrate")[0]["digest"]
        _expect(docr.ConflictError, lambda: client.delete_manifest("example", "tools/migrate", digest))
        _expect(docr.ConflictError, lambda: client.delete_tag("example", "tools/migrate", "latest"))
        client.cancel_garbage_collection("example", uuid)
        client.wait_garbage_collection("example", uuid, poll_interval=GC_STEP)
        _expect(docr.ConflictError, lambda: client.cancel_garbage_collection("example", uuid))


def gc_history(fake: FakeRegistry) -> None:
    """Three finished collections, listed two a page."""
    fake.seed_demo("example")
    fake.gc_step_seconds = GC_STEP
    clock = _clock(fake)
    with _client(fake) as client:
        for untagged, blobs in ((False, True), (True, False), (True, True)):
            client.start_garbage_collection("example", untagged_manifests=untagged, unreferenced_blobs=blobs)
            clock.advance(GC_STEP * 5)
        list(client.iter_garbage_collections("example", per_page=2))


# --- the registry's own API: manifests through the token flow ------------------------------------


def oci_manifests(fake: FakeRegistry) -> None:
    """An index (401 challenge, credentials, token, manifest), a child of it (token cached), an image
    in another repository (credentials cached, a new token), and a digest the registry does not have."""
    fake.seed_demo("example")
    index = fake.tags("example", "web/frontend")["latest"]
    info = fake.manifest_info("example", "web/frontend", index)
    assert info is not None
    child = info["children"][0]
    image = fake.tags("example", "tools/migrate")["latest"]
    with _client(fake) as client:
        client.get_oci_manifest("example", "web/frontend", index)
        client.get_oci_manifest("example", "web/frontend", child)
        client.get_oci_manifest("example", "tools/migrate", image)
        missing = "sha256:" + "d" * 64
        _expect(docr.NotFoundError, lambda: client.get_oci_manifest("example", "tools/migrate", missing))


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
        repositories_paged,
        tags_paged,
        delete_manifest,
        delete_tag,
        delete_manifest_answer_lost,
        delete_manifest_after_gateway_timeout,
        legacy_operations,
        registry_and_subscription,
        docker_credentials,
        gc_wait,
        gc_conflicts,
        gc_history,
        oci_manifests,
    )
}


FAKE_OPTIONS: dict[str, dict[str, Any]] = {"unauthorized": {"token": "the-right-token"}}


def record(name: str, directory: Path = CASSETTES, inspect: Callable[[FakeRegistry], object] | None = None) -> Path:
    """Record scenario `name` into `directory`; `inspect(fake)` runs after it, before the fake stops."""
    path = directory / f"{name}.yaml"
    path.unlink(missing_ok=True)
    with FakeRegistry(clock=ManualClock(), **FAKE_OPTIONS.get(name, {})) as fake:
        with recorder(fake).use_cassette(str(path)):
            SCENARIOS[name](fake)
        if inspect is not None:
            inspect(fake)
    return path


# --- transcribed from upstream's examples ----------------------------------------------------

_EXAMPLE_STATUSES = {
    "unauthorized": 401,
    "not_found": 404,
    "too_many_requests": 429,
    "server_error": 500,
    "unexpected_error": 400,  # `default`: any other status; 400 stands for them
}
# The query each operation's transcribed requests carry: what docr sends for the calls the replay
# tests make (vcrpy matches on it), with the fragment's own example values where it has one.
_EXAMPLE_QUERIES = {
    "registries_list_repositoriesV2": "per_page=20",
    "registries_list_repositoryTags": "per_page=20&page=1",
    "registry_list_repositoryTags": "per_page=20&page=1",
    "registry_list_repositoryManifests": "per_page=20&page=1",
    "registries_list_garbageCollections": "page=1&per_page=20",
    "registries_get_dockerCredentials": "read_write=false&expiry_seconds=3600",
}
_JSON = "application/json; charset=utf-8"


def transcribe_upstream_examples() -> Path:
    path = CASSETTES / "upstream_examples.yaml"
    text = yaml.safe_dump({"interactions": upstream_interactions(), "version": 1}, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def upstream_interactions() -> list[dict[str, Any]]:
    """One exchange per documented status of every operation, from the fragment's examples (no fake).

    A body is the response's example, else its schema's, else (for a 2xx without one) the object
    the schema's property examples make up; `default` is transcribed as a status the operation
    does not list (400, or 422 where 400 is listed). Registry names say what each exchange holds:
    `example-ok`, `example-404`...; list-manifests, transcribed first, names repositories so.
    """
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    interactions = _list_manifests_examples(spec)
    for path, method, operation in _operations(spec):
        if operation["operationId"] == "registries_list_repositoryManifests":
            continue
        for status, response in operation["responses"].items():
            code = _stand_in(operation) if status == "default" else int(status)
            interactions.append(_transcribed(spec, path, method, operation, code, _resolve(spec, response)))
    return interactions


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    ]


def _stand_in(operation: dict[str, Any]) -> int:
    return 422 if "400" in operation["responses"] else 400


def _transcribed(
    spec: dict[str, Any], path: str, method: str, operation: dict[str, Any], status: int, response: dict[str, Any]
) -> dict[str, Any]:
    parameters = {}
    for parameter in operation.get("parameters", []):
        parameter = _resolve(spec, parameter)
        if parameter["in"] == "path":
            parameters[parameter["name"]] = quote(str(parameter.get("example", "")), safe="")  # as docr sends
    parameters["registry_name"] = f"example-{'ok' if status < 300 else status}"
    uri = API + path.format(**parameters)
    query = _EXAMPLE_QUERIES.get(operation["operationId"])
    request: dict[str, Any] = {"body": "", "headers": {"authorization": [FILTERED]}, "method": method.upper()}
    content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
    if content is not None:
        request["body"] = json.dumps(_example(spec, content))
        request["headers"]["content-type"] = ["application/json"]
    request["uri"] = f"{uri}?{query}" if query else uri
    headers = {name: [str(_resolve(spec, header)["example"])] for name, header in sorted(response["headers"].items())}
    body = ""
    if "content" in response:
        body = json.dumps(_example(spec, response["content"]["application/json"]))
        headers = {"content-type": [_JSON], **headers}
    return {
        "request": request,
        "response": {
            "status": {"code": status, "message": _reason(status)},
            "headers": headers,
            "body": {"string": body},
        },
    }


def _example(spec: dict[str, Any], media: dict[str, Any]) -> Any:
    if "example" in media:
        return media["example"]
    return _assembled(spec, media["schema"])


def _assembled(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A schema's example, else the object its properties' examples make up."""
    schema = _resolve(spec, schema)
    if "example" in schema:
        return schema["example"]
    if "properties" in schema:
        return {name: _assembled(spec, value) for name, value in schema["properties"].items()}
    if schema.get("type") == "array":
        return [_assembled(spec, schema["items"])]
    raise SystemExit(f"no example for {schema}")


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        found: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


def _reason(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase


def _list_manifests_examples(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """list-manifests' exchanges, named by repository (`example-ok`, `example-401`...)."""
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
    uri = f"{API}/v2/registries/example/repositories/{repository}/digests?per_page=20&page=1"
    all_headers = {"content-type": [_JSON], **{k: [v] for k, v in headers.items()}}
    if status == 200:
        all_headers.update(
            {"ratelimit-limit": ["5000"], "ratelimit-remaining": ["4816"], "ratelimit-reset": ["1444931833"]}
        )
    return {
        "request": {"body": "", "headers": {"authorization": [FILTERED]}, "method": "GET", "uri": uri},
        "response": {
            "status": {"code": status, "message": _reason(status)},
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
