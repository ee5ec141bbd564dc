"""``docr.cli._sanitize``: the one place server text is made safe for a terminal, over plain data."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docr.cli._sanitize import UNSAFE, is_clean, json_text, one_line, visible

# Everything the policy names, one character each.
NAMED = [
    *map(chr, range(0x20)),
    "\x7f",
    *map(chr, range(0x80, 0xA0)),
    *"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u2028\u2029",
    "\ud800",
    "\udfff",
]
# Any code point, controls and lone surrogates included: what a JSON string from the server can decode to.
TEXT = st.text(st.characters(codec=None, categories=None), max_size=80)
# A line break to str.splitlines(), which a reader of stderr may honour.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@pytest.mark.parametrize("char", NAMED, ids=lambda c: f"U+{ord(c):04X}")
def test_every_named_character_is_unsafe_and_shown_as_its_escape(char: str) -> None:
    assert not is_clean(f"a{char}b")
    shown = visible(f"a{char}b")
    code = ord(char)
    assert shown == (f"a\\x{code:02x}b" if code < 0x100 else f"a\\u{code:04x}b")


def test_printable_text_is_left_alone() -> None:
    text = "sha256:abc v1.2 [bold]x[/] ünïcödé 漢字 \\x1b emoji 🐳 \u00a0"
    assert is_clean(text)
    assert visible(text) is text


@given(TEXT)
def test_visible_text_holds_nothing_unsafe(text: str) -> None:
    assert is_clean(visible(text))


@given(st.recursive(TEXT | st.integers() | st.none(), lambda inner: st.lists(inner) | st.dictionaries(TEXT, inner)))
def test_json_text_is_the_same_json_value_with_nothing_raw_but_layout(data: object) -> None:
    for indent in (None, 2):
        text = json_text(json.dumps(data, ensure_ascii=False, indent=indent))
        assert json.loads(text) == data
        assert UNSAFE.findall(text.replace("\n", "")) == []
        text.encode("utf-8")  # no lone surrogate left to break the write


@given(TEXT, st.integers(min_value=10, max_value=400))
def test_one_line_is_one_bounded_safe_line(text: str, limit: int) -> None:
    line = one_line(text, limit)
    assert len(line) <= limit
    assert is_clean(line)
    assert not any(char in line for char in LINE_BREAKS)


def test_one_line_flattens_and_cuts_with_an_ellipsis() -> None:
    assert one_line("no such\r\n\trepository  here") == "no such repository here"
    assert one_line("word " * 100, limit=20) == "word word word word…"
    assert one_line("\x1b" * 100, limit=12) == "\\x1b\\x1b\\x1…"


def test_one_line_reads_only_the_start_of_a_huge_message() -> None:
    huge = "a" * 10 + " " * (50 * 1024 * 1024) + "\x1b[2J"
    assert one_line(huge, limit=30) == "a" * 10 + "…"
