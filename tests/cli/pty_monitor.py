"""The real ``nextmv-tui`` on a pseudo-terminal, with its screen read through ``pyte``.

``PtyMonitor`` starts ``python -m nextmv_tui ARGS`` with stdin/stdout/stderr on a pty slave.
With ``controlling=True`` (default) the monitor is a session leader whose controlling
terminal is that pty, as when a terminal emulator or tmux runs it directly: closing the
master then makes the kernel send it SIGHUP and SIGCONT. With ``controlling=False`` it has
no controlling terminal, so closing the master sends no signal at all: only the dead
terminal itself can tell it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pyte

from tests.service.helpers import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
WRITE_SYSCALL = {"x86_64": 1, "aarch64": 64}.get(platform.machine())


def wait_for(predicate: Callable[[], T | None], timeout: float, what: str) -> T:
    """The first truthy ``predicate()`` (checked every 20 ms); fails after ``timeout`` s."""
    return wait_until(predicate, timeout, 0.02, what)


def monitor_env(home: Path, exit_log: Path) -> dict[str, str]:
    # COLUMNS/LINES: pytest-xdist workers export 80x24, and Textual believes them over the
    # pty's real size (140 columns here): the header then had no room for its title.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NEXTMV_", "TEXTUAL")) and k not in ("COLUMNS", "LINES")}
    env.update(HOME=str(home), TERM="xterm-256color", NEXTMV_TUI_EXIT_LOG=str(exit_log),
               PYTHONUNBUFFERED="1")
    return env


def _take_terminal() -> None:  # runs in the child between fork and exec
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyMonitor:
    """One monitor process on its own pty."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        *,
        controlling: bool = True,
        cols: int = 140,
        rows: int = 40,
    ) -> None:
        self.master, slave = os.openpty()
        self._resize(slave, cols, rows)
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._lock = threading.Lock()
        self._reading = threading.Event()
        self._reading.set()
        self._idle = threading.Event()
        self._closed = False
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nextmv_tui", *args],
            stdin=slave, stdout=slave, stderr=slave, cwd=env.get("HOME", REPO_ROOT), env=env,
            start_new_session=True, preexec_fn=_take_terminal if controlling else None,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    # --- screen -----------------------------------------------------------------------------

    def _read(self) -> None:
        while not self._closed:
            if not self._reading.is_set():
                self._idle.set()  # no read in progress: the terminal is stalled from now on
                self._reading.wait(0.05)
                continue
            self._idle.clear()
            try:
                ready, _, _ = select.select([self.master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self._stream.feed(data)

    def text(self) -> str:
        with self._lock:
            return "\n".join(self.screen.display)

    def wait_text(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """Wait until the screen matches the regex ``pattern``."""
        def found() -> re.Match[str] | None:
            self._check_alive(pattern)
            return re.search(pattern, self.text())

        try:
            return wait_for(found, timeout, repr(pattern))
        except AssertionError as error:  # the screen as it is now, not as it was at the start
            raise AssertionError(f"{error} on screen:\n{self.text()}") from None

    def wait_started(self, timeout: float = 60.0) -> None:
        """The monitor is up: header drawn and the first queue answer in."""
        self.wait_text(r"nextmv-tui .*● online", timeout)

    def _check_alive(self, waiting_for: str) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(
                f"monitor exited ({self.proc.returncode}) while waiting for {waiting_for!r}:"
                f"\n{self.text()}"
            )

    # --- terminal -----------------------------------------------------------------------------

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    @staticmethod
    def _resize(fd: int, cols: int, rows: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def resize(self, cols: int, rows: int) -> None:
        """Resize the terminal (the kernel sends SIGWINCH to the monitor)."""
        self._resize(self.master, cols, rows)

    def send_signal(self, signum: int) -> float:
        """Signal the monitor from outside (another process); returns the monotonic time."""
        os.kill(self.pid, signum)
        return time.monotonic()

    def stop_reading(self) -> None:
        """Like a stalled terminal: nobody reads, so the monitor's writes end up blocking.
        Returns once the reader thread has finished the read it was in (which could
        otherwise drain the terminal after a write was seen blocked)."""
        self._reading.clear()
        wait_for(lambda: self._idle.is_set() or not self._reader.is_alive(), 10.0,
                 "the pty reader to pause")

    def close_terminal(self) -> float:
        """Close the master (the terminal goes away); returns the monotonic time of it."""
        self._closed = True
        self._reading.set()
        self._reader.join(5)
        os.close(self.master)
        return time.monotonic()

    # --- process ------------------------------------------------------------------------------

    def wait_gone(self, since: float, within: float) -> int:
        """Wait for the exit; assert it came within ``within`` s of ``since``."""
        try:
            code = self.proc.wait(since + within + 5.0 - time.monotonic())
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"monitor {self.pid} still running after {within + 5} s"
            ) from None
        took = time.monotonic() - since
        assert took <= within, f"monitor took {took:.2f} s to exit (limit {within} s)"
        return code

    def blocked_writing(self) -> bool:
        """Some thread of the monitor is blocked in write(2) on fd 2 (Textual's output)."""
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            with contextlib.suppress(OSError, ValueError):
                fields = (task / "syscall").read_text().split()
                if int(fields[0]) == WRITE_SYSCALL and int(fields[1], 16) == 2:
                    return True
        return False

    def _pending(self) -> int:
        """Bytes the monitor wrote that nobody has read yet (FIONREAD on the master)."""
        return int(struct.unpack("i", fcntl.ioctl(self.master, termios.FIONREAD, b"\0" * 4))[0])

    def stuck_writing(self, hold: float = 0.5) -> bool:
        """Blocked in write(2) for good, not for a moment: still in it, with the same bytes
        pending, throughout ``hold`` s (a deadline, so scaled under load). A single look can
        catch a write that only waits for the kernel to move the pty's buffers; that one
        completes, and the shutdown meant to find the terminal stuck then finishes cleanly."""
        if not self.blocked_writing():
            return False
        pending = self._pending()
        try:  # waiting for the write to move: not seeing it move for ``hold`` s is the answer
            wait_for(lambda: not self.blocked_writing() or self._pending() != pending, hold,
                     "the blocked write to move")
        except AssertionError:
            return True
        return False

    def block_writes(self, timeout: float = 60.0) -> None:
        """Stall the terminal and make the monitor repaint (each resize redraws the whole
        screen) until its writer is stuck in write(2)."""
        self.stop_reading()
        sizes = iter((100 + i % 2 * 40, 30 + i % 2 * 10) for i in range(100_000))

        def stuck() -> bool:
            if self.stuck_writing():
                return True
            self.resize(*next(sizes))
            return False

        wait_for(stuck, timeout, "the monitor to block writing to its terminal")

    def kill(self) -> None:
        """Test hygiene: make sure nothing is left behind."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        if not self._closed:
            self.close_terminal()
