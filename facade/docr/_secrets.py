"""Secrets and what comes back from servers: ``Secret`` hides a value, ``scrub`` cleans text.

Two rules keep the token out of every output:

- The token lives only inside a ``Secret``, whose ``repr`` and ``str`` hide it, so no frame of
  docr holds it in a plain local that a traceback renderer with locals (``pytest --showlocals``,
  rich, Sentry) would print. It is revealed inline, into a request header, and nowhere else.
- Every text that came from a server (error ids and messages, request ids, body excerpts) goes
  through ``scrub`` before docr stores or shows it: the secrets are replaced first, then the text is
  cut to a bound, so a token straddling the cut cannot show most of itself.

Usage::

    token = Secret("dop_v1_...")
    repr(token)                          # Secret([secure])
    scrub("echo: dop_v1_...", [token])   # 'echo: [redacted]'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, NoReturn

__all__ = ["REDACTED", "Secret", "scrub"]

REDACTED: Final = "[redacted]"
# DigitalOcean's token formats (personal, OAuth, refresh): redacted wherever they appear, even when
# they are not this client's token (a proxy may echo another header).
_DO_TOKEN = re.compile(r"\bdo[opr]_v1_[0-9a-f]{16,}", re.IGNORECASE)
# A value shorter than this is no secret worth hiding (test tokens), and replacing it would garble text.
_MIN_SECRET = 6


class Secret:
    """A value that never shows itself: ``repr``, ``str`` and pickling hide or refuse it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself; call it inline where it is sent, never store the result."""
        return self._value

    def __repr__(self) -> str:
        return "Secret([secure])"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a docr Secret cannot be pickled")


def scrub(text: str, secrets: Iterable[Secret] = (), limit: int | None = None) -> str:
    """``text`` with every secret (and any DigitalOcean token) replaced, then cut to ``limit`` chars."""
    secrets = list(secrets)
    if limit is not None:
        # Work on a window that still holds whole any secret straddling the final cut: a 50 MB
        # message costs no more than a short one, and the cut never splits a secret in view.
        longest = max((len(secret.reveal()) for secret in secrets), default=0)
        text = text[: limit + max(longest, 128)]
    for secret in secrets:
        value = secret.reveal()
        if len(value) >= _MIN_SECRET and value in text:
            text = text.replace(value, REDACTED)
    if "_v1_" in text:
        text = _DO_TOKEN.sub(REDACTED, text)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text
