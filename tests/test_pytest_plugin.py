"""The ``docr_fake`` fixture that installing docr adds to pytest."""

from __future__ import annotations

import httpx

import docr
from docr.testing import FakeRegistry


def test_docr_fake_is_a_started_fake(docr_fake: FakeRegistry) -> None:
    docr_fake.generate("example", "my/repo", count=30, seed=4)
    with docr.Client("any-token", base_url=docr_fake.url) as client:
        assert len(list(client.iter_manifests("example", "my/repo"))) == 30
    assert docr_fake.url.startswith("http://127.0.0.1:")


def test_each_test_gets_a_fresh_fake(docr_fake: FakeRegistry) -> None:
    assert docr_fake.requests == []
    assert docr_fake.faults_injected == 0


def test_docr_fake_serves_the_registry_api_too(docr_fake: FakeRegistry) -> None:
    digest = docr_fake.push_image("example", "app", tags=["v1"])
    challenge = httpx.get(f"{docr_fake.oci_url}/v2/example/app/manifests/v1")
    assert challenge.status_code == 401
    assert f'realm="{docr_fake.oci_url}/token"' in challenge.headers["www-authenticate"]
    assert docr_fake.tags("example", "app") == {"v1": digest}
