"""A run's log, ``run_dir/logs.jsonl``: one ``{"timestamp": "...Z", "log": "line"}`` per line.

The one place that knows the file's format: the executor's writer (fed by pipe readers), the
service's own lines (why a run failed to start, was interrupted) and the readers behind
``GET …/logs`` and ``…/logs/live``, whose ``since`` token is a byte offset in this file.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from nextmv_tui.cloud.timefmt import now_text

LOG_FILE = "logs.jsonl"

MAX_LOG_LINE = 64 * 1024
"""Longer log lines are split so one line never holds unbounded memory."""


def log_record(line: str) -> bytes:
    """One line of ``logs.jsonl`` (with its newline)."""
    return _record(line)


def _record(line: str) -> bytes:
    record = json.dumps({"timestamp": now_text(), "log": line}, ensure_ascii=False)
    return record.encode("utf-8", "replace") + b"\n"


class LogWriter:
    """Appends log records, one ``os.write`` per line, safe to share between threads.

    Each line is one write of a complete record on an ``O_APPEND`` descriptor, so a reader at a
    byte offset sees whole lines (a reader should still only consume up to the last newline).

    Two limits make it a state rather than a crash:

    - ``max_bytes`` (the per-run log cap, ``serve --max-log-mb``): the first line that would
      pass it is replaced by one note saying so, and later lines are dropped (counted in
      ``dropped``) while the app keeps running;
    - a write that fails (disk full) is remembered in ``failure`` and never raised: later lines
      are dropped, and the executor fails the run naming the cause.
    """

    def __init__(self, path: Path, max_bytes: int | None = None) -> None:
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._lock = threading.Lock()
        self._written = os.fstat(self._fd).st_size
        self._max = max_bytes
        self.capped = False
        self.dropped = 0
        self.failure: OSError | None = None

    def write(self, line: str) -> None:
        data = _record(line)
        with self._lock:
            if self._fd is None or self.failure is not None:
                self.dropped += 1
                return
            if self.capped:
                self.dropped += 1
                return
            if self._max is not None and self._written + len(data) > self._max:
                self.capped = True
                self.dropped += 1
                data = _record(capped_note(self._max))
            try:
                self._written += os.write(self._fd, data)
            except OSError as exc:
                self.failure = exc

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._fd)
                self._fd = None


def capped_note(limit: int) -> str:
    """The log line that marks where the per-run log cap cut the log."""
    return (
        f"[log cut: this run's log reached the local service's limit of {_mib(limit)} "
        "(serve --max-log-mb); later lines are not stored, the run goes on]"
    )


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


class NullLog(LogWriter):
    """Stands in when the run folder itself cannot be created."""

    def __init__(self) -> None:
        self._fd = None
        self._lock = threading.Lock()
        self.capped = False
        self.dropped = 0
        self.failure = None

    def write(self, line: str) -> None:
        return None

    def close(self) -> None:
        return None


def append_log(run_dir: Path, line: str) -> bool:
    """One service-side line (e.g. why a run could not start) in the run's log.

    Never raises: on a full disk the line is lost and False is returned (the run's error,
    stored with its status, still says what happened).
    """
    try:
        run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        writer = LogWriter(run_dir / LOG_FILE)
    except OSError:
        return False
    try:
        writer.write(line)
    finally:
        writer.close()
    return writer.failure is None


class LineReader:
    """Reads a pipe on its own thread, sending each line to the log (and raw bytes to a sink)."""

    def __init__(self, fd: IO[bytes], log: LogWriter, sink: IO[bytes] | None) -> None:
        self.last_line = ""
        self._fd = fd
        self._log = log
        self._sink = sink
        self.done = threading.Event()
        threading.Thread(target=self._run, name="executor-pipe", daemon=True).start()

    def _emit(self, raw: bytes) -> None:
        for start in range(0, max(len(raw), 1), MAX_LOG_LINE):
            line = raw[start : start + MAX_LOG_LINE].decode("utf-8", "replace").rstrip("\r")
            self._log.write(line)
            if line.strip():
                self.last_line = line.strip()

    def _run(self) -> None:
        buffer = b""
        try:
            while chunk := os.read(self._fd.fileno(), 65536):
                if self._sink is not None:
                    self._sink.write(chunk)
                    self._sink.flush()
                *lines, buffer = (buffer + chunk).split(b"\n")
                for line in lines:
                    self._emit(line)
                if len(buffer) >= MAX_LOG_LINE:  # a very long line: log it in pieces
                    cut = len(buffer) - len(buffer) % MAX_LOG_LINE
                    self._emit(buffer[:cut])
                    buffer = buffer[cut:]
            if buffer:
                self._emit(buffer)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                self._fd.close()
            self.done.set()


# --- reading ---------------------------------------------------------------------------
# Every reader is bounded: it reads a chunk, a tail or streams; none loads a whole log.
# They block on the disk, so routes call them on a worker thread.

TAIL_BYTES = 50_000
"""``GET …/logs`` returns the last 50 kB of the log text, as Nextmv Cloud documents."""

_READ_BLOCK = 256 * 1024


def _entries(data: bytes) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("log"), str):
            items.append(entry)
    return items


def _tail_lines(path: Path, limit: int) -> tuple[list[str], bool]:
    """The last log lines whose text (with newlines) fits in ``limit`` bytes, read backwards
    block by block; True when earlier lines exist that are not returned."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return [], False
    with handle:
        end = handle.seek(0, os.SEEK_END)
        lines: list[str] = []
        used = 0
        carry = b""
        position = end
        while position > 0:
            step = min(_READ_BLOCK, position)
            position -= step
            handle.seek(position)
            block = handle.read(step) + carry
            first_newline = block.find(b"\n") if position > 0 else -1
            carry, block = block[: first_newline + 1], block[first_newline + 1 :]
            for entry in reversed(_entries(block)):
                text = str(entry["log"])
                size = len(text.encode("utf-8", "replace")) + 1
                if used + size > limit:
                    if not lines:  # one huge last line: keep its end
                        lines.append(text.encode("utf-8", "replace")[-limit:].decode(
                            "utf-8", "ignore"))
                    return lines[::-1], True
                lines.append(text)
                used += size
        return lines[::-1], False


