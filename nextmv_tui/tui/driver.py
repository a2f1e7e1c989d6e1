"""Textual's Linux driver, made safe for a terminal that disappears (issue 16).

The deadlock it fixes (Textual 8.2.8, seen with py-spy on a monitor whose tmux was killed):

1. Closing a terminal hangs up the pty; the kernel sends SIGHUP *and SIGCONT* to the session
   leader. ``LinuxDriver._sigcont_application`` (linux_driver.py:94) resumes application
   mode on any SIGCONT, suspended or not. Its guard against resuming without a terminal
   (the no-op ``tcsetattr`` at linux_driver.py:205-225) only runs ``if os.isatty(...)``,
   which is False on a hung-up tty, so it goes on and starts a *second* ``WriterThread``
   (linux_driver.py:243), replacing the first one without stopping it.
2. That thread's first write to the hung-up tty raises EIO and the thread dies
   (_writer_thread.py:58). Writes still go to its queue, bounded at 30 items.
3. Shutdown (``App._shutdown`` -> ``LinuxDriver.close`` -> ``WriterThread.stop``) puts one
   more item: with 30 queued it blocks on ``Queue.put`` forever. The main thread never
   returns to the event loop, so SIGTERM and SIGHUP (handled on the loop) do nothing.
   Without the 0-second-timer crash of issue 8 the shutdown writes ~25 items and squeaks
   through; with it (an extra ``bell()`` and error handling) it reaches 30.

The same queue fills when the writer dies for any other reason (the terminal vanishes while
the app runs on without a SIGHUP). So: writes go through ``_GuardedOutput``, which reports
the first EIO/EPIPE and drops every later write, so the writer thread never dies and its
queue always drains; SIGCONT resumes only after our own SIGTSTP, on a live terminal; and the
driver hands the event loop to the lifecycle hooks (``cli/lifecycle.py``), which turn
signals and a lost terminal into ``App.exit`` and end the process if that cannot finish.
Source: https://github.com/Textualize/textual/blob/v8.2.8/src/textual/drivers/linux_driver.py
"""

from __future__ import annotations

import asyncio
import errno
import sys
from collections.abc import Callable
from typing import IO, Any, Protocol

from textual.drivers.linux_driver import LinuxDriver

LOST_ERRNOS = frozenset({errno.EIO, errno.EPIPE, errno.ENXIO, errno.ENODEV, errno.EBADF})
"""Write errors that mean the terminal is gone (a hung-up tty gives EIO, a pipe EPIPE)."""


class TerminalHooks(Protocol):
    """What the driver needs from the process lifecycle (``cli.lifecycle.Lifecycle``)."""

    def attach(self, loop: asyncio.AbstractEventLoop, exit_app: Callable[[], object]) -> None:
        ...

    def terminal_lost(self, reason: str) -> None:
        ...

    def on_terminal_lost(self, callback: Callable[[], object]) -> None:
        ...


class _GuardedOutput:
    """The file Textual's writer thread writes to. The first error that means the terminal
    is gone is reported; after it every write is dropped, so the thread keeps draining its
    queue and ``WriterThread.stop()`` can never block on a full one."""

    def __init__(self, file: IO[str], on_lost: Callable[[str], None]) -> None:
        self._file = file
        self._on_lost = on_lost
        self.lost = False

    def _guard(self, call: Callable[[], Any]) -> None:
        if self.lost:
            return
        try:
            call()
        except OSError as exc:
            if exc.errno in LOST_ERRNOS:
                self.lost = True
                self._on_lost(f"{errno.errorcode.get(exc.errno or 0, exc)} writing to it")
            # Anything else: this chunk is lost, the thread lives on.

    def write(self, text: str) -> int:
        self._guard(lambda: self._file.write(text))
        return len(text)

    def flush(self) -> None:
        self._guard(self._file.flush)

    def fileno(self) -> int:
        return self._file.fileno()


class SafeLinuxDriver(LinuxDriver):
    """``LinuxDriver`` that survives its terminal. Built by ``driver_class(hooks)``."""

    hooks: TerminalHooks | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gone = False
        stream = sys.__stderr__
        if stream is not None:
            self._file = _GuardedOutput(stream, self._output_lost)  # type: ignore[assignment]
        if self.hooks is not None:
            self.hooks.on_terminal_lost(self._terminal_gone)

    def _output_lost(self, reason: str) -> None:
        if self.hooks is not None:
            self.hooks.terminal_lost(reason)
        else:
            self._terminal_gone()

    def _terminal_gone(self) -> None:
        """Called on the detecting thread: stop reading and drop all further output."""
        self._gone = True
        self.exit_event.set()  # the input thread leaves its loop; disable_input() skips it

    def start_application_mode(self) -> None:
        if self._gone:
            return
        super().start_application_mode()  # type: ignore[no-untyped-call]
        if self.hooks is not None:
            self.hooks.attach(asyncio.get_running_loop(), self._app.exit)

    def write(self, data: str) -> None:
        if not self._gone:
            super().write(data)

    def _sigcont_application(self, *args: Any) -> None:
        # Resume only what our own SIGTSTP suspended (see the module docstring, step 1).
        if self._must_signal_resume and not self._gone:
            super()._sigcont_application(*args)


def driver_class(hooks: TerminalHooks) -> type[LinuxDriver]:
    """A ``SafeLinuxDriver`` subclass bound to ``hooks``, for ``App.driver_class``."""
    return type("MonitorDriver", (SafeLinuxDriver,), {"hooks": hooks})
