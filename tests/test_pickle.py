"""Every docr exception survives pickle (multiprocessing, task queues): same class, same message,
same attributes, and no token in the bytes. Each is built the way the client builds it: raised by
a real call against an in-process API that answers what it takes to raise it."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import docr
from tests.mock_api import TOKEN, PagedAPI, error, manifest


def client(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> docr.Client:
    built = docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(handler)), **kwargs
    )
    built._sleep = lambda seconds: None
    return built


def raised(call: Callable[[], object]) -> docr.DocrError:
    with pytest.raises(docr.DocrError) as info:
        call()
    return info.value


def answering(*responses: httpx.Response | Exception, **kwargs: Any) -> docr.Client:
    api = PagedAPI(3)
    api.fail(*responses * 10)
    return client(api, **kwargs)


def status(code: int, **headers: str) -> docr.DocrError:
    body = {"id": f"error_{code}", "message": f"status {code}", "request_id": "rid"}
    return raised(lambda: answering(error(code, body, headers=headers)).list_manifests("example", "my/repo"))


def growing() -> Callable[[httpx.Request], httpx.Response]:
    """A repository that grows by a page on every request."""
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        total = 400 + 200 * len(calls)
        page, size = int(request.url.params["page"]), int(request.url.params["per_page"])
        items = [manifest(i) for i in range((page - 1) * size, min(total, page * size))]
        return httpx.Response(200, json={"manifests": items, "meta": {"total": total}})

    return answer


def holed(request: httpx.Request) -> httpx.Response:
    page, size = int(request.url.params["page"]), int(request.url.params["per_page"])
    items = [] if page == 2 else [manifest(i) for i in range((page - 1) * size, min(600, page * size))]
    return httpx.Response(200, json={"manifests": items, "meta": {"total": 600}})


def failing_hook(response: httpx.Response) -> None:
    raise RuntimeError("a hook of yours failed")


def closed_client() -> docr.Client:
    closed = docr.Client(TOKEN, base_url="http://api.test")
    closed.close()
    return closed


BUILDERS: dict[str, Callable[[], docr.DocrError]] = {
    "DocrError": lambda: raised(
        lambda: docr.Client(
            TOKEN,
            base_url="http://api.test",
            http_client=httpx.Client(
                transport=httpx.MockTransport(PagedAPI(1)), event_hooks={"response": [failing_hook]}
            ),
        ).list_manifests("example", "my/repo")
    ),
    "ConfigurationError": lambda: raised(lambda: docr.Client()),
    "ClientClosedError": lambda: raised(lambda: closed_client().list_manifests("example", "my/repo")),
    "InvalidArgument": lambda: raised(lambda: answering().list_manifests("example", "my/repo", per_page=0)),
    "ListingChangedError": lambda: raised(lambda: list(client(growing()).iter_manifests("example", "my/repo"))),
    "IncompleteListingError": lambda: raised(lambda: list(client(holed).iter_manifests("example", "my/repo"))),
    "TransportError": lambda: raised(
        lambda: answering(httpx.ConnectError("refused"), max_retries=1).list_manifests("example", "my/repo")
    ),
    "APITimeoutError": lambda: raised(
        lambda: answering(httpx.ReadTimeout("slow"), max_retries=1).list_manifests("example", "my/repo")
    ),
    "TimeoutError": lambda: BUILDERS["APITimeoutError"](),
    "APIError": lambda: status(418),
    "AuthenticationError": lambda: status(401),
    "PermissionDenied": lambda: status(403),
    "NotFoundError": lambda: status(404),
    "ConflictError": lambda: status(409),
    "RateLimitError": lambda: status(
        429, **{"retry-after": "999", "ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": "17"}
    ),
    "ServerError": lambda: status(503),
    "InvalidResponse": lambda: raised(
        lambda: answering(
            httpx.Response(200, json={"manifests": [{"digest": 5}], "meta": {"total": 1}})
        ).list_manifests("example", "my/repo")
    ),
}

EXCEPTIONS = sorted(
    name
    for name in docr.__all__
    if isinstance(getattr(docr, name), type) and issubclass(getattr(docr, name), Exception)
)


def test_every_exception_has_a_builder() -> None:
    assert sorted(BUILDERS) == EXCEPTIONS


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_exception_survives_pickle_with_its_class_and_attributes(name: str) -> None:
    original = BUILDERS[name]()
    assert isinstance(original, getattr(docr, name))
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        data = pickle.dumps(original, protocol=protocol)
        assert TOKEN.encode() not in data
        copied = pickle.loads(data)
        assert type(copied) is type(original)
        assert str(copied) == str(original)
        assert copied.args == original.args
        assert vars(copied) == vars(original)
    assert vars(copy.deepcopy(original)) == vars(original)


def test_pickled_api_errors_keep_every_field() -> None:
    original = status(429, **{"retry-after": "999", "ratelimit-remaining": "0"})
    assert isinstance(original, docr.RateLimitError)
    copied = pickle.loads(pickle.dumps(original))
    assert (copied.status_code, copied.error_id, copied.message, copied.request_id, copied.attempts) == (
        429,
        "error_429",
        "status 429",
        "rid",
        1,
    )
    assert copied.retry_after == 999
    assert copied.rate_limit == original.rate_limit
    assert copied.headers["retry-after"] == "999"
    assert isinstance(copied.headers, httpx.Headers)


def test_a_pickled_incomplete_listing_keeps_its_counts() -> None:
    original = BUILDERS["IncompleteListingError"]()
    assert isinstance(original, docr.IncompleteListingError)
    copied = pickle.loads(pickle.dumps(original))
    assert (copied.expected, copied.received) == (600, original.received)
    assert original.received < 600
