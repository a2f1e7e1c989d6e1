"""Launch to first queue render in a real terminal (pty), side by side in one run with
(a) a bare Textual app that paints a DataTable and exits — the framework's floor — and
(b) the official CLI's ``nextmv cloud run list`` against the same local service.

    .venv/bin/python benchmarks/tui_launch.py [--repeat 5]

One local service (``--tls``, because the official CLI only speaks HTTPS; ``--concurrency 0``
so a marker run stays queued) serves both clients. "First render" is the moment the marker
run's ID appears in the bytes the program writes to the pty. Prints medians; asserts nothing.
Targets (issue 4): monitor <= 1.1x the floor, and <= 0.75x the CLI's wall time.
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
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COLS, ROWS = 160, 45

FLOOR_APP = textwrap.dedent(
    """
    import sys
    from textual.app import App
    from textual.widgets import DataTable

    class Floor(App):
        def compose(self):
            yield DataTable()

        def on_mount(self):
            table = self.query_one(DataTable)
            table.add_columns("Status", "Run ID", "Name")
            table.add_row("queued", sys.argv[1], "marker")
            self.call_after_refresh(self.exit)

    Floor().run()
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def in_pty(argv: list[str], env: dict[str, str], marker: bytes, quit_keys: bytes = b"",
           timeout: float = 30.0) -> tuple[float, float]:
    """Run ``argv`` on a fresh pty; return (seconds to marker, seconds to exit)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, cwd=REPO)
    os.close(slave)
    seen = b""
    first = float("nan")
    sent = False
    deadline = start + timeout
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([master], [], [], 0.02)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen = seen[-4096:] + chunk
            if first != first and marker in seen:  # NaN check: first time only
                first = time.perf_counter() - start
        if first == first and quit_keys and not sent:
            os.write(master, quit_keys)
            sent = True
        if proc.poll() is not None and not ready:
            break
    try:
        proc.wait(timeout=max(0.1, deadline - time.perf_counter()))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    total = time.perf_counter() - start
    os.close(master)
    return first, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tui-launch-"))
    port, key = free_port(), "bench-" + secrets.token_hex(8)
    service = subprocess.Popen(
        [sys.executable, "-m", "nextmv_tui", "serve", "--port", str(port), "--data-dir",
         str(work / "data"), "--api-key", key, "--tls", "--concurrency", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
    )
    cert = work / "data" / "tls" / "cert.pem"
    endpoint = f"https://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(endpoint + "/healthz", verify=str(cert), timeout=1).status_code == 200:
                    break
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.05)
        headers = {"Authorization": f"Bearer {key}"}
        created = httpx.post(
            f"{endpoint}/v1/applications/knapsack/runs", headers=headers, verify=str(cert),
            json={"input": {"items": [], "weight_capacity": 1}, "name": "marker"},
        )
        created.raise_for_status()
        marker = created.json()["run_id"].encode()

        home = work / "home"
        (home / ".nextmv").mkdir(parents=True)
        (home / ".nextmv" / "config.yaml").write_text(
            f"apikey: {key}\nendpoint: 127.0.0.1:{port}\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTMV_")}
        env.update(HOME=str(home), REQUESTS_CA_BUNDLE=str(cert), TERM="xterm-256color",
                   COLUMNS=str(COLS), LINES=str(ROWS))
        floor_file = work / "floor.py"
        floor_file.write_text(FLOOR_APP)

        cases = {
            "floor (bare DataTable app)": ([sys.executable, str(floor_file), marker.decode()], b""),
            "nextmv-tui monitor": ([str(BIN / "nextmv-tui"), "--endpoint", endpoint,
                                    "--api-key", key], b"q"),
            "nextmv cloud run list": ([str(BIN / "nextmv"), "cloud", "run", "list", "-a",
                                       "knapsack"], b""),
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(args.repeat):  # interleaved so drift hits every case alike
            for name, (argv, keys) in cases.items():
                results[name].append(in_pty(argv, env, marker, keys))

        print(f"launch to first queue render, pty {COLS}x{ROWS}, median of {args.repeat}")
        medians: dict[str, tuple[float, float]] = {}
        for name, samples in results.items():
            first = statistics.median(s[0] for s in samples)
            total = statistics.median(s[1] for s in samples)
            medians[name] = (first, total)
            print(f"  {name:<28} first render {first:6.3f} s   wall {total:6.3f} s")
        floor = medians["floor (bare DataTable app)"][0]
        ours = medians["nextmv-tui monitor"][0]
        cli_wall = medians["nextmv cloud run list"][1]
        floor_wall = medians["floor (bare DataTable app)"][1]
        print(f"  monitor first render / floor first paint: {ours / floor:.2f}x")
        print(f"  monitor first render / floor paint-and-exit: {ours / floor_wall:.2f}x"
              "  (target <= 1.10x; the issue's floor figure, ~0.53 s, is paint-and-exit)")
        print(f"  monitor first render / CLI wall: {ours / cli_wall:.2f}x  (target <= 0.75x)")
    finally:
        service.terminate()
        service.wait(10)


if __name__ == "__main__":
    main()
