"""docr.testing: a faithful local fake of DOCR (its DigitalOcean API and its registry), to test code without an account.

Like moto for boto3: start a fake, fill it, point your client at it, and check what it saw.

    from docr.testing import FakeRegistry

    with FakeRegistry() as fake:                 # 127.0.0.1, free ports; stopped (threads joined) on exit
        fake.seed_demo("example")                # multi-arch images, attestations, signatures, stale builds
        fake.generate("example", "my/repo", count=500, seed=1)   # plain listing data, fast
        digest = fake.push_index("example", "app", tags=["v1"])  # real OCI bytes, children untagged
        my_cleanup_script(base_url=fake.url, token="any-token")
        fake.manifests("example", "app")         # what is there now, newest first
        fake.requests                            # what it was asked (secrets redacted)

The DigitalOcean API (`fake.url`), as openapi/docr.openapi.yaml and upstream describe it, under
`/v2/registries/{registry}/...` and the deprecated `/v2/registry/{registry}/...` twins: list
manifests, tags (offset paging) and repositories V2 (`page_token` paging, live counts); delete
a manifest (its tags go with it) or a tag (the manifest stays, untagged if it was its last);
get the registry (storage from the unique blobs it holds), the subscription, docker
credentials; start, get, list and cancel garbage collections. Every answer carries the
rate-limit headers and an `x-request-id`; errors are `{"id", "message", "request_id"}`:

- 401 `unauthorized` without a well-formed `Authorization: Bearer <token>` (with
  `FakeRegistry(token="t")`, for any token but `t`);
- 404 `not_found` for an unknown path, registry, repository, manifest, tag or collection, or a
  repository name with a raw `/` (it must travel as `%2F`, as upstream); `GET .../garbage-collection`
  when none is active is a 404 too (the only failure upstream lists for it);
- 405 `method_not_allowed` (with `allow`) for a method the path does not take;
- 400 `bad_request` for `page`/`per_page` outside their declared ranges (`page` >= 1,
  `per_page` 1-200; refused rather than clamped), a `page_token` the fake did not give, or a
  body that is not what the operation takes;
- 409 `conflict` when a garbage collection is started while one is active, when one that has
  ended is cancelled, and for DELETEs while one is active. A collection makes the registry
  read-only; the fake refuses deletes then rather than performing them, because a delete
  racing a collection's scan is exactly what the read-only mode exists to prevent. 409 (the
  request conflicts with the registry's current state) rather than 412: 412 answers failed
  request preconditions (If-Match...), which the client did not send. Retry after it ends.

Garbage collections walk `requested`, `waiting for write JWTs to expire`, `scanning manifests`,
`deleting unreferenced blobs`, then `succeeded`, `gc_step_seconds` each (`cancelling` then
`cancelled` on cancel); see `docr.testing._gc` for what they free. The registry API
(`fake.oci_url`): `/v2/`, `/token` and `GET`/`HEAD` manifests by digest or tag, with DOCR's
token auth (see `docr.testing._oci_api`).

Faults and conditions, on demand (`operation=` takes a name from `OPERATIONS`):

    fake.latency = 0.02                          # seconds added to every request
    fake.fail_next(503, count=2)                 # JSON error body; any status 400-599
    fake.fail_next(503, operation="delete_manifest")     # only for that operation
    fake.fail_next("lost", operation="delete_manifest")  # deleted, then the connection reset
    fake.fail_next(429, retry_after=1)           # with retry-after (and ratelimit_reset=<epoch>)
    fake.fail_next(502)                          # HTML body, as a proxy answers
    fake.fail_next(520)                          # empty body, as Cloudflare answers
    fake.fail_next("reset")                      # connection reset before any answer
    fake.fail_next("truncated")                  # a 200 whose JSON is cut in half
    fake.fail_next("slow", delay=5.0)            # the right answer, late (default 5 s)
    fake.fail_next(500, page=3)                  # only for a request for page 3
    fake.fail_randomly(0.2, seed=7)              # ~20% of requests fail; fail_randomly(0) stops
    fake.rate_limit(requests=10, window=1.0)     # per token, sliding window; rate_limit(None) stops
    fake.rate_limit(per_minute=250, per_hour=5000, time_scale=60)   # DO's two limits, a minute in 1 s
    fake.gc_step_seconds = 0.05                  # garbage collections move fast
    fake.gc_statuses = (*fake.gc_statuses[:2], "waiting for delete requests", *fake.gc_statuses[2:])
    fake.on_request(lambda request: ...)         # runs before each answer: push or delete mid-walk
    fake.in_flight, fake.max_in_flight, fake.faults_injected, fake.rate_limited

Time: `FakeRegistry(clock=ManualClock())` makes the rate limiter, garbage collections and
credential expiry follow a clock the test moves (`clock.advance(60)`), with no sleeping.

From a shell: `python -m docr.testing --port 8080 --manifests 500` (see `docr.testing._serve`).
"""

from docr.testing._clock import ManualClock
from docr.testing._fake import FakeRegistry
from docr.testing._faults import OPERATIONS, FaultKind
from docr.testing._records import RecordedRequest

__all__ = ["OPERATIONS", "FakeRegistry", "FaultKind", "ManualClock", "RecordedRequest"]
