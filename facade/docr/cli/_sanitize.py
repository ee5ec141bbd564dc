"""Text from the server, made safe to write to a terminal (the policy is in ``_output``).

A value the API sends (a tag, a digest, a repository name, an error message) may hold
characters a terminal acts on rather than shows: ESC starts a sequence that can retitle the
window, hide text or rewrite the screen; CR and backspace overwrite what came before; the
C1 control U+009B is ESC ``[`` to terminals that honour 8-bit controls; the bidi overrides
reorder what follows ("Trojan Source"). ``UNSAFE`` is all of them:

- C0 controls U+0000-U+001F (tab and newline included) and DEL U+007F;
- C1 controls U+0080-U+009F;
- the bidi embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069, and the marks
  U+200E, U+200F and U+061C;
- the line and paragraph separators U+2028 and U+2029 (line breaks to some readers);
- lone surrogates U+D800-U+DFFF (valid in a JSON escape, not encodable as UTF-8).

Usage::

    visible("v1\\x1b[2J")           # 'v1\\\\x1b[2J': the four characters \\x1b, then [2J
    one_line(huge_message)          # no line break, no control, at most MESSAGE_LIMIT characters
    json_text(json.dumps(data, ensure_ascii=False))   # DEL, C1 and bidi as \\u escapes too

Standard library only.
"""

from __future__ import annotations

import re

__all__ = ["LINE_LIMIT", "MESSAGE_LIMIT", "UNSAFE", "is_clean", "json_text", "one_line", "visible"]

_OTHERS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_OTHERS}]")
# What json.dumps(..., ensure_ascii=False) leaves raw: it escapes C0 itself, and the newlines
# of its indentation are outside any string, so they must stay.
_UNESCAPED_BY_JSON = re.compile(f"[\x7f-\x9f{_OTHERS}]")

MESSAGE_LIMIT = 300  # characters of a message the server wrote (its `message`, an exception's text)
LINE_LIMIT = 1000  # characters of any line docr writes to stderr
ELLIPSIS = "…"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def is_clean(text: str) -> bool:
    """Whether ``text`` holds no ``UNSAFE`` character."""
    return UNSAFE.search(text) is None


def visible(text: str) -> str:
    """``text`` with each unsafe character written as its escape: ``\\x1b``, ``\\x9b``, ``\\u202e``.

    Not reversible (a value holding the four characters ``\\x1b`` reads the same): for display.
    """
    return text if is_clean(text) else UNSAFE.sub(_escape, text)


def json_text(text: str) -> str:
    """JSON from ``json.dumps(..., ensure_ascii=False)`` with the unsafe characters it left raw
    (DEL, C1, bidi, separators, lone surrogates) as ``\\uXXXX`` escapes: the same JSON value."""
    return _UNESCAPED_BY_JSON.sub(_json_escape, text)


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` as one short line: whitespace runs (newlines included) become one space, unsafe
    characters are escaped, and past ``limit`` characters it ends with an ellipsis.

    Reads at most a few times ``limit`` characters of ``text``, however long it is.

    >>> one_line("no such\\r\\nrepository\\x1b[2J", limit=40)
    'no such repository\\\\x1b[2J'
    """
    head = text[: limit * 4]
    flat = visible(" ".join(head.split()))
    if len(flat) <= limit and len(head) == len(text):
        return flat
    return flat[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
