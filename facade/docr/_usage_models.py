"""What ``docr.usage`` returns: ``Usage``, its per-repository rows and its totals.

The JSON (``Usage.to_dict()``, ``docr usage -o json``)::

    {"registry": "example",
     "repositories": [{"name", "manifests", "tagged", "untagged", "compressed_bytes_sum",
                       "unique_bytes", "shared_bytes", "reclaimable_bytes"}, ...],   # by name
     "totals": {"manifests", "tagged", "untagged", "compressed_bytes_sum",
                "unique_bytes", "shared_bytes", "reclaimable_bytes"},
     "storage_usage_bytes": ..., "included_storage_bytes": ...}

The attributes have the same names. Per repository:

- ``compressed_bytes_sum``: the sum of its manifests' ``compressed_size_bytes``, what registry UIs
  show; it counts a layer once per manifest naming it, so it overstates storage;
- ``unique_bytes``: its blobs (each once) that no other repository references: what deleting
  the whole repository would free;
- ``shared_bytes``: its blobs (each once) that another repository references too;
- ``reclaimable_bytes``: its unique blobs that only manifests a clean-up under the policy
  deletes reference: what that clean-up frees, garbage collection included.

Totals add the rows up, except two that count each blob once registry-wide: ``shared_bytes``
(so ``unique_bytes + shared_bytes`` is every blob the manifests reference, once: what
``storage_usage_bytes`` reports, before garbage collection removes unreferenced blobs), and
``reclaimable_bytes``, which also holds the shared blobs that every repository holding them
lets go. ``storage_usage_bytes`` is the registry's own figure (``None`` if the API gives none);
``included_storage_bytes`` the subscription's (``None`` without one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["COUNT_FIELDS", "RepositoryUsage", "Usage", "UsageTotals"]

COUNT_FIELDS = (
    "manifests",
    "tagged",
    "untagged",
    "compressed_bytes_sum",
    "unique_bytes",
    "shared_bytes",
    "reclaimable_bytes",
)


@dataclass(frozen=True)
class UsageTotals:
    """The registry's totals (see the module docstring for the two counted once)."""

    manifests: int = 0
    tagged: int = 0
    untagged: int = 0
    compressed_bytes_sum: int = 0
    unique_bytes: int = 0
    shared_bytes: int = 0
    reclaimable_bytes: int = 0

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNT_FIELDS}


@dataclass(frozen=True)
class RepositoryUsage:
    """One repository's row. ``unreadable`` (not in the JSON) counts the manifest bodies that could
    not be read: the clean-up then fails closed (deletes no untagged manifest), and so does
    ``reclaimable_bytes``."""

    name: str
    manifests: int = 0
    tagged: int = 0
    untagged: int = 0
    compressed_bytes_sum: int = 0
    unique_bytes: int = 0
    shared_bytes: int = 0
    reclaimable_bytes: int = 0
    unreadable: int = 0

    @property
    def stored_bytes(self) -> int:
        """Every blob it references, once: ``unique_bytes + shared_bytes``."""
        return self.unique_bytes + self.shared_bytes

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **{name: getattr(self, name) for name in COUNT_FIELDS}}


@dataclass(frozen=True)
class Usage:
    """Where a registry's storage goes; see the module docstring for each number."""

    registry: str
    repositories: tuple[RepositoryUsage, ...]
    totals: UsageTotals
    storage_usage_bytes: int | None = None
    included_storage_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``docr usage -o json`` prints."""
        return {
            "registry": self.registry,
            "repositories": [row.to_dict() for row in self.repositories],
            "totals": self.totals.to_dict(),
            "storage_usage_bytes": self.storage_usage_bytes,
            "included_storage_bytes": self.included_storage_bytes,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @property
    def unreadable(self) -> int:
        """Manifest bodies that could not be read, in every repository."""
        return sum(row.unreadable for row in self.repositories)
