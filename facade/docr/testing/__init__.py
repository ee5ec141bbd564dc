"""docr.testing: a faithful local fake of DOCR's list-manifests API, to test code without an account.

Like moto for boto3: start a fake, fill it, point your client at it, and check what it saw.

    from docr.testing import FakeRegistry

    with FakeRegistry() as fake:                 # 127.0.0.1, a free port; stopped (threads joined) on exit
        fake.generate("example", "my/repo", count=500, seed=1)   # realistic, the same for a seed
        fake.add_manifests("example", "my/repo", [{"digest": "sha256:...", "tags": []}])
        listing = my_cleanup_script(base_url=fake.url, token="any-token")
        fake.manifests("example", "my/repo")     # what is there now, newest first
        fake.requests                            # what it was asked (token redacted)

It serves `GET /v2/registry/{registry}/repositories/{repository}/digests` and its twin
`/v2/registries/...` exactly as openapi/docr.openapi.yaml says: newest manifests first, pages of
`per_page` (default 20, 1-200) with `links.pages` back to itself, rate-limit headers and an
`x-request-id` on every answer, errors as `{"id", "message", "request_id"}`:

- 401 `unauthorized` without a well-formed `Authorization: Bearer <token>` (with
  `FakeRegistry(token="t")`, for any token but `t`);
- 404 `not_found` for an unknown registry or repository, or a repository name with a raw `/`
  (it must travel as `%2F`, as upstream);
- 405 `method_not_allowed` for anything but GET;
- 400 `bad_request` when `page` or `per_page` is not a decimal integer in its declared range
  (`page` >= 1, `per_page` 1-200): the spec declares the bounds, so the fake refuses what is
  outside them (in the spec's `default` error model) rather than silently clamping;
- a page past the end is a 200 with no manifests and the right `meta.total`.

Faults and conditions, on demand:

    fake.latency = 0.02                          # seconds added to every request
    fake.fail_next(503, count=2)                 # JSON error body; any status 400-599
    fake.fail_next(429, retry_after=1)           # with retry-after (and ratelimit_reset=<epoch>)
    fake.fail_next(502)                          # HTML body, as a proxy answers
    fake.fail_next(520)                          # empty body, as Cloudflare answers
    fake.fail_next("reset")                      # connection reset before any answer
    fake.fail_next("truncated")                  # a 200 whose JSON is cut in half
    fake.fail_next("slow", delay=5.0)            # the right answer, late (default 5 s)
    fake.fail_next(500, page=3)                  # only for a request for page 3
    fake.fail_randomly(0.2, seed=7)              # ~20% of requests fail; fail_randomly(0) stops
    fake.rate_limit(requests=10, window=1.0)     # per token, sliding window; rate_limit(None) stops
    fake.on_request(lambda request: ...)         # runs before each answer: push or delete mid-walk
    fake.in_flight, fake.max_in_flight, fake.faults_injected

From a shell: `python -m docr.testing --port 8080 --manifests 500` (see `docr.testing._serve`).
"""

from docr.testing._fake import FakeRegistry
from docr.testing._faults import FaultKind
from docr.testing._records import RecordedRequest

__all__ = ["FakeRegistry", "FaultKind", "RecordedRequest"]
