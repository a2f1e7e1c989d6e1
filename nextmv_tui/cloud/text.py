"""Untrusted text made safe for a terminal: run names, logs and outputs come from anyone.

A log line can carry escape sequences that recolour, move the cursor, retitle the window,
write the clipboard (OSC 52) or hide text; a name can carry bidirectional overrides that
make it read differently than it sorts. ``sanitize`` removes escape sequences (colour codes
included) and shows every other control character as U+FFFD, keeping tabs and, when asked,
newlines. ``safe_json`` writes JSON whose every such character is a ``\\uXXXX`` escape, so
it stays valid JSON and inert on a terminal.
"""

from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"

_ESCAPE = re.compile(
    r"""
      \x1b\[[0-?]*[ -/]*[@-~]?                 # CSI (colours, cursor moves)
    | \x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)    # OSC, DCS, SOS, PM, APC ... up to ST or BEL
    | \x1b[ -/]*[0-~]?                         # other escapes (and a lone ESC)
    | \x9b[0-?]*[ -/]*[@-~]?                   # 8-bit CSI
    | [\x90\x98\x9d-\x9f].*?(?:\x07|\x9c|$)    # 8-bit OSC, DCS, SOS, PM, APC
    """,
    re.VERBOSE | re.DOTALL,
)
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_BIDI}\u2028\u2029]")


def sanitize(text: str, *, keep_newlines: bool = True) -> str:
    """Text without escape sequences; other control characters become U+FFFD.

    Without ``keep_newlines`` (a table cell) newlines and tabs become spaces.
    ``\\r\\n`` counts as a newline; a lone ``\\r`` (which would overwrite the line on a
    terminal) is a control character like the others.
    """
    text = _ESCAPE.sub("", text.replace("\r\n", "\n"))
    if not keep_newlines:
        text = text.replace("\n", " ").replace("\t", " ")
    return _CONTROL.sub(REPLACEMENT, text)


def safe_json(value: Any, *, indent: int | None = 2) -> str:
    """``json.dumps`` (readable non-ASCII) with C1 controls, DEL and bidi marks escaped."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
