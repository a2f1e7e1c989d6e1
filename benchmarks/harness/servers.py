"""The servers a benchmark talks to: the synthetic API (``fakeapi``) and the real local
run service (``nextmv-tui serve``), each a subprocess on a free loopback port that the
benchmark stops in ``finally`` (context managers)."""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.harness.stats import REPO

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class QueueEvent:
    """One queue answer of the synthetic API (monotonic times)."""

    generation: int
    received: float
    sending: float
    written: float
    size: int
    path: str


class FakeApi:
    """``benchmarks.harness.fakeapi`` in its own process; events read from its stdout."""

    def __init__(self, runs: int, change: float, age: float = 0.0, history: int = 100) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.harness.fakeapi", "--runs", str(runs),
             "--change", str(change), "--age", str(age), "--history", str(history)],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=REPO, bufsize=0,
        )
        assert self.proc.stdout is not None
        self._out = self.proc.stdout
        self._buffer = b""
        self.other: list[str] = []  # non-queue event lines (F, R), in order
        first = self._line(30.0)
        if first is None or not first.startswith("port "):
            self.close()
            raise RuntimeError(f"synthetic API did not start: {first!r}")
        self.endpoint = f"http://127.0.0.1:{int(first.split()[1])}"
        self.api_key = "bench-" + secrets.token_hex(8)

    def fileno(self) -> int:
        return self._out.fileno()

    def _line(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._out], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._out.fileno(), 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def events(self, timeout: float = 0.0) -> list[QueueEvent]:
        """Queue answers reported so far (waits up to ``timeout`` for the first one)."""
        found: list[QueueEvent] = []
        line = self._line(timeout)
        while line is not None:
            if line.startswith("Q "):
                _, gen, received, sending, written, size, path = line.split()
                found.append(QueueEvent(int(gen), float(received), float(sending),
                                        float(written), int(size), path))
            else:
                self.other.append(line)
            line = self._line(0.0)
        return found

    def reset(self, runs: int, change: float, age: float = 0.0, follow: float = 0.0) -> None:
        answer = httpx.post(f"{self.endpoint}/bench/reset", timeout=120,
                            params={"runs": runs, "change": change, "age": age,
                                    "follow": follow})
        answer.raise_for_status()
        self.events()  # forget events of the previous subject
        self.other = [line for line in self.other if line.startswith("F ")][-1:]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()

    def __enter__(self) -> FakeApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(endpoint: str, proc: subprocess.Popen[bytes], what: str) -> None:
    """Until ``GET /healthz`` answers 200 (60 s; fails at once if the process died)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(endpoint + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)  # polling a condition with a deadline


@dataclass
class LocalService:
    proc: subprocess.Popen[bytes]
    endpoint: str
    api_key: str
    data_dir: Path


@contextlib.contextmanager
def local_service(data_dir: Path, *extra: str) -> Iterator[LocalService]:
    """The real ``nextmv-tui serve`` (``--concurrency 0`` unless given: runs stay queued)."""
    port, key = free_port(), secrets.token_hex(16)
    args = list(extra) if "--concurrency" in extra else ["--concurrency", "0", *extra]
    proc = subprocess.Popen(
        [sys.executable, "-m", "nextmv_tui", "serve", "--port", str(port), "--data-dir",
         str(data_dir), "--api-key", key, *args],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(endpoint, proc, "local service")
        yield LocalService(proc, endpoint, key, data_dir)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
