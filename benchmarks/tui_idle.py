"""Idle CPU of the monitor: 200 queued runs, refresh every 2 s, measured over 60 s.

    .venv/bin/python benchmarks/tui_idle.py [--seconds 60] [--runs 200]

The monitor runs as the real ``nextmv-tui`` process on a pty (so terminal output is
included) against a real local service with ``--concurrency 0`` (the runs stay queued; the
queue is polled and diffed every 2 s but nothing changes, which is the idle case). CPU is
the process's user+system time from /proc over the window, after a 5 s warm-up. Two cases:
runs queued for an hour (written into the service's store before it starts, the way
service_bench.py prefills), and runs created just before (their ages tick every second, the
worst case). Prints the figures; asserts nothing. Target (issue 4): under 2 % of one core.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from nextmv_tui.service.store import RunRecord, Store  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def drain(master: int, until: float) -> None:
    while time.monotonic() < until:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                return


def prefill(data_dir: Path, count: int, age: float) -> None:
    store = Store(data_dir / "runs.db")
    then = time.time() - age
    for i in range(count):
        store.insert_run(RunRecord(
            id=f"run-idle{i:06d}", app_id="knapsack" if i % 2 else "routing", status="queued",
            created_at=then + i, status_changed_at=then + i, input_format="json",
            output_format="json", input_file="input.json", execution_class="local",
            priority=1 + i % 9, name=f"idle {i}",
        ))
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    for label, age in (("queued for an hour", 3600.0), ("just created", 0.0)):
        measure(args.runs, args.seconds, age, label)


def measure(runs: int, seconds: float, age: float, label: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="tui-idle-"))
    (work / "data").mkdir()
    if age:
        prefill(work / "data", runs, age)
    port, key = free_port(), "bench-" + secrets.token_hex(8)
    endpoint = f"http://127.0.0.1:{port}"
    service = subprocess.Popen(
        [sys.executable, "-m", "nextmv_tui", "serve", "--port", str(port), "--data-dir",
         str(work / "data"), "--api-key", key, "--concurrency", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
    )
    monitor = None
    try:
        for _ in range(200):
            try:
                if httpx.get(endpoint + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=endpoint, headers=headers) as client:
            for i in range(0 if age else runs):
                client.post("/v1/applications/knapsack/runs", json={
                    "input": {"items": [], "weight_capacity": 1}, "name": f"idle {i}",
                    "configuration": {"queuing": {"priority": 1 + i % 9}},
                }).raise_for_status()

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTMV_")}
        env.update(TERM="xterm-256color")
        monitor = subprocess.Popen(
            [str(BIN / "nextmv-tui"), "--endpoint", endpoint, "--api-key", key,
             "--refresh", "2"],
            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
        )
        os.close(slave)
        drain(master, time.monotonic() + 5.0)  # warm-up: first render, detail pane
        before, t0 = cpu_seconds(monitor.pid), time.monotonic()
        drain(master, t0 + seconds)
        used, elapsed = cpu_seconds(monitor.pid) - before, time.monotonic() - t0
        os.write(master, b"q")
        drain(master, time.monotonic() + 2.0)
        print(f"idle CPU, {runs} runs {label}, refresh 2 s, {elapsed:.0f} s window: "
              f"{used:.2f} CPU s = {100 * used / elapsed:.2f} % of one core  (target < 2 %)")
    finally:
        if monitor is not None and monitor.poll() is None:
            os.killpg(monitor.pid, signal.SIGTERM)
            monitor.wait(10)
        service.terminate()
        service.wait(10)


if __name__ == "__main__":
    main()
