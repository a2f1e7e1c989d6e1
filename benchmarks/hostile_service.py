"""Shared by the hostile-conditions benchmarks (``service_large.py``, ``service_churn.py``,
``service_fuzz.py``): a real ``nextmv-tui serve`` subprocess, its memory, and spread stats.
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TEST_APPS = REPO / "tests" / "service" / "api_apps"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of ``pid`` (``VmRSS``), or its peak so far (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Service:
    """``nextmv-tui serve`` on a free port in a temporary data dir; the key is passed in the
    environment (``NEXTMV_TUI_API_KEY``), never on the command line."""

    def __init__(self, *flags: str) -> None:
        self.port = free_port()
        self.key = secrets.token_hex(16)
        self.tmp = tempfile.TemporaryDirectory(prefix="nextmv-tui-bench-")
        self.data_dir = Path(self.tmp.name) / "data"
        env = {**os.environ, "NEXTMV_TUI_API_KEY": self.key}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nextmv_tui", "serve", "--port", str(self.port),
             "--data-dir", str(self.data_dir), *flags],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.endpoint + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise SystemExit("the service did not start")
            time.sleep(0.05)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def client(self, timeout: float = 300.0) -> httpx.Client:
        return httpx.Client(base_url=self.endpoint, timeout=timeout,
                            headers={"Authorization": f"Bearer {self.key}"})

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self.tmp.cleanup()


def wait_final(client: httpx.Client, app: str, run_id: str, timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/v1/applications/{app}/runs/{run_id}/metadata").json()[
            "metadata"]["status_v2"]
        if status in ("succeeded", "failed", "canceled"):
            return str(status)
        time.sleep(0.2)
    raise SystemExit(f"run {run_id} did not finish in {timeout} s")


def spread(values: Sequence[float], unit: str, digits: int = 1) -> str:
    """``median X unit (min A, max B, n N)``."""
    fmt = f"{{:.{digits}f}}"
    return (f"median {fmt.format(statistics.median(values))} {unit} "
            f"(min {fmt.format(min(values))}, max {fmt.format(max(values))}, n {len(values)})")
