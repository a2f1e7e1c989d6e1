"""Decide how a local path is sent as a run input, before any network call.

The matrix (mirrors the Nextmv SDK/CLI, see the API reference §4):

- ``.json`` file: must parse (errors name line and column). An object whose compact JSON is
  <= 5 MiB goes inline; a larger object or any other JSON value is uploaded as a JSON file.
- other regular file: UTF-8 text is uploaded as ``text``; a gzip tar (``.tar.gz``/``.tgz``
  or detected by content) is uploaded unchanged as ``multi-file``.
- directory: its regular files packed into a temporary gzip tar (relative names, no
  directory entries, ``inputs.tar.gz`` skipped), sent as ``multi-file``.
- refused with ``InputError`` naming the path and the reason: missing, unreadable, empty,
  binary non-archive, non-UTF-8 text, FIFO/device/socket, symlink loop, over 500 MB, empty
  directory.

Sizes are checked with ``stat`` before anything is read, and special files are never opened.

Text (and JSON over ``MAX_JSON_PARSE_BYTES``) must be UTF-8 without NUL bytes. Files up to
``FULL_CHECK_BYTES`` are checked in full before anything is sent. A larger one is read only
once: its first ``READ_CHUNK`` is checked here, the rest while it uploads
(``PackagedInput.check_text``; the client feeds each chunk to a ``TextCheck`` before sending
it and checks the end before the last chunk), so a bad byte further in aborts the PUT before
its last byte and no run is created; the message names the file and the byte offset.
"""

from __future__ import annotations

import codecs
import errno
import gzip
import json
import os
import stat
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nextmv_tui.cloud.errors import InputError
from nextmv_tui.cloud.models import MAX_INLINE_BYTES, MAX_PAYLOAD_BYTES
from nextmv_tui.cloud.units import human_bytes

InputKind = Literal["json", "text", "multi-file"]

GZIP_MAGIC = b"\x1f\x8b"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
SKIPPED_NAME = "inputs.tar.gz"
MAX_JSON_PARSE_BYTES = 64 * 1024 * 1024
"""JSON files above this are checked without building the document (memory stays bounded)."""
FULL_CHECK_BYTES = 64 * 1024 * 1024
"""Text files up to this are checked in full before sending; larger ones while uploading."""
MAX_DIR_FILES = 10_000
"""Most files in a directory input; the walk stops as soon as it finds more."""
MAX_DIR_FOLDERS = 10_000
"""Most folders a directory input's walk visits before it is refused."""
SNIFF_BYTES = 8192
READ_CHUNK = 1024 * 1024


@dataclass
class PackagedInput:
    """A validated input. Exactly one of ``inline`` / ``upload_path`` is set."""

    source: Path
    input_format: InputKind
    size: int  # bytes that will be sent
    inline: dict[str, Any] | None = None
    upload_path: Path | None = None  # file to PUT (may be a temporary tar.gz)
    temporary: bool = False  # upload_path is ours to delete
    check_text: bool = False  # UTF-8/NUL check of the rest of the file happens during upload
    skipped: list[str] = field(default_factory=list)  # directory entries left out, with why

    @property
    def needs_upload(self) -> bool:
        return self.upload_path is not None

    def cleanup(self) -> None:
        """Delete the temporary archive, if any."""
        if self.temporary and self.upload_path is not None:
            self.upload_path.unlink(missing_ok=True)



def package_input(path: Path) -> PackagedInput:
    """Validate and package ``path``; raises ``InputError`` naming the path and the reason."""
    info = _stat(path)
    if stat.S_ISDIR(info.st_mode):
        return _package_directory(path)
    _check_regular(path, info)
    return _package_file(path, info.st_size)


