"""docr: list DigitalOcean Container Registry manifests, every page, exactly once.

Usage::

    import docr

    with docr.Client() as client:  # token from DIGITALOCEAN_TOKEN
        for manifest in client.iter_manifests("example", "my/repo"):
            print(manifest.digest, manifest.tags, manifest.updated_at)

Names are imported on first use, so ``import docr`` (and ``docr --help``) stays fast.
"""

from __future__ import annotations

import importlib

from docr._version import __version__

# Not typing's TYPE_CHECKING: `import docr` (and so `docr --help`) does not import typing (~5 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from docr._async_client import AsyncClient
    from docr._client import Client
    from docr._errors import (
        APIError,
        APITimeoutError,
        AuthenticationError,
        ClientClosedError,
        ConfigurationError,
        ConflictError,
        DocrError,
        IncompleteListingError,
        InvalidArgument,
        InvalidResponse,
        ListingChangedError,
        NotFoundError,
        PermissionDenied,
        RateLimitError,
        ServerError,
        TimeoutError,
        TransportError,
    )
    from docr._models import Blob, Manifest, ManifestPage, RateLimit
    from docr._oci import OCIDescriptor, OCIManifest, Platform
    from docr._ratebudget import RateLimits
    from docr._resources import DockerCredentials, GarbageCollection, Registry, Repository, Subscription, Tag
    from docr._schedule import RegistryProgress
    from docr._usage import usage
    from docr._usage_models import RepositoryUsage, Usage, UsageTotals

__all__ = [
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

_HOMES = {
    "AsyncClient": "docr._async_client",
    "Client": "docr._client",
    "Blob": "docr._models",
    "Manifest": "docr._models",
    "ManifestPage": "docr._models",
    "RateLimit": "docr._models",
    "OCIDescriptor": "docr._oci",
    "OCIManifest": "docr._oci",
    "Platform": "docr._oci",
    "RateLimits": "docr._ratebudget",
    "DockerCredentials": "docr._resources",
    "GarbageCollection": "docr._resources",
    "Registry": "docr._resources",
    "Repository": "docr._resources",
    "Subscription": "docr._resources",
    "Tag": "docr._resources",
    "RegistryProgress": "docr._schedule",
    "usage": "docr._usage",
    "RepositoryUsage": "docr._usage_models",
    "Usage": "docr._usage_models",
    "UsageTotals": "docr._usage_models",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'docr' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES.get(name, "docr._errors")), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
