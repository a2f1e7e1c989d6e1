"""Run payloads on disk: IDs, format sniffing, tar wrapping, presigned tokens.

Everything here works on files so a 500 MB input or a long log is never held in memory.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
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


class Presigner:
    """Expiring download tokens that hold their own content, signed: no state per token.

    A token is ``<payload>.<signature>``: the payload (base64url JSON) names the file relative
    to ``root``, its media type, the tar name and the expiry; the signature is an HMAC-SHA256
    with a key drawn at start. Nothing is kept per URL, so clients asking for URLs in a loop
    cost no memory (a table of tokens grew with every ``format=url`` answer: part of the slow
    RSS growth under churn); a restart draws a new key, so old URLs stop working, as before.
    """

    def __init__(self, ttl: float, root: Path) -> None:
        self._ttl = ttl
        self._root = root
        self._key = secrets.token_bytes(32)

    def issue(self, path: Path, media_type: str, wrap_as: str | None = None) -> str:
        relative = path.relative_to(self._root).as_posix()
        payload = json.dumps(
            [relative, media_type, wrap_as, round(time.time() + self._ttl, 3)],
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def resolve(self, token: str) -> Download | None:
        """The download a token names; None when it is forged, malformed or expired."""
        encoded, _, signature = token.partition(".")
        try:
            payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        except (ValueError, TypeError):
            return None
        if not hmac.compare_digest(given, self._sign(payload)):
            return None
        relative, media_type, wrap_as, expires_at = json.loads(payload)
        if expires_at < time.time():
            return None
        return Download(self._root / relative, media_type, expires_at, wrap_as)

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:18]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