# --- checks ----------------------------------------------------------------------------------


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError(str(path), "broken symbolic link (no target)") from None
        raise InputError(str(path), "no such file or directory") from None
    except PermissionError:
        raise InputError(str(path), "permission denied (cannot stat)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(str(path), "symbolic link loop") from None
        raise InputError(str(path), f"cannot access: {exc.strerror or exc}") from None


def _check_regular(path: Path, info: os.stat_result) -> None:
    mode = info.st_mode
    if stat.S_ISFIFO(mode):
        raise InputError(str(path), "is a FIFO (named pipe), not a regular file")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise InputError(str(path), "is a device, not a regular file")
    if stat.S_ISSOCK(mode):
        raise InputError(str(path), "is a socket, not a regular file")
    if not stat.S_ISREG(mode):
        raise InputError(str(path), "is not a regular file")
    if info.st_size == 0:
        raise InputError(str(path), "is empty")
    if info.st_size > MAX_PAYLOAD_BYTES:
        raise InputError(
            str(path), f"is {human_bytes(info.st_size)}, "
            f"over the {human_bytes(MAX_PAYLOAD_BYTES)} limit"
        )


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(SNIFF_BYTES)
    except PermissionError:
        raise InputError(str(path), "not readable (permission denied)") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None


# --- files -----------------------------------------------------------------------------------


def _package_file(path: Path, size: int) -> PackagedInput:
    head = _read_head(path)
    name = path.name.lower()
    if name.endswith(ARCHIVE_SUFFIXES) or head.startswith(GZIP_MAGIC):
        _check_gzip_tar(path, head)
        return PackagedInput(path, "multi-file", size, upload_path=path)
    if b"\x00" in head:
        raise InputError(str(path), "is a binary file, not JSON, text or a .tar.gz archive")
    if name.endswith(".json"):
        return _package_json(path, size)
    deferred = _check_text(path, size)
    return PackagedInput(path, "text", size, upload_path=path, check_text=deferred)


def _check_gzip_tar(path: Path, head: bytes) -> None:
    """A multi-file archive must really be a gzip-compressed tar with at least one member."""
    if not head.startswith(GZIP_MAGIC):
        if head[257:262] == b"ustar":
            raise InputError(str(path), "is an uncompressed tar; compress it with gzip (.tar.gz)")
        raise InputError(str(path), "is not a gzip archive (expected a .tar.gz)")
    try:
        with tarfile.open(path, "r:gz") as archive:
            first = archive.next()
    except (tarfile.TarError, OSError, EOFError, zlib.error, gzip.BadGzipFile):
        raise InputError(str(path), "is gzip-compressed but not a valid tar archive") from None
    if first is None:
        raise InputError(str(path), "is an empty tar archive")


def _package_json(path: Path, size: int) -> PackagedInput:
    if size > MAX_JSON_PARSE_BYTES:
        deferred = _check_large_json(path, size)
        return PackagedInput(path, "json", size, upload_path=path, check_text=deferred)
    raw = _read_all(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"is not valid UTF-8 (byte offset {exc.start})") from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            str(path), f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except _NonStandardConstant as exc:
        line, column = _locate_constant(text, exc.name)
        raise InputError(
            str(path),
            f"invalid JSON at line {line}, column {column}: {exc.name} is not allowed in JSON",
        ) from None
    if isinstance(document, dict):
        # UTF-8 bytes as sent (the client does not ASCII-escape), which the limit counts.
        compact = len(
            json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode(
                "utf-8", "surrogatepass"
            )
        )
        if compact <= MAX_INLINE_BYTES:
            return PackagedInput(path, "json", compact, inline=document)
    return PackagedInput(path, "json", size, upload_path=path)


class _NonStandardConstant(ValueError):
    """NaN/Infinity: Python's json accepts them, the API (RFC 8259) does not."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _refuse_constant(name: str) -> object:
    raise _NonStandardConstant(name)


def _locate_constant(text: str, name: str) -> tuple[int, int]:
    """Line and column of the first ``name`` outside a string (1-based)."""
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif text.startswith(name, index):
            line = text.count("\n", 0, index) + 1
            return line, index - (text.rfind("\n", 0, index) + 1) + 1
    return 1, 1


def _check_large_json(path: Path, size: int) -> bool:
    """Bounded-memory check of a big JSON file: UTF-8 and an object/array at the top level.
    Returns True when the UTF-8 check of the body is left to the upload."""
    deferred = _check_text(path, size)
    try:
        with path.open("rb") as handle:
            start = handle.read(SNIFF_BYTES).lstrip()
            handle.seek(max(0, size - SNIFF_BYTES))
            end = handle.read().rstrip()
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    pairs = {b"{"[0]: b"}"[0], b"["[0]: b"]"[0]}
    if not start or not end or start[0] not in pairs or end[-1] != pairs[start[0]]:
        raise InputError(str(path), "invalid JSON: expected an object or array at the top level")
    return deferred


def _read_all(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except PermissionError:
        raise InputError(str(path), "not readable (permission denied)") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None


class TextCheck:
    """Incremental check that a file is UTF-8 text without NUL bytes, fed chunk by chunk
    (constant memory); errors name the file and the offset of the first bad byte."""

    def __init__(self, path: Path, during_upload: bool = False) -> None:
        self._path = path
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._offset = 0
        self._suffix = "; found while uploading: no run was created" if during_upload else ""

    def feed(self, chunk: bytes) -> None:
        try:
            self._decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise self._error(
                f"is not valid UTF-8 text (byte offset {self._offset + exc.start})"
            ) from None
        nul = chunk.find(b"\x00")
        if nul >= 0:
            raise self._error(f"is a binary file (NUL byte at offset {self._offset + nul})")
        self._offset += len(chunk)

    def finish(self) -> None:
        """The file ended: a multi-byte sequence left open is an error."""
        start = self._offset - len(self._decoder.getstate()[0])
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise self._error(
                f"is not valid UTF-8 text (truncated sequence at byte offset {start})"
            ) from None

    def _error(self, reason: str) -> InputError:
        return InputError(str(self._path), reason + self._suffix)


def _check_text(path: Path, size: int) -> bool:
    """Check a text file now: all of it up to ``FULL_CHECK_BYTES``, else its first chunk.
    Returns True when the rest is left to the upload (``PackagedInput.check_text``)."""
    check = TextCheck(path)
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                check.feed(chunk)
                if size > FULL_CHECK_BYTES:
                    return True
        check.finish()
    except PermissionError:
        raise InputError(str(path), "not readable (permission denied)") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return False


# --- directories -------------------------------------------------------------------------------


def _package_directory(root: Path) -> PackagedInput:
    files, skipped = _collect_files(root)
    if not files:
        raise InputError(str(root), "directory contains no regular files")
    handle, name = tempfile.mkstemp(prefix="nextmv-tui-input-", suffix=".tar.gz")
    archive_path = Path(name)
    try:
        with os.fdopen(handle, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            for arcname, file_path, _size in files:
                _add_file(archive, file_path, arcname)
        size = archive_path.stat().st_size
    except BaseException:
        archive_path.unlink(missing_ok=True)
        raise
    return PackagedInput(
        root, "multi-file", size, upload_path=archive_path, temporary=True, skipped=skipped
    )


def _collect_files(root: Path) -> tuple[list[tuple[str, Path, int]], list[str]]:
    """Regular files under ``root`` (symlinks to files followed, to directories not).

    The walk is bounded: it stops with an ``InputError`` naming ``root`` and the bound as
    soon as the files found pass ``MAX_PAYLOAD_BYTES`` or ``MAX_DIR_FILES``, or the folders
    visited pass ``MAX_DIR_FOLDERS`` (``submit ~`` is refused in a moment, not after walking
    gigabytes).
    """
    files: list[tuple[str, Path, int]] = []
    skipped: list[str] = []
    total = 0
    folders = 0

    def walk_error(exc: OSError) -> None:
        raise InputError(str(exc.filename or root), f"cannot list: {exc.strerror or exc}")

    for current, dirnames, filenames in os.walk(root, onerror=walk_error, followlinks=False):
        folders += 1
        if folders > MAX_DIR_FOLDERS:
            raise InputError(
                str(root), f"holds more than {MAX_DIR_FOLDERS:,} folders; a multi-file input "
                "is a folder of input files (pick that folder)"
            )
        dirnames.sort()
        base = Path(current)
        for entry in sorted(filenames + [d for d in dirnames if (base / d).is_symlink()]):
            file_path = base / entry
            arcname = file_path.relative_to(root).as_posix()
            if entry == SKIPPED_NAME:
                skipped.append(f"{arcname} (the SDK's own archive name)")
                continue
            try:
                info = file_path.stat()
            except OSError as exc:
                reason = "symbolic link loop" if exc.errno == errno.ELOOP else "broken link"
                skipped.append(f"{arcname} ({reason})")
                continue
            if not stat.S_ISREG(info.st_mode):
                kind = "directory link" if stat.S_ISDIR(info.st_mode) else "not a regular file"
                skipped.append(f"{arcname} ({kind})")
                continue
            files.append((arcname, file_path, info.st_size))
            total += info.st_size
            if total > MAX_PAYLOAD_BYTES:
                raise InputError(
                    str(root), f"holds more than {human_bytes(MAX_PAYLOAD_BYTES)} of files, "
                    "over the limit of one input"
                )
            if len(files) > MAX_DIR_FILES:
                raise InputError(
                    str(root), f"holds more than {MAX_DIR_FILES:,} files, over the limit of one "
                    "multi-file input"
                )
    return files, skipped


def _add_file(archive: tarfile.TarFile, path: Path, arcname: str) -> None:
    try:
        with path.open("rb") as handle:
            info = archive.gettarinfo(fileobj=handle, arcname=arcname)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, handle)
    except PermissionError:
        raise InputError(str(path), "not readable (permission denied)") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
