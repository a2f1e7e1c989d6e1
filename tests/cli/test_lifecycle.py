"""``cli/lifecycle.py`` on plain processes (no Textual): signals reach a process whose main
thread is stuck, a hung-up input is noticed, the watchdog and its backstop end the process.

Each case runs a small script in a child process, because the lifecycle takes over the
process's signals and may end it with ``os._exit``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from nextmv_tui.cli.lifecycle import terminal_gone
from tests.cli.pty_monitor import wait_for

PRELUDE = """
import asyncio, os, sys, threading, time
from nextmv_tui.cli.lifecycle import Lifecycle
life = Lifecycle(grace=GRACE, hard=HARD, terminal_fds=(0,), exit_log=sys.argv[1])
life.install()
life.add_emergency(lambda: open(sys.argv[1] + ".emergency", "w").write("ran"))
print("ready", flush=True)
"""


def run_script(tmp_path: Path, body: str, grace: float = 1.0, hard: float | None = 2.5,
               stdin: int | None = subprocess.DEVNULL) -> tuple[subprocess.Popen[str], Path]:
    script = PRELUDE.replace("GRACE", repr(grace)).replace("HARD", repr(hard))
    script += textwrap.dedent(body)
    log = tmp_path / "exit.log"
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(log)], stdin=stdin, stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc, log


def test_sigterm_reaches_a_process_whose_main_thread_is_stuck_in_a_lock(tmp_path):
    """The issue-16 state: the main thread waits forever on a lock; asyncio's signal
    handlers would never run. The watchdog runs the emergency callback and exits 143."""
    proc, log = run_script(tmp_path, """
        lock = threading.Lock(); lock.acquire()
        print("stuck", flush=True)
        lock.acquire()
    """, hard=10.0)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "stuck"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM
    assert log.read_text().startswith("watchdog code=143 ")
    assert "reason=SIGTERM" in log.read_text()
    assert Path(f"{log}.emergency").read_text() == "ran"


def test_a_signal_asks_the_attached_loop_to_exit_and_a_clean_exit_wins(tmp_path):
    proc, log = run_script(tmp_path, """
        async def main():
            stop = asyncio.Event()
            life.attach(asyncio.get_running_loop(), stop.set)
            print("attached", flush=True)
            await stop.wait()
        asyncio.run(main())
        life.record("clean")
        sys.exit(life.exit_code)
    """)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "attached"
    proc.send_signal(signal.SIGHUP)  # stdin is /dev/null: no hangup, a plain SIGHUP
    assert proc.wait(10) == 128 + signal.SIGHUP
    assert log.read_text().startswith("clean code=129 ")
    assert "reason=SIGHUP" in log.read_text()
    assert not Path(f"{log}.emergency").exists()


def test_a_request_before_the_loop_is_attached_is_delivered_on_attach(tmp_path):
    proc, log = run_script(tmp_path, """
        while not life.exit_requested.is_set():
            time.sleep(0.01)
        async def main():
            stop = asyncio.Event()
            life.attach(asyncio.get_running_loop(), stop.set)
            await stop.wait()
        asyncio.run(main())
        life.record("clean")
        sys.exit(life.exit_code)
    """)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM
    assert log.read_text().startswith("clean code=143 ")


def test_a_closed_input_is_a_lost_terminal(tmp_path):
    """No signal at all: the read end of stdin reports POLLHUP once its writer is gone.
    After that, fds 0-2 point at /dev/null, so the shutdown's writes cannot fail."""
    read_fd, write_fd = os.pipe()
    proc, log = run_script(tmp_path, """
        life.exit_requested.wait(10)
        print(os.path.realpath(f"/proc/self/fd/0"), file=open(sys.argv[1] + ".fd0", "w"))
        life.record("clean")
        sys.exit(life.exit_code)
    """, stdin=read_fd)
    os.close(read_fd)
    os.close(write_fd)
    assert proc.wait(10) == 128 + signal.SIGHUP
    assert "reason=terminal lost (hangup on fd 0)" in log.read_text()
    assert Path(f"{log}.fd0").read_text().strip() == os.devnull


def test_the_alarm_ends_a_process_whose_watchdog_cannot(tmp_path):
    """Backstop: if even the watchdog cannot end the process (here its exit is made to
    hang), SIGALRM at its default action does, at ``hard`` seconds."""
    proc, _ = run_script(tmp_path, """
        life._exit_process = lambda code: threading.Event().wait()
        threading.Event().wait()
    """, grace=0.5, hard=1.5)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == -signal.SIGALRM
    assert time.monotonic() - sent >= 1.4


def test_terminal_gone_on_a_pty() -> None:
    master, slave = os.openpty()
    try:
        assert not terminal_gone(slave)
        os.close(master)
        wait_for(lambda: terminal_gone(slave), 5.0, "the slave to report the hangup")
    finally:
        os.close(slave)
    with open(os.devnull) as null:
        assert not terminal_gone(null.fileno())


def test_finish_ends_a_signalled_process_with_its_output_flushed(tmp_path):
    proc, _ = run_script(tmp_path, """
        life.request_exit("SIGTERM", 143)
        sys.stdout.write("buffered, not yet flushed")
        life.finish(143)
        sys.exit(0)  # not reached
    """, hard=None)
    assert proc.stdout is not None
    assert proc.stdout.read() == "buffered, not yet flushed"
    assert proc.wait(10) == 143


def test_finish_does_nothing_without_an_exit_request(tmp_path):
    proc, _ = run_script(tmp_path, """
        life.finish(143)
        sys.exit(7)
    """)
    assert proc.wait(10) == 7