def read_log_tail(path: Path, limit: int = TAIL_BYTES) -> tuple[str, bool]:
    """The last ``limit`` bytes of the log's text (whole lines), and whether it was cut."""
    lines, cut = _tail_lines(path, limit)
    return "\n".join(lines), cut


def full_log_chunks(path: Path) -> Iterator[bytes]:
    """``{"log": "<every line>"}`` generated from the file in chunks (for ``?full=true``)."""
    yield b'{"log":"'
    first = True
    carry = b""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        yield b'"}'
        return
    with handle:
        while True:
            block = handle.read(_READ_BLOCK)
            data = carry + block
            cut = data.rfind(b"\n") + 1 if block else len(data)
            carry, data = data[cut:], data[:cut]
            parts = []
            for entry in _entries(data):
                text = json.dumps(str(entry["log"]), ensure_ascii=False)[1:-1]
                parts.append(text if first else "\\n" + text)
                first = False
            if parts:
                yield "".join(parts).encode("utf-8", "surrogatepass")
            if not block:
                break
    yield b'"}'


def read_log_since(
    path: Path, offset: int, max_bytes: int
) -> tuple[list[dict[str, Any]], int]:
    """Complete lines from byte ``offset``, at most ``max_bytes`` of the file; returns them
    and the offset to continue from. A partly written last line is left for the next call."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(max_bytes)
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    complete = data[: end + 1]
    return _entries(complete), offset + len(complete)


def read_final_log_since(
    path: Path, offset: int, max_bytes: int
) -> tuple[list[dict[str, Any]], int, int]:
    """What is left of a finished run's log from ``offset``, at most its last ``max_bytes``.

    Returns (entries, offset at the end, bytes skipped). A finished run's answer must carry
    every remaining line (the SDK stops polling at a final status), so when more than
    ``max_bytes`` remain, the start is skipped (the caller says so) instead of paging.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return [], offset, 0
    start = offset
    if size - offset > max_bytes:
        start = size - max_bytes
        with path.open("rb") as handle:  # skip to the start of the next whole line
            handle.seek(start - 1)
            newline = handle.read(_READ_BLOCK * 4).find(b"\n")  # > one record's length
            start = size if newline < 0 else start + newline
    entries, end = read_log_since(path, start, size - start)
    return entries, end, start - offset
