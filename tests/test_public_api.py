"""The public surface is pinned: nothing leaks out, nothing disappears by accident."""

from __future__ import annotations

import subprocess
import sys

import docr


def test_all_is_pinned() -> None:
    assert sorted(docr.__all__) == sorted(
        [
            "APIError",
            "APITimeoutError",
            "AsyncClient",
            "AuthenticationError",
            "Blob",
            "Client",
            "ClientClosedError",
            "ConfigurationError",
            "ConflictError",
            "DockerCredentials",
            "DocrError",
            "GarbageCollection",
            "IncompleteListingError",
            "InvalidArgument",
            "InvalidResponse",
            "ListingChangedError",
            "Manifest",
            "ManifestPage",
            "NotFoundError",
            "OCIDescriptor",
            "OCIManifest",
            "PermissionDenied",
            "Platform",
            "RateLimit",
            "RateLimitError",
            "RateLimits",
            "Registry",
            "RegistryProgress",
            "Repository",
            "RepositoryUsage",
            "ServerError",
            "Subscription",
            "Tag",
            "TimeoutError",
            "TransportError",
            "Usage",
            "UsageTotals",
            "__version__",
            "usage",
        ]
    )


def test_every_public_name_resolves_and_lives_in_docr() -> None:
    for name in docr.__all__:
        value = getattr(docr, name)
        if name != "__version__":
            assert value.__module__.startswith("docr."), name
    assert dir(docr) == sorted(docr.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        docr.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_docr_is_light() -> None:
    code = "import sys, docr; print(sorted(m for m in ('httpx', 'docr_api', 'rich', 'yaml') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_exception_tree() -> None:
    assert issubclass(docr.InvalidArgument, ValueError)
    assert docr.TimeoutError is docr.APITimeoutError  # the 0.1 name stays, as an alias
    assert docr.APITimeoutError.__name__ == "APITimeoutError"  # it no longer shadows the builtin
    assert issubclass(docr.APITimeoutError, docr.TransportError)
    assert issubclass(docr.APITimeoutError, TimeoutError)
    assert issubclass(docr.ClientClosedError, docr.ConfigurationError)
    assert issubclass(docr.ConflictError, docr.APIError)
    for cls in (
        docr.AuthenticationError,
        docr.PermissionDenied,
        docr.NotFoundError,
        docr.RateLimitError,
        docr.ServerError,
        docr.InvalidResponse,
    ):
        assert issubclass(cls, docr.APIError)
    for cls in (
        docr.APIError,
        docr.TransportError,
        docr.ConfigurationError,
        docr.InvalidArgument,
        docr.ListingChangedError,
        docr.IncompleteListingError,
    ):
        assert issubclass(cls, docr.DocrError)
