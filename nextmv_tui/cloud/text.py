"""Untrusted text made safe for a terminal: run names, logs and outputs come from anyone.

The one implementation, used by the headless commands and (through ``tui/format.py``'s
``clean``/``safe``) by the monitor. A log line can carry escape sequences that recolour,
move the cursor, retitle the window, write the clipboard (OSC 52) or clear the screen; a
name can carry bidirectional overrides that make it read differently than it sorts. One
rule for all of them:

- colour and style sequences (SGR: ``ESC [ 1;31 m``, or the 8-bit CSI) are removed: they
  only restyle text, and solver logs are full of them;
- every other control character is shown as a visible stand-in, so a trick is seen rather
  than obeyed or silently hidden: C0 controls as the Unicode control pictures (ESC ``␛``,
  BEL ``␇``, CR ``␍``, LF ``␊`` on one line), DEL ``␡``, C1 controls, bidirectional and
  zero-width marks and line separators as their escape (``\\x9b``, ``\\u202e``). The rest
  of an escape sequence is printable and stays: ``␛]2;title␇``.
- multi-line text keeps its newlines (``\\r\\n`` counts as one) and tabs; one-line text (a
  table cell, a header) turns tabs into spaces and shows newlines as ``␊``.

``safe_json`` writes JSON whose every such character is a ``\\uXXXX`` escape, so it stays
valid, exact JSON and inert on a terminal.
"""

from __future__ import annotations

import json
import re
from typing import Any

_MARKS = "\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
"""Bidirectional, zero-width and line-separator marks: invisible, yet they reorder text."""
_SGR = re.compile(r"(?:\x1b\[|\x9b)[0-9;:]*m")
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_MARKS}]")
_UNSAFE_MULTILINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_MARKS}]")
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_MARKS}]")
"""What ``json.dumps`` leaves raw that a terminal would act on (it escapes C0 itself)."""


def stand_in(char: str) -> str:
    """The visible stand-in of one unsafe character."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # control pictures: ␛ for ESC, ␇ for BEL, ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _visible(match: re.Match[str]) -> str:
    return stand_in(match.group())


def sanitize(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` safe for a terminal (the rule above); newlines kept when ``keep_newlines``."""
    if "\x1b" in text or "\x9b" in text:
        text = _SGR.sub("", text)
    if keep_newlines:
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        pattern = _UNSAFE_MULTILINE
    else:
        if "\t" in text:
            text = text.replace("\t", " ")
        pattern = _UNSAFE_LINE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_visible, text)


def safe_json(value: Any, *, indent: int | None = 2) -> str:
    """``json.dumps`` (readable non-ASCII) with C1 controls, DEL and bidi marks escaped."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
