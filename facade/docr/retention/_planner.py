"""The planner: which manifests of one repository a policy deletes, and why. Pure: no I/O, no clock.

Usage::

    decisions = decide(listing, policy=Policy(), now=now, oci=bodies, unreadable=failures)
    for candidate in decisions.candidates:
        print(candidate.digest, candidate.reason)

``listing`` is the repository's manifests (anything shaped like ``docr.Manifest``); ``oci`` the
parsed body of each (``docr._oci.parse_manifest``) by digest; ``unreadable`` why a body could not
be had, by digest. Give every listed manifest to one of the two: the listing has no media type,
so any manifest may be an index, and one in neither counts as unreadable.

How each manifest is decided, first match wins:

1. The policy keeps it: a tag matches ``keep_tags`` (``keep-tag``), it is among the
   ``keep_last`` newest tagged (``keep-last``), its age is unknown (``age-unknown``), or it was
   updated within ``grace`` (``grace``).
2. It is tagged and no rule deletes it (``tagged-default``), or it is an untagged manifest that
   nothing references and ``untagged == "keep"`` (``untagged-keep``).
3. A kept manifest protects it, transitively: it is a child of a kept index (``index-child``; for
   a buildx attestation of a kept image, ``attestation``) or a referrer of a kept subject (``referrer``).
4. Fail closed: when any manifest could not be read, untagged manifests are kept (``fail-closed``).
5. Otherwise it is deleted: a tagged one older than ``tagged_older_than`` (``tagged-older``); an
   untagged one that nothing references (``untagged``); one whose every referrer is deleted goes
   with them (``index-child``, ``referrer``: a deleted index takes its children, attestations included).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import heapq
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

from docr import _names
from docr._errors import InvalidArgument
from docr._oci import OCIManifest
from docr.retention._decisions import FAIL_CLOSED_NOTE, Decision, Decisions, Rule
from docr.retention._duration import format_age, format_duration
from docr.retention._graph import EdgeKind, Graph, build_graph, reachable
from docr.retention._policy import Policy
from docr.retention._types import ManifestLike

__all__ = ["decide"]

_GRAPH_RULE: dict[EdgeKind, Rule] = {"index": "index-child", "subject": "referrer"}
_KEPT_BY = {"index": "child of kept index", "subject": "referrer of kept"}
_DELETED_BY = {"index": "child of deleted index", "subject": "referrer of deleted"}
_MAX_LISTED_IN_NOTE = 5
_Dated = TypeVar("_Dated", "_Record", Decision)


@dataclass
class _Record:
    digest: str
    tags: tuple[str, ...]
    updated_at: dt.datetime | None
    compressed_size_bytes: int | None
    blobs: dict[str, int | None] = field(default_factory=dict)


def decide(
    manifests: Iterable[ManifestLike],
    *,
    policy: Policy,
    now: dt.datetime,
    oci: Mapping[str, OCIManifest],
    unreadable: Mapping[str, str],
    external_blobs: Collection[str] = (),
) -> Decisions:
    """Decide every manifest of one repository. ``now`` must be timezone-aware.

    ``external_blobs`` are blob digests referenced outside this repository (garbage collection is
    registry-wide): they free nothing either.
    """
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be a docr.retention.Policy, not {type(policy).__name__}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    notes: list[str] = []
    records, invalid = _records(manifests, notes)
    unknown = dict(unreadable)
    unknown.update({digest: "not read" for digest in records if digest not in oci and digest not in unreadable})
    unknown.update({f"listed manifest #{number}": "no valid digest" for number in invalid})
    if unknown:
        notes.append(_fail_closed_note(unknown))
    graph = build_graph(set(records), oci)
    direct = _direct_keeps(records, policy, now)
    defaults, own_deletes = _own_rules(records, direct, policy, now, len(unknown), graph)
    kept = reachable([*direct, *defaults], graph.children)
    decisions: dict[str, Decision] = {}
    for digest, record in records.items():
        rule, reason, via = _explain(digest, kept, direct, defaults, own_deletes, graph)
        decisions[digest] = Decision(
            digest=digest,
            delete=digest not in kept,
            rule=rule,
            reason=reason,
            via=via,
            tags=record.tags,
            updated_at=record.updated_at,
            compressed_size_bytes=record.compressed_size_bytes,
        )
    order = _deletion_order([d for d in decisions.values() if d.delete], graph)
    blob_sizes, freeable = _freeable_blobs(records, set(order), set(external_blobs))
    candidates = tuple(replace(decisions[digest], blobs=freeable[digest]) for digest in order)
    kept_decisions = tuple(_newest_first([d for d in decisions.values() if not d.delete]))
    return Decisions(kept=kept_decisions, candidates=candidates, blob_sizes=blob_sizes, notes=tuple(notes))


def _records(manifests: Iterable[ManifestLike], notes: list[str]) -> tuple[dict[str, _Record], list[int]]:
    """The listing by digest, and the positions of manifests without a valid digest (never deleted,
    and since they cannot be read, they make the plan fail closed). A manifest listed twice is
    merged toward keeping it: all its tags, the newer date."""
    records: dict[str, _Record] = {}
    invalid: list[int] = []
    for number, manifest in enumerate(manifests, start=1):
        try:
            digest = _names.digest(manifest.digest)
        except InvalidArgument:
            invalid.append(number)
            notes.append(f"listed manifest #{number} has no valid digest ({manifest.digest!r:.80}); it is ignored")
            continue
        updated_at = manifest.updated_at
        if updated_at is not None and updated_at.tzinfo is None:
            updated_at = updated_at.replace(tzinfo=dt.UTC)
        blobs = {blob.digest: blob.compressed_size_bytes for blob in manifest.blobs if isinstance(blob.digest, str)}
        record = _Record(digest, tuple(sorted(set(manifest.tags))), updated_at, manifest.compressed_size_bytes, blobs)
        previous = records.get(digest)
        if previous is not None:
            record.tags = tuple(sorted(set(previous.tags) | set(record.tags)))
            dates = (previous.updated_at, record.updated_at)
            record.updated_at = None if None in dates else max(d for d in dates if d is not None)
            both = (previous.compressed_size_bytes, record.compressed_size_bytes)
            sizes = [size for size in both if size is not None]
            record.compressed_size_bytes = max(sizes) if sizes else None
            record.blobs = previous.blobs | record.blobs
            notes.append(f"{digest} is listed more than once; its tags and dates are merged")
        records[digest] = record
    return records, invalid


def _fail_closed_note(unknown: Mapping[str, str]) -> str:
    shown = [f"{digest} ({why})" for digest, why in sorted(unknown.items())[:_MAX_LISTED_IN_NOTE]]
    more = len(unknown) - len(shown)
    return (
        f"{FAIL_CLOSED_NOTE} {len(unknown)} manifest(s) could not be read, so any of them may be an index:"
        f" no untagged manifest is deleted. Not read: {', '.join(shown)}" + (f" and {more} more" if more else "")
    )


def _direct_keeps(records: Mapping[str, _Record], policy: Policy, now: dt.datetime) -> dict[str, tuple[Rule, str]]:
    tagged = _newest_first([record for record in records.values() if record.tags])
    rank = {record.digest: number for number, record in enumerate(tagged[: policy.keep_last], start=1)}
    keeps: dict[str, tuple[Rule, str]] = {}
    for digest, record in records.items():
        match = next(
            ((tag, glob) for tag in record.tags for glob in policy.keep_tags if fnmatch.fnmatchcase(tag, glob)), None
        )
        if match is not None:
            tag, glob = match
            keeps[digest] = ("keep-tag", f"keep-tag {tag}" + (f" ({glob})" if glob != tag else ""))
        elif digest in rank:
            keeps[digest] = ("keep-last", f"keep-last {policy.keep_last} (#{rank[digest]} newest tagged)")
        elif record.updated_at is None:
            keeps[digest] = ("age-unknown", "updated_at unknown: its age cannot be compared")
        elif record.updated_at >= now - policy.grace:
            age = now - record.updated_at
            when = f"{format_age(age)} ago" if age >= dt.timedelta(0) else f"{format_age(age)} in the future"
            keeps[digest] = ("grace", f"within grace (updated {when})")
    return keeps


def _own_rules(
    records: Mapping[str, _Record],
    direct: Mapping[str, tuple[Rule, str]],
    policy: Policy,
    now: dt.datetime,
    not_read: int,
    graph: Graph,
) -> tuple[dict[str, tuple[Rule, str]], dict[str, tuple[Rule, str]]]:
    """What the policy does with each manifest no keep rule holds, before the graph has its say:
    ``defaults`` are kept (and protect what they reference), ``own_deletes`` go unless protected.
    An untagged manifest that something references is in neither: it follows its referrers."""
    defaults: dict[str, tuple[Rule, str]] = {}
    own_deletes: dict[str, tuple[Rule, str]] = {}
    cutoff = None if policy.tagged_older_than is None else now - policy.tagged_older_than
    for digest, record in records.items():
        if digest in direct:
            continue
        referenced = bool(graph.parents.get(digest))
        if record.tags:
            if cutoff is not None and record.updated_at is not None and record.updated_at < cutoff:
                label = format_duration(policy.tagged_older_than or dt.timedelta(0))
                own_deletes[digest] = ("tagged-older", f"tagged {', '.join(record.tags)} older than {label}")
            else:
                defaults[digest] = ("tagged-default", "tagged, no rule deletes it")
        elif policy.untagged == "keep" and (not referenced or not_read):
            # Failing closed, a referenced one is kept too; say so by the policy's own rule, which
            # still holds once its referrers are gone (planning again gives the same reasons).
            defaults[digest] = ("untagged-keep", "untagged=keep")
        elif not_read:
            defaults[digest] = ("fail-closed", f"untagged, kept: fail closed ({not_read} not read)")
        elif not referenced:
            own_deletes[digest] = ("untagged", "untagged, older than grace")
    return defaults, own_deletes


def _explain(
    digest: str,
    kept: set[str],
    direct: Mapping[str, tuple[Rule, str]],
    defaults: Mapping[str, tuple[Rule, str]],
    own_deletes: Mapping[str, tuple[Rule, str]],
    graph: Graph,
) -> tuple[Rule, str, str | None]:
    if digest in direct:
        return (*direct[digest], None)
    parents = graph.parents.get(digest, [])
    if digest in kept:
        default = defaults.get(digest)
        if default is not None and default[0] not in ("fail-closed", "untagged-keep"):
            return (*default, None)
        for kind, parent in parents:
            if parent in kept:
                attested = graph.attests.get((parent, digest))
                if attested is not None and attested in kept:
                    return "attestation", f"attestation of kept {attested} (in index {parent})", parent
                return _GRAPH_RULE[kind], f"{_KEPT_BY[kind]} {parent}", parent
        if default is None:  # kept yet neither a root nor a kept parent: cannot happen
            raise AssertionError(f"no reason to keep {digest}")
        return (*default, None)
    if digest in own_deletes:
        return (*own_deletes[digest], None)
    kind, parent = parents[0]
    return _GRAPH_RULE[kind], f"{_DELETED_BY[kind]} {parent}", parent


def _newest_first(items: list[_Dated]) -> list[_Dated]:
    items = sorted(items, key=lambda item: item.digest)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(items, key=lambda item: (item.updated_at is not None, item.updated_at or epoch), reverse=True)


def _deletion_order(candidates: list[Decision], graph: Graph) -> list[str]:
    """Topological order (what names another goes first), oldest first among the free."""
    names = {c.digest for c in candidates}
    waiting = dict.fromkeys(names, 0)
    for digest in names:
        for later in graph.before.get(digest, ()):
            if later in names:
                waiting[later] += 1
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    ready = [(c.updated_at or epoch, c.digest) for c in candidates if waiting[c.digest] == 0]
    heapq.heapify(ready)
    dates = {c.digest: c.updated_at or epoch for c in candidates}
    order: list[str] = []
    while ready:
        _, digest = heapq.heappop(ready)
        order.append(digest)
        for later in sorted(graph.before.get(digest, ())):
            if later in names:
                waiting[later] -= 1
                if waiting[later] == 0:
                    heapq.heappush(ready, (dates[later], later))
    # A cycle cannot occur in content-addressed data; if one did, its members still come last.
    order.extend(sorted(names - set(order)))
    return order


def _freeable_blobs(
    records: Mapping[str, _Record], candidates: set[str], external: set[str]
) -> tuple[dict[str, int], dict[str, tuple[str, ...]]]:
    holders: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    for record in records.values():
        for blob, size in record.blobs.items():
            holders.setdefault(blob, set()).add(record.digest)
            sizes[blob] = max(sizes.get(blob, 0), size or 0)
    freeable = {blob for blob, names in holders.items() if names <= candidates and blob not in external}
    per_candidate = {digest: tuple(sorted(set(records[digest].blobs) & freeable)) for digest in candidates}
    return {blob: sizes[blob] for blob in sorted(freeable)}, per_candidate
