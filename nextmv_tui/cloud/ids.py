"""The one rule for IDs that go into URL paths and file names (applications, runs, uploads).

IDs are put into paths unescaped (as the official SDK does) and, on the local service, into
file names, so an ID is ASCII letters, digits, ``-``, ``_`` and ``.``, starts with a letter or
a digit (so never ``.`` or ``..``) and is at most 128 characters. That leaves out path
separators, ``?``, ``#``, ``%``, whitespace, NUL and every other control or format character
(e.g. U+202E, which makes a terminal show text backwards). The client refuses such an ID before
sending; the service answers 400 for one in a path or a body.
"""

from __future__ import annotations

import re

MAX_ID_LENGTH = 128
ID_RULE = "IDs may only contain letters, digits, '-', '_' and '.', start with a letter or digit"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def id_problem(value: object) -> str | None:
    """Why ``value`` is not a valid ID, or None when it is one."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return ID_RULE
    if len(value) > MAX_ID_LENGTH:
        return f"IDs may be at most {MAX_ID_LENGTH} characters long"
    return None
