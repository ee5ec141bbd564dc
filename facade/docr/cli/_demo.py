"""``--demo``: an embedded ``docr.testing.FakeRegistry`` holding a registry like the ones people
clean up, for any registry name.

What it holds, the same on every run, with times relative to the command's "now" (so ages read
as on a live registry):

- ``seed_demo``'s repositories (``web/frontend``, ``web/admin``, ``api``, ``tools/migrate``,
  ``base/debian``): multi-arch images whose platform and attestation manifests are untagged,
  signatures and SBOMs, stale untagged builds (see ``docr.testing._demo``);
- a repository REF names that is not one of those: ``DEMO_MANIFESTS`` generated manifests
  (seeded from REF, the newest pushed ``NEWEST_AGE`` ago), as ``docr manifests --demo`` always showed;
- two garbage collections that ended three and one weeks ago, having freed the blobs of
  builds deleted before them; with ``gc_running``, a third one under way (``DEMO_GC_STEP``
  seconds per status), for ``docr gc status|list|wait|cancel``.

Digests are the same on every run, whatever "now" is, so a digest listed by one command can be
given to the next (``docr delete``): the images are pushed at a fixed moment (``SEED_TIME``), then
their listing entries are moved in time, together, to "now". The fake's clock is set by hand
while the past is made, then runs in real time from "now".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from docr.cli._args import RepositoryRef

if TYPE_CHECKING:
    from docr.testing import FakeRegistry

__all__ = [
    "DEMO_GC_STEP",
    "DEMO_MANIFESTS",
    "DEMO_POLL",
    "SEED_TIME",
    "Demo",
    "demo_fake",
    "demo_registry",
    "shift_by",
    "shift_to",
]

DEMO_MANIFESTS = 60
DEMO_TOKEN = "demo-token"  # the embedded fake accepts any bearer token
NEWEST_AGE = dt.timedelta(hours=3)
DEMO_GC_STEP = 2.0  # seconds a demo garbage collection spends in each status
DEMO_POLL = 0.5  # seconds between polls while waiting for one (unless --poll says)
SEED_TIME = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)  # the pushes' own time: digests depend on it
_PAST_GC_STEP = 60.0
_PAST_COLLECTIONS = ((21, [41_873_408, 3_211_264]), (7, [17_829_120]))  # (days ago, layers of deleted builds)


@dataclass(frozen=True)
class Demo:
    url: str
    token: str
    notice: str


class _DemoClock:
    """The fake's clock: still while the demo's past is made, then running in real time."""

    def __init__(self, start: float) -> None:
        self._lock = threading.Lock()
        self._base = start
        self._since: float | None = None

    def __call__(self) -> float:
        with self._lock:
            return self._base if self._since is None else self._base + (time.monotonic() - self._since)

    def set(self, when: float) -> None:
        with self._lock:
            self._base, self._since = when, None

    def run_from(self, when: float) -> None:
        """Run in real time from ``when`` (or from now, if it is later: time never runs backwards)."""
        current = self()
        with self._lock:
            self._base, self._since = max(when, current), time.monotonic()


@contextlib.contextmanager
def demo_fake(
    registry: str, *, now: dt.datetime, repository: str | None = None, gc_running: bool = False
) -> Iterator[Demo]:
    """Serve the demo registry ``registry`` on 127.0.0.1 for the duration of the block; with
    ``repository`` not among the seeded ones, generated manifests for it too."""
    from docr.testing import FakeRegistry

    start = now.timestamp()
    clock = _DemoClock(start - _PAST_COLLECTIONS[0][0] * 86400 - 3600)
    with FakeRegistry(clock=clock) as fake:
        _past_collections(fake, registry, clock, start)
        seeded = _seed(fake, registry, now)
        fake.gc_step_seconds = DEMO_GC_STEP  # for the collections of the demo's own run too
        if gc_running:
            clock.run_from(start - 1.5 * DEMO_GC_STEP)  # under way for a moment already
            _start_collection(fake, registry)
        clock.run_from(start)
        what = f"sample registry {registry} (multi-arch images, attestations, stale builds)"
        if repository is not None and repository not in seeded:
            ref = RepositoryRef(registry, repository)
            sample = FakeRegistry().generate(
                registry, repository, count=DEMO_MANIFESTS, seed=zlib.crc32(str(ref).encode())
            )
            fake.add_manifests(registry, repository, shift_to(sample, now - NEWEST_AGE))
            what = f"{DEMO_MANIFESTS} sample manifests"
        notice = f"demo: {what} from an embedded fake registry ({fake.url}), not DigitalOcean; no token used"
        yield Demo(url=fake.url, token=DEMO_TOKEN, notice=notice)


@contextlib.contextmanager
def demo_registry(ref: RepositoryRef, *, now: dt.datetime) -> Iterator[Demo]:
    """``demo_fake`` for the registry and repository of ``ref`` (``docr manifests``, ``docr tags``)."""
    with demo_fake(ref.registry, now=now, repository=ref.repository) as demo:
        yield demo


def _seed(fake: FakeRegistry, registry: str, now: dt.datetime) -> list[str]:
    """``seed_demo`` at ``SEED_TIME`` (stable digests), its listing then moved to ``now``."""
    seeded = fake.seed_demo(registry, now=SEED_TIME)
    offset = now.replace(microsecond=0) - SEED_TIME
    for repository in seeded:
        # The same digest again replaces the listing entry; the pushed content stays.
        fake.add_manifests(registry, repository, shift_by(fake.manifests(registry, repository), offset))
    return seeded


def _past_collections(fake: FakeRegistry, registry: str, clock: _DemoClock, start: float) -> None:
    """Builds pushed and deleted, then a garbage collection that freed their blobs, twice."""
    fake.add_registry(registry)
    fake.gc_step_seconds = _PAST_GC_STEP
    for days, layers in _PAST_COLLECTIONS:
        when = start - days * 86400
        clock.set(when - 3600)
        pushed = fake.push_image(registry, "tools/migrate", layers=layers, updated_at=_when(when - 3600))
        fake.delete_manifests(registry, "tools/migrate", [pushed])
        clock.set(when)
        _start_collection(fake, registry)
        clock.set(when + 10 * _PAST_GC_STEP)  # long over: the next look applies what it frees


def _start_collection(fake: FakeRegistry, registry: str) -> None:
    from docr._client import Client

    with Client(DEMO_TOKEN, base_url=fake.url, max_retries=0) as client:
        client.start_garbage_collection(registry)


def shift_to(manifests: list[dict[str, Any]], newest: dt.datetime) -> list[dict[str, Any]]:
    """``manifests`` with every ``updated_at`` moved by the same amount, the newest to ``newest``."""
    times = [_parse(m["updated_at"]) for m in manifests if isinstance(m.get("updated_at"), str)]
    if not times:
        return manifests
    return shift_by(manifests, newest.replace(microsecond=0) - max(times))


def shift_by(manifests: list[dict[str, Any]], offset: dt.timedelta) -> list[dict[str, Any]]:
    """``manifests`` with every ``updated_at`` moved by ``offset``."""
    return [
        {**m, "updated_at": _format(_parse(m["updated_at"]) + offset)} if isinstance(m.get("updated_at"), str) else m
        for m in manifests
    ]


def _when(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _format(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
