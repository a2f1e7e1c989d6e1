"""Response bodies produced from files chunk by chunk, so a 1 GB payload is never in memory.

Each function is a plain generator: Starlette iterates a sync generator on a worker thread,
so the reads (and gzip) happen off the event loop, and memory stays at one chunk.
"""

from __future__ import annotations

import codecs
import json
import tarfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

CHUNK = 256 * 1024
GZIP_LEVEL = 1
"""Fast compression: the archive only exists because the SDK expects a tar.gz download."""


def json_string_chunks(path: Path) -> Iterator[bytes]:
    """A UTF-8 text file as one JSON string (invalid bytes become U+FFFD), in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    yield b'"'
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield _escape(decoder.decode(chunk))
    yield _escape(decoder.decode(b"", final=True)) + b'"'


def _escape(text: str) -> bytes:
    """The inside of a JSON string literal for ``text`` (UTF-8, no surrounding quotes)."""
    return json.dumps(text, ensure_ascii=False)[1:-1].encode("utf-8", "surrogatepass")


def tar_gz_chunks(path: Path, arcname: str) -> Iterator[bytes]:
    """A gzip-compressed tar holding ``path`` as ``arcname``, generated while it is sent.

    Replaces writing a ``.tar.gz`` copy before answering: the URL request returns at once and
    the download streams. The member's size is the file's size when the download starts; a
    file that shrinks meanwhile is padded with zeros so the archive stays valid.
    """
    size = path.stat().st_size
    info = tarfile.TarInfo(arcname)
    info.size = size
    info.mode = 0o644
    info.mtime = int(time.time())
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    header = info.tobuf(format=tarfile.PAX_FORMAT)
    yield compressor.compress(header)
    sent = 0
    with path.open("rb") as handle:
        while sent < size:
            chunk = handle.read(min(CHUNK, size - sent))
            if not chunk:
                chunk = bytes(min(CHUNK, size - sent))
            sent += len(chunk)
            out = compressor.compress(chunk)
            if out:
                yield out
    padding = -size % tarfile.BLOCKSIZE
    end = bytes(padding + 2 * tarfile.BLOCKSIZE)
    end += bytes(-(len(header) + size + len(end)) % tarfile.RECORDSIZE)
    yield compressor.compress(end) + compressor.flush()
