"""A program on a pseudo-terminal of a given size, its output read by a terminal emulator (pyte).

This is how a user meets the program: Textual detects a real terminal, encodes and writes
every frame, and reads keys from the pty. Times are ``time.monotonic()`` (CLOCK_MONOTONIC,
the same clock as the loop probe in the measured process):

- ``spawned``: just before the process was started;
- each chunk read from the pty is fed to the emulator and stamped with the time it was read,
  so a screen condition is dated by the read that made it true, not by when it was checked;
- ``send`` returns the time the key bytes were written.

Screen helpers find run IDs by a regular expression and the highlighted (cursor) row by its
style, so they depend on nothing inside the measured program.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping

import pyte

RECORD = struct.Struct("<dI")
BURST_GAP = 0.002
"""Records read less than this apart belong to one burst (one frame written in pieces)."""

RELAY = r"""
import os, select, struct, sys, time
master, out = int(sys.argv[1]), sys.stdout.fileno()
os.set_blocking(out, False)
pending = bytearray()
open_ = True
while open_ or pending:
    wants = [out] if pending else []
    readable, writable, _ = select.select([master] if open_ else [], wants, [], 1.0)
    if readable:
        try:
            data = os.read(master, 1 << 16)
        except OSError:
            data = b""
        if data:
            pending += struct.pack("<dI", time.monotonic(), len(data)) + data
        else:
            open_ = False
    if writable or (pending and not open_):
        try:
            del pending[:os.write(out, pending)]
        except BlockingIOError:
            pass
        except OSError:
            break
"""


class ScreenTimeout(RuntimeError):
    """A screen condition was not met in time; carries the screen for the report."""


class PtyApp:
    """The program on a pty; a relay process reads the pty as fast as it is written and
    stamps each read, so the emulator's slowness (pyte parses about 0.5 MB/s) neither
    throttles the program (a full pty blocks its writes) nor skews the times."""

    def __init__(self, argv: list[str], *, cols: int = 160, rows: int = 45,
                 env: Mapping[str, str] | None = None, cwd: str | None = None) -> None:
        self.cols, self.rows = cols, rows
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.bytes_read = 0
        self.last_read = float("nan")
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = dict(env if env is not None else os.environ)
        full_env.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        self.relay = subprocess.Popen([sys.executable, "-c", RELAY, str(master)],
                                      pass_fds=(master,), stdout=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL)
        assert self.relay.stdout is not None
        self._pipe = self.relay.stdout.fileno()
        os.set_blocking(self._pipe, False)
        self._raw = bytearray()
        self._records: deque[tuple[float, bytes]] = deque()
        self.spawned = time.monotonic()
        try:
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                         env=full_env, cwd=cwd, start_new_session=True)
        except OSError:
            self.relay.kill()
            self.relay.wait()
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master = master
        self.closed = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def fileno(self) -> int:
        return self._pipe

    def _read_pipe(self) -> None:
        while True:
            try:
                data = os.read(self._pipe, 1 << 20)
            except (BlockingIOError, InterruptedError):
                break
            if not data:
                self.closed = True
                break
            self._raw += data
        while len(self._raw) >= RECORD.size:
            stamp, length = RECORD.unpack_from(self._raw)
            if len(self._raw) < RECORD.size + length:
                break
            self._records.append((stamp, bytes(self._raw[RECORD.size:RECORD.size + length])))
            del self._raw[:RECORD.size + length]

    def read_available(self) -> float | None:
        """Feed the next burst of output read so far; its last read time, or None."""
        if not self._records:
            self._read_pipe()
        if not self._records:
            return None
        stamp, chunk = self._records.popleft()
        self.stream.feed(chunk)
        self.bytes_read += len(chunk)
        while self._records and self._records[0][0] - stamp < BURST_GAP:
            stamp, chunk = self._records.popleft()
            self.stream.feed(chunk)
            self.bytes_read += len(chunk)
        self.last_read = stamp
        return stamp

    def pump(self, timeout: float) -> float | None:
        """Wait up to ``timeout`` for output; feed one burst; its read time or None."""
        if self._records:
            return self.read_available()
        if self.closed:
            time.sleep(min(max(timeout, 0.0), 0.05))
            return None
        ready, _, _ = select.select([self._pipe], [], [], max(0.0, timeout))
        return self.read_available() if ready else None

    def wait_for(self, condition: Callable[[pyte.Screen], bool], timeout: float,
                 what: str = "screen condition") -> float:
        """Read time of the burst after which ``condition(screen)`` first held."""
        if condition(self.screen):
            return time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stamp = self.pump(deadline - time.monotonic())
            if stamp is not None and condition(self.screen):
                return stamp
            if self.closed and not self._records and self.proc.poll() is not None:
                break
        raise ScreenTimeout(f"{what}: not met within {timeout:g} s\n" + self.dump())

    def drain(self, seconds: float) -> None:
        """Keep feeding the emulator for ``seconds``."""
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            self.pump(until - time.monotonic())

    def discard(self) -> None:
        """Drop what was read without emulating it (cheap, for long idle windows)."""
        self._read_pipe()
        self._records.clear()

    def send(self, data: bytes) -> float:
        stamp = time.monotonic()
        os.write(self.master, data)
        return stamp

    def dump(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def close(self, quit_keys: bytes = b"q", timeout: float = 5.0) -> None:
        """Quit with ``quit_keys``; SIGTERM then SIGKILL the process group if it lingers."""
        if self.proc.poll() is None and quit_keys:
            with contextlib.suppress(OSError):
                self.send(quit_keys)
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                self.pump(0.05)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(3)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # helpers left in the group, if any
        self.proc.wait()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
        self.relay.kill()
        self.relay.wait()
        assert self.relay.stdout is not None
        self.relay.stdout.close()


def ids_on_screen(screen: pyte.Screen, pattern: re.Pattern[str]) -> set[str]:
    found: set[str] = set()
    for line in screen.display:
        found.update(pattern.findall(line))
    return found


def highlighted_id(screen: pyte.Screen, pattern: re.Pattern[str]) -> str | None:
    """The run ID on the cursor row: among the lines that show one ID, the one whose style
    (background, reverse) no other such line has, inside the largest block of consecutive
    ID lines (the table; a detail pane showing the same ID elsewhere is ignored)."""
    lines: list[tuple[int, str, tuple[str, bool]]] = []
    for y, text in enumerate(screen.display):
        matches = list(pattern.finditer(text))
        if len(matches) != 1:
            continue
        char = screen.buffer[y][matches[0].start()]
        lines.append((y, matches[0].group(0), (char.bg, char.reverse)))
    if len(lines) < 2:
        return None
    blocks: list[list[tuple[int, str, tuple[str, bool]]]] = [[lines[0]]]
    for item in lines[1:]:
        if item[0] == blocks[-1][-1][0] + 1:
            blocks[-1].append(item)
        else:
            blocks.append([item])
    table = max(blocks, key=len)
    counts = Counter(style for _, _, style in table)
    unique = [run_id for _, run_id, style in table if counts[style] == 1]
    return unique[0] if len(unique) == 1 else None
