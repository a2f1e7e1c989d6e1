"""``nextmv-tui serve`` processes forked from a warm interpreter (``nextmv_tui_serve_forker.py``).

A ``serve`` started with ``python -m nextmv_tui serve`` spends about 0.75 s of CPU importing
FastAPI, pydantic and uvicorn before it answers, and the suite starts over a hundred: about a
fifth of the suite's CPU. Each pytest worker keeps one forker that has made those imports
once; a start forks it. The child is a real service process as the tests see one: its own
PID, port, data dir, log, signals and exit code, running the same ``nextmv_tui.cli.main``.
What it does not exercise is the interpreter start and the ``__main__`` module: the tests of
the ``serve`` command line (``tests/service/test_serve.py``) and of the launcher start it
with ``exec`` (``LocalService(exec_=True)``), and ``NEXTMV_TUI_TEST_EXEC=1`` makes every
start an exec (``scripts/coverage.sh``: coverage follows exec, not these forks).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

FORKER = Path(__file__).resolve().parent / "nextmv_tui_serve_forker.py"


def forks_enabled() -> bool:
    return os.environ.get("NEXTMV_TUI_TEST_EXEC", "") in ("", "0")


class ForkedProcess:
    """The part of ``subprocess.Popen`` the tests use, for a child of the forker."""

    def __init__(self, forker: Forker, pid: int) -> None:
        self._forker = forker
        self.pid = pid

    @property
    def returncode(self) -> int | None:
        return self._forker.exit_code(self.pid)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        code = self._forker.wait_exit(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"serve (pid {self.pid})", timeout or 0.0)
        return code

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:  # as Popen: never signal a PID that may be reused
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Forker:
    """One forker process and the thread that reads its answers."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-u", str(FORKER)], cwd=FORKER.parent.parent,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ},
        )
        self._lock = threading.Condition()
        self._started: list[int] = []
        self._exits: dict[int, int] = {}
        self._gone = False
        threading.Thread(target=self._read, name="serve-forker", daemon=True).start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            message = json.loads(line)
            with self._lock:
                if "exit" in message:
                    self._exits[message["pid"]] = message["exit"]
                else:
                    self._started.append(message["pid"])
                self._lock.notify_all()
        with self._lock:
            self._gone = True
            self._lock.notify_all()

    def start(self, argv: list[str], cwd: Path, env: dict[str, str], log: Path,
              timeout: float = 30.0) -> ForkedProcess:
        request = {"argv": argv, "cwd": str(cwd), "env": env, "log": str(log)}
        assert self._proc.stdin is not None
        with self._lock:  # one start at a time: the answers come back in order
            self._proc.stdin.write((json.dumps(request) + "\n").encode())
            self._proc.stdin.flush()
            if not self._lock.wait_for(lambda: self._started or self._gone, timeout):
                raise RuntimeError("the serve forker did not answer")
            if not self._started:
                raise RuntimeError(f"the serve forker exited ({self._proc.poll()})")
            return ForkedProcess(self, self._started.pop(0))

    def exit_code(self, pid: int) -> int | None:
        with self._lock:
            return self._exits.get(pid)

    def wait_exit(self, pid: int, timeout: float | None) -> int | None:
        with self._lock:
            self._lock.wait_for(lambda: pid in self._exits or self._gone, timeout)
            return self._exits.get(pid)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(15)


_FORKER: Forker | None = None
_FORKER_LOCK = threading.Lock()


def fork_service(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> ForkedProcess:
    """Start ``nextmv-tui ARGV`` as a child of this worker's forker (started on first use)."""
    global _FORKER
    with _FORKER_LOCK:
        if _FORKER is None:
            _FORKER = Forker()
        forker = _FORKER
    return forker.start(argv, cwd, env, log)


def close_forker() -> None:
    """At the session's end, after every service stopped: the forker exits on EOF."""
    global _FORKER
    with _FORKER_LOCK:
        if _FORKER is not None:
            _FORKER.close()
            _FORKER = None
