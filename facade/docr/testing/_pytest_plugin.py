"""A pytest plugin (registered by the ``docr`` distribution): the ``docr_fake`` fixture.

Usage, in any project that installs docr::

    def test_cleanup(docr_fake):                      # a started FakeRegistry, stopped after the test
        docr_fake.generate("example", "my/repo", count=50, seed=1)
        client = docr.Client("any-token", base_url=docr_fake.url)
        ...

Loading the plugin imports nothing but pytest; the fake is imported when a test asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from docr.testing import FakeRegistry


@pytest.fixture
def docr_fake() -> Iterator[FakeRegistry]:
    """A started ``docr.testing.FakeRegistry`` on 127.0.0.1, stopped when the test ends."""
    from docr.testing import FakeRegistry

    with FakeRegistry() as fake:
        yield fake
