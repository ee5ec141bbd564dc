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
    "DocrError",
    "IncompleteListingError",
    "InvalidArgument",
    "InvalidResponse",
    "ListingChangedError",
    "Manifest",
    "ManifestPage",
    "NotFoundError",
    "PermissionDenied",
    "RateLimit",
    "RateLimitError",
    "ServerError",
    "TimeoutError",
    "TransportError",
    "__version__",
]

_HOMES = {
    "AsyncClient": "docr._async_client",
    "Client": "docr._client",
    "Blob": "docr._models",
    "Manifest": "docr._models",
    "ManifestPage": "docr._models",
    "RateLimit": "docr._models",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'docr' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES.get(name, "docr._errors")), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
