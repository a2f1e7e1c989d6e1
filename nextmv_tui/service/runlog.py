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
    """Appends log records, flushed per line, safe to share between threads.

    Each line is one ``write`` of a complete line, so a reader at a byte offset sees whole lines
    (a reader should still only consume up to the last newline).
    """

    def __init__(self, path: Path) -> None:
        self._file = path.open("ab")
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        data = _record(line)
        with self._lock:
            if not self._file.closed:
                self._file.write(data)
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class NullLog(LogWriter):
    """Stands in when the run folder itself cannot be created."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        return None

    def close(self) -> None:
        return None


def append_log(run_dir: Path, line: str) -> None:
    """One service-side line (e.g. why a run could not start) in the run's log."""
    run_dir.mkdir(parents=True, exist_ok=True)
    writer = LogWriter(run_dir / LOG_FILE)
    try:
        writer.write(line)
    finally:
        writer.close()


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


def read_full_log(path: Path) -> str:
    """Every log line of a run joined with newlines ("" when there is no log yet)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ""
    return "\n".join(str(entry["log"]) for entry in _entries(data))


def read_log_since(
    path: Path, offset: int, max_bytes: int | None
) -> tuple[list[dict[str, Any]], int]:
    """Complete lines from byte ``offset``; returns them and the offset to continue from.

    A partly written last line is left for the next call. ``max_bytes`` None reads to the end
    (the final response of a finished run must hold every remaining line).
    """
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read() if max_bytes is None else handle.read(max_bytes)
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    complete = data[: end + 1]
    return _entries(complete), offset + len(complete)
