"""Run payloads on disk: IDs, format sniffing, tar wrapping, presigned tokens.

Everything here works on files so a 500 MB input or a long log is never held in memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import string
import time
from dataclasses import dataclass
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
INPUT_TYPES = ("json", "text", "csv-archive", "multi-file")
_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id(prefix: str, length: int = 12) -> str:
    """URL-safe ID (``run-`` + 12 of [a-z0-9]): safe to put raw into a path, as the SDK does."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def sniff_format(path: Path, small_limit: int) -> str:
    """Format of an upload sent without one: gzip -> multi-file, JSON -> json, else text.

    Files up to ``small_limit`` bytes are parsed; larger ones are judged by their first
    non-blank byte so a 500 MB upload is never loaded.
    """
    if is_gzip(path):
        return "multi-file"
    size = path.stat().st_size
    if size <= small_limit:
        try:
            json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            return "text"
        except RecursionError:  # nested too deeply to parse here: judge by its first byte
            pass
        else:
            return "json"
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
    return "json" if head[:1] in (b"{", b"[") else "text"


def input_file_name(input_format: str, gzipped: bool) -> str:
    if gzipped:
        return "input.tar.gz"
    return "input.txt" if input_format == "text" else "input.json"


def link_or_copy(src: Path, dest: Path) -> None:
    """Hard-link ``src`` to ``dest`` (no copy of big files); copy across filesystems.

    An existing ``dest`` is replaced.
    """
    with contextlib.suppress(FileNotFoundError):
        dest.unlink()
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


# --- presigned URLs --------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    path: Path
    media_type: str
    expires_at: float
    wrap_as: str | None = None
    """Send the file inside a gzip tar under this name (built while it is sent)."""


MAX_DOWNLOAD_TOKENS = 10_000
"""Live download tokens kept at most; the oldest go first (a client asks for a new URL)."""


class Presigner:
    """Unguessable, expiring download tokens (in memory: a restart simply asks for new URLs).

    Bounded: expired tokens are dropped as new ones are issued, and never more than
    ``MAX_DOWNLOAD_TOKENS`` are kept, so a client asking for URLs in a loop cannot grow it.
    """

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._tokens: dict[str, Download] = {}

    def issue(self, path: Path, media_type: str, wrap_as: str | None = None) -> str:
        now = time.time()
        for old, entry in list(self._tokens.items())[:8]:  # insertion order: oldest first
            if entry.expires_at < now:
                del self._tokens[old]
        while len(self._tokens) >= MAX_DOWNLOAD_TOKENS:
            del self._tokens[next(iter(self._tokens))]
        token = secrets.token_urlsafe(32)
        self._tokens[token] = Download(path, media_type, now + self._ttl, wrap_as)
        return token

    def resolve(self, token: str) -> Download | None:
        entry = self._tokens.get(token)
        if entry is None or entry.expires_at < time.time():
            return None
        return entry


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
