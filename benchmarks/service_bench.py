"""Local run service figures: create-run throughput, queue latency at 10,000 queued runs,
and a 500 MB upload next to a plain loopback copy of the same file, with the service's
peak RSS. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/service_bench.py [--creates 2000] [--queued 10000] [--upload-mb 500]

The service runs as a real subprocess with ``--concurrency 0`` so every run stays queued
(nothing executes; the figures are the API's). Runs beyond those created through the API are
written straight into the store before the service starts, to reach the queue size quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nextmv_tui.service.store import RunRecord, Store  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def prefill(data_dir: Path, count: int) -> None:
    store = Store(data_dir / "runs.db")
    now = time.time()
    for i in range(count):
        store.insert_run(RunRecord(
            id=f"run-pre{i:09d}", app_id="knapsack" if i % 2 else "routing", status="queued",
            created_at=now + i * 1e-6, status_changed_at=now, input_format="json",
            output_format="json", input_file="input.json", execution_class="local",
            priority=1 + i % 9, name=f"prefilled {i}",
        ))
    store.close()


def start_service(data_dir: Path, port: int, key: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nextmv_tui", "serve", "--port", str(port), "--data-dir",
         str(data_dir), "--api-key", key, "--concurrency", "0"],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("service did not start")


async def create_runs_raw(port: int, key: str, count: int, parallel: int) -> float:
    """Same requests over ``parallel`` keep-alive sockets with a minimal HTTP/1.1 client, so
    the figure is the service's, not httpx's (the client shares the 2 cores)."""
    body = b'{"input":{"items":[{"id":"a","value":1,"weight":1}],"weight_capacity":1}}'
    request = (
        b"POST /v1/applications/knapsack/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    remaining = [count]

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while remaining[0] > 0:
            remaining[0] -= 1
            writer.write(request)
            status = await reader.readline()
            if b" 200 " not in status:
                raise SystemExit(f"create failed: {status!r}")
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(parallel)))
    return time.perf_counter() - start


async def create_runs(base: str, key: str, count: int, parallel: int) -> float:
    limit = asyncio.Semaphore(parallel)
    headers = {"Authorization": f"Bearer {key}"}
    body = {"input": {"items": [{"id": "a", "value": 1, "weight": 1}], "weight_capacity": 1}}

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60,
                                 limits=httpx.Limits(max_connections=parallel)) as client:
        async def one() -> None:
            async with limit:
                response = await client.post("/v1/applications/knapsack/runs", json=body)
                response.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return time.perf_counter() - start


def queue_latency(base: str, key: str, samples: int) -> tuple[list[float], int]:
    times = []
    size = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
        client.get("/v1/account/queue")
        for _ in range(samples):
            start = time.perf_counter()
            response = client.get("/v1/account/queue")
            times.append(time.perf_counter() - start)
            size = len(response.json()["runs"])
    return times, size


def make_file(path: Path, size: int) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as handle:
        remaining = size
        while remaining > 0:
            handle.write(block[: min(len(block), remaining)])
            remaining -= len(block)


def upload(base: str, key: str, path: Path) -> float:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
        url = client.post("/v1/applications/knapsack/runs/uploadurl").json()["upload_url"]
    size = path.stat().st_size
    with path.open("rb") as handle:
        start = time.perf_counter()
        response = httpx.put(url, content=_chunks(handle), timeout=300,
                             headers={"Content-Length": str(size)})
        elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


def _chunks(handle, size: int = 1024 * 1024):  # type: ignore[no-untyped-def]
    while chunk := handle.read(size):
        yield chunk


SINK = """
import socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
print(server.getsockname()[1], flush=True)
conn, _ = server.accept()
buffer = memoryview(bytearray(1024 * 1024))
with conn, open(sys.argv[1], "wb") as out:
    while count := conn.recv_into(buffer):
        out.write(buffer[:count])
"""


def loopback_copy(path: Path, dest: Path) -> float:
    """Baseline: a bare TCP sink process on loopback writing to disk, fed the same way."""
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(dest)], stdout=subprocess.PIPE,
                            text=True)
    assert sink.stdout is not None
    port = int(sink.stdout.readline())
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as conn, path.open("rb") as handle:
        for chunk in _chunks(handle):
            conn.sendall(chunk)
    sink.wait()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--upload-mb", type=int, default=500)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nextmv-bench-") as tmp:
        tmp_dir = Path(tmp)
        data_dir = tmp_dir / "data"
        data_dir.mkdir()
        prefill(data_dir, max(0, args.queued - args.creates))
        port, key = free_port(), secrets.token_hex(16)
        proc = start_service(data_dir, port, key)
        base = f"http://127.0.0.1:{port}"
        try:
            rss_idle = vm_hwm_mb(proc.pid)
            half = args.creates // 2
            elapsed = asyncio.run(create_runs(base, key, half, args.parallel))
            print(f"create-run (httpx.AsyncClient): {half} runs in {elapsed:.2f} s = "
                  f"{half / elapsed:.0f} runs/s ({args.parallel} concurrent requests)")
            rest = args.creates - half
            elapsed = asyncio.run(create_runs_raw(port, key, rest, args.parallel))
            print(f"create-run (raw keep-alive sockets): {rest} runs in {elapsed:.2f} s = "
                  f"{rest / elapsed:.0f} runs/s ({args.parallel} connections)")

            times, size = queue_latency(base, key, 50)
            times.sort()
            p50 = statistics.median(times) * 1000
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
            print(f"GET v1/account/queue with {size} queued runs: p50 {p50:.0f} ms, "
                  f"p99 {p99:.0f} ms ({len(times)} requests)")

            size_bytes = args.upload_mb * 1000 * 1000
            source = tmp_dir / "payload.bin"
            make_file(source, size_bytes)
            # Same disk work for both; flush dirty pages before each so neither pays for the
            # other; alternate twice and keep the best of each (the 2 cores are shared).
            rss_before = vm_hwm_mb(proc.pid)
            copies, uploads = [], []
            for _ in range(2):
                os.sync()
                copies.append(loopback_copy(source, tmp_dir / "copy.bin"))
                (tmp_dir / "copy.bin").unlink()
                os.sync()
                uploads.append(upload(base, key, source))
            rss_after = vm_hwm_mb(proc.pid)
            base_line, up = min(copies), min(uploads)
            mb = size_bytes / 1e6
            print(f"upload {mb:.0f} MB (best of 2): service PUT {mb / up:.0f} MB/s ({up:.2f} s); "
                  f"plain loopback copy to disk {mb / base_line:.0f} MB/s ({base_line:.2f} s); "
                  f"service/plain = {base_line / up:.2f}")
            print(f"service peak RSS (VmHWM): idle {rss_idle:.0f} MB, before upload "
                  f"{rss_before:.0f} MB, after upload {rss_after:.0f} MB")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


if __name__ == "__main__":
    main()
