"""Untrusted text for a terminal: colour codes dropped, every other control made visible."""

from __future__ import annotations

import json

import pytest

from nextmv_tui.cloud.text import safe_json, sanitize


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[31mred\x1b[0m plain", "red plain"),  # colour codes: dropped
        ("\x1b[1;38;5;208mbold\x1b[m", "bold"),
        ("a\x9b31mb", "ab"),  # 8-bit SGR
        ("a\x1b]52;c;aGVsbG8=\x07b", "a␛]52;c;aGVsbG8=␇b"),  # OSC 52: shown, not obeyed
        ("a\x1b]0;title\x1b\\b", "a␛]0;title␛\\b"),  # OSC ended by ST
        ("a\x1bPq#0;2;0;0;0\x1b\\b", "a␛Pq#0;2;0;0;0␛\\b"),  # DCS (sixel)
        ("a\x9b2Jb", "a\\x9b2Jb"),  # 8-bit CSI: clear screen
        ("a\x1b[2J\x1b[Hb", "a␛[2J␛[Hb"),  # clear screen, cursor home
        ("a\x9d0;t\x9cb", "a\\x9d0;t\\x9cb"),  # 8-bit OSC
        ("lone\x1b", "lone␛"),
        ("x\x1b(0y", "x␛(0y"),  # charset switch
        ("tab\tkept\nnewline kept", "tab\tkept\nnewline kept"),
        ("crlf\r\nnext", "crlf\nnext"),
        ("bare\rcr", "bare␍cr"),
        ("bell\x07 nul\x00 del\x7f", "bell␇ nul␀ del␡"),
        ("bidi \u202eevil\u2066", "bidi \\u202eevil\\u2066"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("ünïcödé 日本 ✓", "ünïcödé 日本 ✓"),
    ],
)
def test_sanitize(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean


def test_sanitize_for_a_table_cell_has_one_line() -> None:
    assert sanitize("a\nb\tc\r\nd", keep_newlines=False) == "a␊b c␍␊d"


def test_the_monitor_and_the_headless_commands_share_the_rule() -> None:
    from nextmv_tui.tui.format import clean

    for raw in ("\x1b]2;X\x1b\\", "a\x07\x9b\u202e", "\x1b[31mred\x1b[0m", "a\nb"):
        assert clean(raw) == sanitize(raw, keep_newlines=False)
        assert clean(raw, multiline=True) == sanitize(raw)


def test_safe_json_is_valid_json_with_nothing_a_terminal_would_act_on() -> None:
    value = {"k\x1b": ["\x1b[2J", "\x9b", "\u202e", "\x7f", "\u2028", "ü"]}
    text = safe_json(value)
    assert json.loads(text) == value
    assert all(ch not in text for ch in ("\x1b", "\x9b", "\u202e", "\x7f", "\u2028"))
    assert "ü" in text
