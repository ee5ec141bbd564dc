"""The references between a repository's manifests, read from their OCI bodies.

Two kinds of edge, each from the manifest that protects to the one protected:

- ``index``: an index (or manifest list) to each child it lists (platform images, attestations,
  nested indexes);
- ``subject``: a manifest to each referrer whose ``subject`` names it (signatures, SBOMs).

Beside them, ``attests[(index, child)]`` records that an index lists ``child`` as the buildx
attestation of another child: only for the reason (``attestation of kept ...``). An attestation
is found through its index, so it goes with a deleted index even when the image it attests stays.

Only manifests of the listing count: a reference to anything else protects nothing. Deletion
order goes the other way round from what a manifest's bytes name: an index before its children,
a referrer or attestation before what it describes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from docr._oci import OCIManifest

__all__ = ["EdgeKind", "Graph", "build_graph", "reachable"]

EdgeKind = Literal["index", "subject"]


@dataclass
class Graph:
    """``parents[d]``: ``(kind, digest)`` of what protects ``d``, indexes first, then by digest.
    ``children[d]``: what ``d`` protects. ``before[d]``: what must be deleted after ``d``.
    ``attests[(index, child)]``: the manifest that ``index`` says ``child`` is the attestation of."""

    parents: dict[str, list[tuple[EdgeKind, str]]] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=dict)
    before: dict[str, set[str]] = field(default_factory=dict)
    attests: dict[tuple[str, str], str] = field(default_factory=dict)

    def add_protection(self, kind: EdgeKind, parent: str, child: str) -> None:
        if parent == child:  # impossible for content-addressed data; never let a manifest explain itself
            return
        entry = (kind, parent)
        found = self.parents.setdefault(child, [])
        if entry not in found:
            found.append(entry)
        self.children.setdefault(parent, set()).add(child)

    def add_order(self, first: str, then: str) -> None:
        if first != then:
            self.before.setdefault(first, set()).add(then)


def build_graph(listed: Collection[str], oci: Mapping[str, OCIManifest]) -> Graph:
    """The graph between the ``listed`` digests, from the bodies in ``oci`` (keyed by digest)."""
    graph = Graph()
    for digest in sorted(listed):
        manifest = oci.get(digest)
        if manifest is None:
            continue
        for child in manifest.children:
            if child.digest not in listed:
                continue
            graph.add_protection("index", digest, child.digest)
            graph.add_order(digest, child.digest)
            attested = child.attests
            if attested is not None and attested in listed and attested != child.digest:
                graph.attests[(digest, child.digest)] = attested
                graph.add_order(child.digest, attested)
        if manifest.subject is not None and manifest.subject in listed:
            graph.add_protection("subject", manifest.subject, digest)
            graph.add_order(digest, manifest.subject)
    for entries in graph.parents.values():
        entries.sort(key=lambda entry: (entry[0] != "index", entry[1]))
    return graph


def reachable(roots: Iterable[str], children: Mapping[str, Collection[str]]) -> set[str]:
    """Every digest reachable from ``roots`` along ``children`` (the roots included)."""
    seen = set(roots)
    stack = list(seen)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen
