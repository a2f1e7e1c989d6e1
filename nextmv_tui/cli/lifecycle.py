"""How the monitor ends: on a signal, when its terminal goes away, and for certain (issue 16).

Three mechanisms, none of which needs the main thread or the event loop to be healthy:

- **Signals.** ``loop.add_signal_handler`` runs its callback *on the event loop*, so a main
  thread stuck in a lock (as it was in issue 16) never sees SIGTERM. Here the C-level signal
  handler writes the signal number to a pipe (``signal.set_wakeup_fd``) read by a daemon
  thread, whatever the main thread is doing. The Python-level handlers are no-ops.
- **A lost terminal.** A daemon thread ``poll()``s the terminal's fds for POLLHUP/POLLERR
  (with an empty event mask, so it never competes with Textual's input thread for bytes);
  the driver (``tui/driver.py``) reports EIO/EPIPE on writes and SIGHUP is checked the same
  way. Once the terminal is known lost, fds 0-2 are pointed at /dev/null so the rest of the
  shutdown writes nowhere instead of failing.
- **A watchdog.** The first exit request arms it. If the clean shutdown has not finished by
  ``grace`` seconds, it runs the emergency callbacks (release the lease, tell an owned local
  service to stop) and ends the process with ``os._exit``; if even that thread cannot run,
  an ``ITIMER_REAL`` with SIGALRM at its default action ends the process at ``hard`` seconds.

``request_exit`` asks the app to exit through ``loop.call_soon_threadsafe`` once the Textual
driver has ``attach``-ed the loop; before that, the request waits in ``exit_requested`` for
the CLI to check. Once the app and the cleanup are done, ``finish`` ends such a process with
``os._exit`` (after flushing), skipping the interpreter's teardown. Textual-free, so it is
unit-tested on plain processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable

EXIT_HANGUP = 128 + signal.SIGHUP
EXIT_TERM = 128 + signal.SIGTERM
GRACE = 2.0
"""Seconds a clean shutdown gets after the first exit request before the watchdog acts."""
HARD = 2.8
"""Seconds after which SIGALRM (default action) ends the process if the watchdog could not."""
GRACE_ENV = "NEXTMV_TUI_EXIT_GRACE"
"""Overrides ``GRACE`` (``HARD`` follows, 0.8 s later). The tests raise it to prove that the
clean shutdown completes on its own, however loaded the machine."""
EMERGENCY_BUDGET = 0.4
"""Seconds the watchdog gives its emergency callbacks (they run on a side thread)."""
WATCHED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
_HUP_EVENTS = select.POLLHUP | select.POLLERR | select.POLLNVAL
HANGUP_SETTLE = 0.2
"""Seconds a SIGHUP waits for the terminal's fds to show the hangup: the kernel signals
the session while it hangs the tty up, so the fds may not report it yet (a loaded machine
recorded a closed terminal as a plain SIGHUP, and did not detach it)."""
EXIT_LOG_ENV = "NEXTMV_TUI_EXIT_LOG"
"""If set, a file that gets one line per exit request: how it ended (clean or watchdog),
the exit code, the reason and the seconds it took. For diagnosis and the tests."""


def _noop_handler(signum: int, frame: object) -> None:
    """Installed so the C handler runs and writes the wakeup fd; the work is on a thread."""


def terminal_gone(fd: int) -> bool:
    """True when ``fd`` reports a hangup or an error (a closed pty, a closed pipe)."""
    poller = select.poll()
    try:
        poller.register(fd, 0)
        return any(revents & _HUP_EVENTS for _, revents in poller.poll(0))
    except (OSError, ValueError):
        return True


def _watchable(fd: int) -> bool:
    """Open fds only. A hung-up tty is no longer ``isatty`` (its ioctls fail), so no type
    test; /dev/null and regular files never report a hangup, so watching them is harmless."""
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


class Lifecycle:
    """Exit requests from signals, a lost terminal and the app itself, with a watchdog."""

    def __init__(
        self,
        *,
        grace: float | None = None,
        hard: float | None = HARD,
        terminal_fds: Iterable[int] = (0, 2),
        exit_process: Callable[[int], object] = os._exit,
        exit_log: str | None = None,
    ) -> None:
        self.grace = GRACE if grace is None else grace
        self.hard = hard
        if grace is None and os.environ.get(GRACE_ENV):
            with contextlib.suppress(ValueError):
                self.grace = max(0.0, float(os.environ[GRACE_ENV]))
                self.hard = None if hard is None else self.grace + (HARD - GRACE)
        self.terminal_fds = tuple(dict.fromkeys(terminal_fds))
        self._exit_process = exit_process
        self._exit_log = exit_log if exit_log is not None else os.environ.get(EXIT_LOG_ENV)
        self._requested_at: float | None = None
        self.exit_requested = threading.Event()
        self.exit_code: int | None = None
        self.reason = ""
        self.lost_terminal = threading.Event()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exit_app: Callable[[], object] | None = None
        self._lost_callbacks: list[Callable[[], object]] = []
        self._emergency: list[Callable[[], object]] = []
        self._deadline: float | None = None
        self._pipes: list[int] = []
        self._old_handlers: dict[int, object] = {}
        self._old_wakeup = -1
        self._installed = False

    # --- setup (main thread) ----------------------------------------------------------------

    def install(self) -> Lifecycle:
        """Take over SIGTERM/SIGHUP and watch the terminal. Call from the main thread."""
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        self._pipes += [read_fd, write_fd]
        # SIGALRM must keep its default action (terminate): it is the last-resort timer.
        self._old_handlers[signal.SIGALRM] = signal.signal(signal.SIGALRM, signal.SIG_DFL)
        for signum in WATCHED_SIGNALS:
            self._old_handlers[signum] = signal.signal(signum, _noop_handler)
        self._old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        self._installed = True
        threading.Thread(
            target=self._read_signals, args=(read_fd,), name="lifecycle-signals", daemon=True
        ).start()
        watched = [fd for fd in self.terminal_fds if _watchable(fd)]
        if watched:
            wake_read, wake_write = os.pipe()
            self._pipes += [wake_read, wake_write]  # closing wake_write ends the thread
            threading.Thread(
                target=self._watch_hangup, args=(watched, wake_read),
                name="lifecycle-hangup", daemon=True,
            ).start()
        return self

    def uninstall(self) -> None:
        """Give the signals back (tests, and a CLI that runs twice in one process)."""
        if not self._installed:
            return
        self._installed = False
        signal.set_wakeup_fd(self._old_wakeup)
        for signum, handler in self._old_handlers.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        # Write ends first: EOF / POLLHUP on the read ends lets both threads return.
        for fd in self._pipes[1::2] + self._pipes[::2]:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._pipes.clear()

    # --- hooks for the app (any thread) -------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop, exit_app: Callable[[], object]) -> None:
        """The app's loop is running: exit requests now go to ``exit_app`` on that loop."""
        with self._lock:
            self._loop, self._exit_app = loop, exit_app
        if self.exit_requested.is_set():
            self._ask_app()

    def detach(self) -> None:
        with self._lock:
            self._loop = self._exit_app = None

    def on_terminal_lost(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` (on the detecting thread) when the terminal is found gone."""
        self._lost_callbacks.append(callback)
        if self.lost_terminal.is_set():
            callback()

    def add_emergency(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` before the watchdog ends the process (bounded, best effort)."""
        self._emergency.append(callback)

    def remaining(self) -> float | None:
        """Seconds left before the watchdog acts; None while no exit was requested."""
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - time.monotonic())

    # --- exit requests -------------------------------------------------------------------------

    def request_exit(self, reason: str, code: int = 0) -> None:
        """Ask the app to exit and arm the watchdog (first request wins the exit code)."""
        with self._lock:
            first = not self.exit_requested.is_set()
            if first:
                self.reason, self.exit_code = reason, code
                self._requested_at = time.monotonic()
                self._deadline = self._requested_at + self.grace
                self.exit_requested.set()
        if first:
            self._arm_watchdog()
        self._ask_app()

    def terminal_lost(self, reason: str) -> None:
        """The terminal is gone: stop using it, then exit like on SIGHUP."""
        with self._lock:
            first = not self.lost_terminal.is_set()
            self.lost_terminal.set()
        if first:
            for callback in self._lost_callbacks:
                with contextlib.suppress(Exception):
                    callback()
            self._detach_terminal()
        self.request_exit(f"terminal lost ({reason})", EXIT_HANGUP)

    def record(self, how: str) -> None:
        """Append how the process ends to the exit log (``EXIT_LOG_ENV``), if any."""
        if not self._exit_log or self._requested_at is None:
            return
        took = time.monotonic() - self._requested_at
        line = f"{how} code={self.exit_code} after={took:.3f} reason={self.reason}\n"
        with contextlib.suppress(OSError), open(self._exit_log, "a", encoding="utf-8") as log:
            log.write(line)

    def finish(self, code: int) -> None:
        """End the process now if it is ending on a signal or a lost terminal.

        Called once the app and the cleanup are done. Flushes what Python would flush and
        skips the interpreter's teardown of Textual's object graph, which alone takes about
        a second on a loaded machine (measured) and would eat into the time limits."""
        if not self.exit_requested.is_set():
            return
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.flush()
        if "logging" in sys.modules:
            with contextlib.suppress(Exception):
                sys.modules["logging"].shutdown()
        self._exit_process(code)

    def _ask_app(self) -> None:
        with self._lock:
            loop, exit_app = self._loop, self._exit_app
        if loop is None or exit_app is None:
            return
        with contextlib.suppress(RuntimeError):  # loop closed: the app is already done
            loop.call_soon_threadsafe(exit_app)

    def _detach_terminal(self) -> None:
        """Point fds 0-2 at /dev/null: later writes (shutdown, atexit flushes) cannot fail."""
        try:
            null = os.open(os.devnull, os.O_RDWR)
        except OSError:
            return
        for fd in (0, 1, 2):
            with contextlib.suppress(OSError):
                os.dup2(null, fd)
        os.close(null)

    # --- threads ------------------------------------------------------------------------------

    def _read_signals(self, read_fd: int) -> None:
        while True:
            try:
                data = os.read(read_fd, 64)
            except OSError:
                return
            if not data:
                return
            for signum in data:
                if signum == signal.SIGTERM:
                    self.request_exit("SIGTERM", EXIT_TERM)
                elif signum == signal.SIGHUP:
                    if self._hung_up(time.monotonic() + HANGUP_SETTLE):
                        self.terminal_lost("SIGHUP")
                    else:
                        self.request_exit("SIGHUP", EXIT_HANGUP)

    def _hung_up(self, deadline: float) -> bool:
        """Whether a terminal fd reports a hangup by ``deadline`` (checked every 10 ms)."""
        while True:
            if any(terminal_gone(fd) for fd in self.terminal_fds if _watchable(fd)):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def _watch_hangup(self, fds: list[int], wake_read: int) -> None:
        poller = select.poll()
        for fd in fds:
            poller.register(fd, 0)  # no events asked: POLLHUP/POLLERR are always reported
        poller.register(wake_read, select.POLLIN)
        while True:
            try:
                ready = poller.poll()
            except OSError:
                return
            for fd, revents in ready:
                if fd == wake_read:
                    return
                if revents & _HUP_EVENTS:
                    self.terminal_lost(f"hangup on fd {fd}")
                    return

    def _arm_watchdog(self) -> None:
        if self.hard is not None:
            with contextlib.suppress(OSError, ValueError):
                signal.setitimer(signal.ITIMER_REAL, self.hard)
        threading.Thread(target=self._watchdog, name="lifecycle-watchdog", daemon=True).start()

    def _watchdog(self) -> None:
        deadline = self._deadline or time.monotonic()
        time.sleep(max(0.0, deadline - time.monotonic()))
        # Still here: the clean shutdown is stuck. Callbacks run on a side thread so a
        # callback that blocks cannot keep the process alive.
        side = threading.Thread(target=self._run_emergency, name="lifecycle-emergency",
                                daemon=True)
        side.start()
        side.join(EMERGENCY_BUDGET)
        self.record("watchdog")
        self._exit_process(self.exit_code if self.exit_code is not None else 1)

    def _run_emergency(self) -> None:
        for callback in self._emergency:
            with contextlib.suppress(Exception):
                callback()
