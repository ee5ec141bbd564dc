"""``docr prune --demo``: an embedded ``docr.testing.FakeRegistry`` holding the seeded demo registry.

Multi-arch images pushed by buildx (tagged indexes over untagged platform and attestation
manifests), a signature and an SBOM, tags that moved, stale builds (see ``docr.testing._demo``),
all dated relative to the command's clock: the plan reads as it would on a live registry. The
demo applies, resumes and collects garbage like the real thing, on the embedded fake only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from docr.cli._demo import DEMO_TOKEN, Demo

__all__ = ["DEMO_REF", "GC_POLL_SECONDS", "PruneDemo", "demo_registry"]

DEMO_REF = "example/web/frontend"
GC_STEP_SECONDS = 0.2  # each garbage-collection status lasts this long in the demo
GC_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class PruneDemo(Demo):
    oci_url: str = ""


@contextlib.contextmanager
def demo_registry(registry: str, *, now: dt.datetime) -> Iterator[PruneDemo]:
    """Serve the demo registry named ``registry`` on 127.0.0.1 for the duration of the block."""
    from docr.testing import FakeRegistry

    with FakeRegistry() as fake:
        repositories = fake.seed_demo(registry, now=now.replace(microsecond=0))
        fake.gc_step_seconds = GC_STEP_SECONDS
        notice = (
            f"demo: registry {registry!r} ({len(repositories)} repositories of multi-arch images, signatures and"
            f" stale builds) from an embedded fake ({fake.url}), not DigitalOcean; no token used"
        )
        yield PruneDemo(url=fake.url, token=DEMO_TOKEN, notice=notice, oci_url=fake.oci_url)
