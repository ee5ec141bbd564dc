"""``--demo``: an embedded ``docr.testing.FakeRegistry`` holding sample manifests for any REF.

The sample is the fake's realistic generator (seeded from REF, so the same REF always shows the
same manifests), moved in time so that the newest manifest was pushed a few hours ago: ages in
the table and ``--older-than`` read as they would on a live repository.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from docr.cli._args import RepositoryRef

__all__ = ["DEMO_MANIFESTS", "Demo", "demo_registry"]

DEMO_MANIFESTS = 60
DEMO_TOKEN = "demo-token"  # the embedded fake accepts any bearer token
NEWEST_AGE = dt.timedelta(hours=3)


@dataclass(frozen=True)
class Demo:
    url: str
    token: str
    notice: str


@contextlib.contextmanager
def demo_registry(ref: RepositoryRef, *, now: dt.datetime, count: int = DEMO_MANIFESTS) -> Iterator[Demo]:
    """Serve ``count`` sample manifests of ``ref`` on 127.0.0.1 for the duration of the block."""
    from docr.testing import FakeRegistry

    sample = FakeRegistry().generate(ref.registry, ref.repository, count=count, seed=zlib.crc32(str(ref).encode()))
    with FakeRegistry() as fake:
        fake.add_manifests(ref.registry, ref.repository, shift_to(sample, now - NEWEST_AGE))
        notice = (
            f"demo: {count} sample manifests from an embedded fake registry ({fake.url}),"
            " not DigitalOcean; no token used"
        )
        yield Demo(url=fake.url, token=DEMO_TOKEN, notice=notice)


def shift_to(manifests: list[dict[str, Any]], newest: dt.datetime) -> list[dict[str, Any]]:
    """``manifests`` with every ``updated_at`` moved by the same amount, the newest to ``newest``."""
    times = [_parse(m["updated_at"]) for m in manifests if isinstance(m.get("updated_at"), str)]
    if not times:
        return manifests
    offset = newest.replace(microsecond=0) - max(times)
    return [
        {**m, "updated_at": _format(_parse(m["updated_at"]) + offset)} if isinstance(m.get("updated_at"), str) else m
        for m in manifests
    ]


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _format(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
