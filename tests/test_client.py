"""Client construction: token sources, settings checks, repr, the http_client you pass in."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import docr
from tests.mock_api import TOKEN, PagedAPI


@pytest.fixture(autouse=True)
def no_token_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGITALOCEAN_TOKEN", raising=False)
    monkeypatch.delenv("DIGITALOCEAN_ACCESS_TOKEN", raising=False)


def sent_authorization(client_factory: type[docr.Client], **kwargs: object) -> str:
    api = PagedAPI(1)
    client = client_factory(http_client=httpx.Client(transport=httpx.MockTransport(api)), **kwargs)  # type: ignore[arg-type]
    client.list_manifests("example", "my/repo")
    return api.calls[0].headers["authorization"]


def test_token_comes_from_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITALOCEAN_ACCESS_TOKEN", "from-access-token")
    assert sent_authorization(docr.Client) == "Bearer from-access-token"
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", "from-token")
    assert sent_authorization(docr.Client) == "Bearer from-token"
    assert sent_authorization(docr.Client, token="explicit") == "Bearer explicit"


def test_no_token_anywhere_is_a_configuration_error() -> None:
    with pytest.raises(docr.ConfigurationError, match="DIGITALOCEAN_TOKEN"):
        docr.Client()
    with pytest.raises(docr.ConfigurationError, match="DIGITALOCEAN_TOKEN"):
        docr.AsyncClient()


@pytest.mark.parametrize("token", ["", "   ", "two words", "line\nbreak"])
def test_malformed_tokens_are_refused_without_echoing_them(token: str) -> None:
    with pytest.raises(docr.ConfigurationError) as info:
        docr.Client(token)
    if token.strip():
        assert token not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"timeout": None}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": httpx.Timeout(None)}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 1000}, "concurrency"),
        ({"base_url": "ftp://api.test"}, "base_url"),
        ({"base_url": "not a url"}, "base_url"),
        ({"base_url": "https://api.test/?x=1"}, "base_url"),
        ({"http_client": httpx.AsyncClient()}, "http_client"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(docr.InvalidArgument) as info:
        docr.Client(TOKEN, **kwargs)  # type: ignore[arg-type]
    assert info.value.argument == argument


def test_base_url_comes_from_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert docr.Client(TOKEN)._settings.base_url == "https://api.digitalocean.com"
    monkeypatch.setenv("DIGITALOCEAN_API_URL", "http://127.0.0.1:8080/")
    assert docr.Client(TOKEN)._settings.base_url == "http://127.0.0.1:8080"
    assert docr.Client(TOKEN, base_url="https://other.test")._settings.base_url == "https://other.test"


def test_repr_never_shows_the_token() -> None:
    client = docr.Client(TOKEN)
    assert TOKEN not in repr(client)
    assert "[secure]" in repr(client)
    assert repr(client) == (
        "docr.Client(base_url='https://api.digitalocean.com', token=[secure], legacy_endpoint=False)"
    )
    assert TOKEN not in repr(client._settings)
    assert TOKEN not in repr(client._http.headers)
    assert "authorization" not in client._http.headers  # sent per request, never a client default
    client.close()


def test_default_client_has_a_finite_timeout_and_no_redirects() -> None:
    with docr.Client(TOKEN) as client:
        assert client._http.timeout == httpx.Timeout(30.0)
        assert client._http.follow_redirects is False
    assert client._http.is_closed


def test_a_passed_http_client_is_used_but_never_changed_nor_closed() -> None:
    api = PagedAPI(2)
    http = httpx.Client(transport=httpx.MockTransport(api), base_url="http://mine.test")
    before = (http.base_url, dict(http.headers), http.auth, {k: list(v) for k, v in http.event_hooks.items()})
    with docr.Client(TOKEN, http_client=http) as client:
        assert (http.base_url, dict(http.headers), http.auth) == before[:3]
        assert len(client.list_manifests("example", "my/repo").manifests) == 2
        assert (http.base_url, dict(http.headers), http.auth) == before[:3]
    assert str(api.calls[0].url).startswith("http://mine.test/v2/registries/example/")
    assert api.calls[0].headers["user-agent"].startswith("docr/")
    assert api.calls[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert (http.base_url, dict(http.headers), http.auth, {k: list(v) for k, v in http.event_hooks.items()}) == before
    assert not http.is_closed
    http.close()


def test_after_close_the_passed_http_client_sends_no_token_anywhere() -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(transport=httpx.MockTransport(lambda r: seen.append(r) or PagedAPI(1)(r)))
    with docr.Client(TOKEN, http_client=http) as client:
        client.list_manifests("example", "my/repo")
    http.get("https://other.example/steal")
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in seen[1].headers
    http.close()


def test_a_raise_for_status_hook_on_the_passed_client_does_not_hide_a_404() -> None:
    api = PagedAPI()
    api.fail(*[httpx.Response(404, json={"id": "not_found", "message": "gone"})] * 5)
    http = httpx.Client(transport=httpx.MockTransport(api), event_hooks={"response": [httpx.Response.raise_for_status]})
    client = docr.Client(TOKEN, base_url="http://api.test", http_client=http)
    client._sleep = lambda seconds: None
    with pytest.raises(docr.NotFoundError) as info:
        client.list_manifests("example", "my/repo")
    assert info.value.message == "gone"
    assert len(api.calls) == 1  # a 404 is final: not retried
    http.close()


def test_the_passed_clients_own_auth_never_replaces_the_token() -> None:
    api = PagedAPI(1)
    http = httpx.Client(transport=httpx.MockTransport(api), auth=("user", "pass"))
    docr.Client(TOKEN, base_url="http://api.test", http_client=http).list_manifests("example", "my/repo")
    assert api.calls[0].headers["authorization"] == f"Bearer {TOKEN}"
    http.close()


def test_no_context_variable_keeps_the_last_response_alive() -> None:
    import contextvars

    api = PagedAPI(1)
    docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(api))
    ).list_manifests("example", "my/repo")
    leftovers = [value for value in contextvars.copy_context().values() if isinstance(value, httpx.Response)]
    assert leftovers == []


def test_using_a_closed_client_is_a_docr_error() -> None:
    client = docr.Client(TOKEN, base_url="http://api.test")
    client.close()
    with pytest.raises(docr.ClientClosedError):
        client.list_manifests("example", "my/repo")
    with pytest.raises(docr.ClientClosedError):
        client.iter_manifests("example", "my/repo")
    assert isinstance(docr.ClientClosedError("x"), docr.ConfigurationError)


def test_a_closed_http_client_of_yours_is_a_docr_error() -> None:
    http = httpx.Client(transport=httpx.MockTransport(PagedAPI(1)))
    http.close()
    with pytest.raises(docr.ClientClosedError, match="http_client"):
        docr.Client(TOKEN, base_url="http://api.test", http_client=http).list_manifests("example", "my/repo")


def test_credentials_in_the_base_url_are_refused_without_showing_them() -> None:
    with pytest.raises(docr.ConfigurationError) as info:
        docr.Client(TOKEN, base_url="http://user:hunter22@api.test")
    assert "hunter22" not in str(info.value)
    assert "user" not in str(info.value).replace("user:password", "")


def test_a_redirect_is_an_error_not_followed() -> None:
    def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "http://elsewhere.test/steal"})

    client = docr.Client(
        TOKEN, base_url="http://api.test", http_client=httpx.Client(transport=httpx.MockTransport(redirect))
    )
    with pytest.raises(docr.APIError) as info:
        client.list_manifests("example", "my/repo")
    assert info.value.status_code == 302


def test_async_client_context_manager_closes_its_pool() -> None:
    async def run() -> httpx.AsyncClient:
        async with docr.AsyncClient(TOKEN) as client:
            assert "AsyncClient" in repr(client)
            assert TOKEN not in repr(client)
            return client._http

    assert asyncio.run(run()).is_closed
