"""Storage faults the service turns into states instead of crashes: a full disk.

A full disk shows up as ``OSError`` ENOSPC/EDQUOT from file writes and as SQLite's
``SQLITE_FULL`` ("database or disk is full") from the store. Requests that hit it get 507; a
run that hits it ends ``failed`` with :data:`DISK_FULL_ERROR`; a final status that cannot be
written is kept and written again once space is back (``scheduler``).
"""

from __future__ import annotations

import errno
import sqlite3

DISK_FULL_ERROR = "no space left on the local service's disk"
"""The start of every disk-full message (runs and 507 answers). Names no server path."""

DISK_FULL_ANSWER = (
    f"{DISK_FULL_ERROR}: nothing was stored; free space in the service's data dir and retry"
)

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_SQLITE_FULL = 13  # sqlite3.SQLITE_FULL (Python 3.11+)


def is_disk_full(exc: BaseException) -> bool:
    """True for a write that failed for lack of space (file system or SQLite)."""
    if isinstance(exc, OSError):
        return exc.errno in _FULL_ERRNOS
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == _SQLITE_FULL or "database or disk is full" in str(exc)
    return False


def is_storage_error(exc: BaseException) -> bool:
    """A failure of the data dir (file or database), as opposed to a bug."""
    return isinstance(exc, (OSError, sqlite3.Error))
