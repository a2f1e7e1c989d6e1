"""``tui/driver.py``: Textual's writer thread survives a terminal that is gone.

On the old code a write error killed ``WriterThread``; its queue (30 items) then filled and
``WriterThread.stop()`` blocked forever in ``Queue.put`` (the issue-16 deadlock). Through
``_GuardedOutput`` the thread keeps draining, so ``stop()`` returns however many writes
came after the error.
"""

from __future__ import annotations

import errno
import io
import threading

import pytest
from textual.drivers._writer_thread import MAX_QUEUED_WRITES, WriterThread

from nextmv_tui.tui.driver import _GuardedOutput


class DeadTerminal(io.StringIO):
    """A stream that fails like a hung-up tty after ``good`` writes."""

    def __init__(self, good: int, error: int = errno.EIO) -> None:
        super().__init__()
        self.good = good
        self.error = error

    def write(self, text: str) -> int:
        if self.good <= 0:
            raise OSError(self.error, "Input/output error")
        self.good -= 1
        return super().write(text)


def _stop_returns(writer: WriterThread, timeout: float = 10.0) -> bool:
    stopper = threading.Thread(target=writer.stop, daemon=True)
    stopper.start()
    stopper.join(timeout)
    return not stopper.is_alive()


@pytest.mark.parametrize("error", [errno.EIO, errno.EPIPE])
def test_the_writer_survives_a_dead_terminal_and_stops(error: int) -> None:
    lost: list[str] = []
    terminal = DeadTerminal(good=3, error=error)
    writer = WriterThread(_GuardedOutput(terminal, lost.append))  # type: ignore[arg-type]
    writer.start()
    for n in range(MAX_QUEUED_WRITES * 5):
        writer.write(f"frame {n}\n")
    assert _stop_returns(writer)
    assert terminal.getvalue() == "frame 0\nframe 1\nframe 2\n"
    assert lost == [f"{errno.errorcode[error]} writing to it"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_the_unguarded_writer_deadlocks_which_is_the_bug() -> None:
    """The same writes without the guard: ``stop()`` never returns (daemon threads are
    left blocked on a dead queue; they end with the test process)."""
    writer = WriterThread(DeadTerminal(good=0))  # type: ignore[arg-type]
    writer.start()
    writer.write("first")
    writer.join(10)  # it died on its first write
    assert not writer.is_alive()
    filler = threading.Thread(
        target=lambda: [writer.write("x") for _ in range(MAX_QUEUED_WRITES)], daemon=True
    )
    filler.start()
    filler.join(10)
    assert not _stop_returns(writer, timeout=0.5)


def test_other_write_errors_drop_the_chunk_only() -> None:
    lost: list[str] = []
    terminal = DeadTerminal(good=0, error=errno.EAGAIN)
    output = _GuardedOutput(terminal, lost.append)  # type: ignore[arg-type]
    output.write("dropped")
    terminal.good = 1
    output.write("kept")
    assert terminal.getvalue() == "kept"
    assert lost == [] and not output.lost
