"""Untrusted text for a terminal: escape sequences removed, controls made visible."""

from __future__ import annotations

import json

import pytest

from nextmv_tui.cloud.text import REPLACEMENT, safe_json, sanitize


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[31mred\x1b[0m plain", "red plain"),
        ("a\x1b]52;c;aGVsbG8=\x07b", "ab"),  # OSC 52: write the clipboard
        ("a\x1b]0;title\x1b\\b", "ab"),  # OSC ended by ST
        ("a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),  # DCS (sixel)
        ("a\x9b2Jb", "ab"),  # 8-bit CSI: clear screen
        ("a\x9d0;t\x9cb", "ab"),  # 8-bit OSC
        ("lone\x1b", "lone"),
        ("open \x1b]0;never ends", "open "),
        ("x\x1b(0y", "xy"),  # charset switch
        ("tab\tkept\nnewline kept", "tab\tkept\nnewline kept"),
        ("crlf\r\nnext", "crlf\nnext"),
        ("bare\rcr", f"bare{REPLACEMENT}cr"),
        ("bell\x07 nul\x00 del\x7f", f"bell{REPLACEMENT} nul{REPLACEMENT} del{REPLACEMENT}"),
        ("bidi \u202eevil\u2066", f"bidi {REPLACEMENT}evil{REPLACEMENT}"),
        ("ünïcödé 日本 ✓", "ünïcödé 日本 ✓"),
    ],
)
def test_sanitize(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean


def test_sanitize_for_a_table_cell_has_one_line() -> None:
    assert sanitize("a\nb\tc\r\nd", keep_newlines=False) == "a b c d"


def test_safe_json_is_valid_json_with_nothing_a_terminal_would_act_on() -> None:
    value = {"k\x1b": ["\x1b[2J", "\x9b", "\u202e", "\x7f", "\u2028", "ü"]}
    text = safe_json(value)
    assert json.loads(text) == value
    assert all(ch not in text for ch in ("\x1b", "\x9b", "\u202e", "\x7f", "\u2028"))
    assert "ü" in text
