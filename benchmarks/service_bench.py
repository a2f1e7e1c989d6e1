"""Local run service: queue latency at 10,000 queued runs (alone, with a second client
polling every 2 s, and with one polling back to back), create-run throughput, and a 500 MB
upload, each next to an anchor measured in the same run.

    .venv/bin/python benchmarks/service_bench.py [--queued 10000] [--samples 1000]
        [--rounds 5] [--creates 400] [--upload-mb 500] [--upload-repeat 5] [--quick]

The real service runs as a subprocess (``nextmv-tui serve --concurrency 0``: runs stay
queued, so the figures are the API's). The queue is written straight into its store before
it starts. Anchors:

- queue GET and create-run: ``benchmarks/harness/bare_service.py``, the same framework
  (FastAPI on uvicorn, one process) answering the same queue bytes captured from the
  service, and a create route that parses the body and stores nothing;
- upload: a bare TCP sink process on loopback writing the same bytes to disk.

Queue latency: ``--samples`` requests per scenario (>= 1,000, so p99 is the 10th-worst
sample, not the maximum), taken in ``--rounds`` interleaved blocks (alone, polled every 2 s,
polled back to back, anchor); the second client is a separate process. Time is request
sent to body read (httpx, keep-alive). Percentiles are nearest-rank over all samples; the
median [min..max] is over the rounds' medians. Create-run: ``--creates`` requests over 50
keep-alive raw sockets per round. Upload: the time of the service's presigned PUT divided by
the time of the plain copy, interleaved, median of ``--upload-repeat`` (>= 5). Prints;
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import stats
from benchmarks.harness.servers import free_port, local_service, wait_healthy
from benchmarks.harness.stats import REPO
from nextmv_tui.service.store import RunRecord, Store

POLLER = """
import sys, time, httpx
url, key, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
    while True:
        started = time.monotonic()
        client.get(url).json()
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
"""

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

SCENARIOS = (("alone", None), ("2nd client every 2 s", 2.0), ("2nd client back to back", 0.0))


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


@contextlib.contextmanager
def bare_service(queue_file: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.harness.bare_service", "--port",
                             str(port), "--queue-file", str(queue_file)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(endpoint, proc, "bare service")
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def poller(url: str, key: str, interval: float | None) -> Iterator[None]:
    if interval is None:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", POLLER, url, key, str(interval)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)  # pacing: let its first request start
        yield
    finally:
        proc.kill()
        proc.wait()


def sample_gets(url: str, key: str, count: int) -> list[float]:
    times = []
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        client.get(url).raise_for_status()  # connection and first-request warm-up
        for _ in range(count):
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
            response.raise_for_status()
    return times


def queue_latency(endpoint: str, key: str, anchor: str, args: argparse.Namespace) -> None:
    per_round = max(1, args.samples // args.rounds)
    names = [name for name, _ in SCENARIOS] + ["anchor: bare FastAPI, same bytes"]
    pooled: dict[str, list[float]] = {name: [] for name in names}
    medians: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.rounds):
        for name, interval in SCENARIOS:
            url = f"{endpoint}/v1/account/queue"
            with poller(url, key, interval):
                times = sample_gets(url, key, per_round)
            pooled[name] += times
            medians[name].append(stats.spread(times)[0])
        times = sample_gets(f"{anchor}/v1/account/queue", key, per_round)
        pooled[names[-1]] += times
        medians[names[-1]].append(stats.spread(times)[0])
    size = len(httpx.get(f"{endpoint}/v1/account/queue", timeout=60,
                         headers={"Authorization": f"Bearer {key}"}).content)
    print(f"-- GET v1/account/queue, {args.queued:,} queued runs ({size / 1e6:.1f} MB), "
          f"{per_round * args.rounds} samples each, {args.rounds} interleaved rounds")
    for name in names:
        values = pooled[name]
        p = [stats.percentile(values, q) * 1000 for q in (50, 90, 99)]
        rounds = stats.fmt(medians[name], " ms", 1000, 0)
        print(f"   {name:<34} p50 {p[0]:5.0f}  p90 {p[1]:5.0f}  p99 {p[2]:5.0f}  max "
              f"{max(values) * 1000:5.0f} ms   round medians {rounds}")
    for name, _ in SCENARIOS:
        print("   " + stats.ratio_line(f"{name} / anchor, round medians", medians[name],
                                        medians[names[-1]], unit=" ms", scale=1000, digits=0))


async def create_runs_raw(port: int, key: str, count: int, parallel: int = 50) -> float:
    """``count`` create-run requests over ``parallel`` keep-alive sockets (a minimal HTTP/1.1
    client, so the figure is the server's, not a client library's)."""
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


def create_throughput(endpoint: str, key: str, anchor: str, args: argparse.Namespace) -> None:
    ours: list[float] = []
    bare: list[float] = []
    for _ in range(args.rounds):
        for url, into in ((endpoint, ours), (anchor, bare)):
            port = int(url.rsplit(":", 1)[1])
            into.append(args.creates / asyncio.run(create_runs_raw(port, key, args.creates)))
    print(f"-- create-run, {args.creates} requests per round over 50 keep-alive sockets, "
          f"{args.rounds} interleaved rounds")
    print(f"   service                            {stats.fmt(ours, ' runs/s', 1, 0)}")
    print(f"   anchor: bare FastAPI, no storage   {stats.fmt(bare, ' runs/s', 1, 0)}")
    print("   " + stats.ratio_line("service / anchor (throughput)", ours, bare, unit=" runs/s",
                                    digits=0))


def make_file(path: Path, size: int) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as handle:
        remaining = size
        while remaining > 0:
            handle.write(block[: min(len(block), remaining)])
            remaining -= len(block)


def _chunks(handle, size: int = 1024 * 1024):  # type: ignore[no-untyped-def]
    while chunk := handle.read(size):
        yield chunk


def put_upload(endpoint: str, key: str, path: Path) -> float:
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {key}"}) as client:
        url = client.post("/v1/applications/knapsack/runs/uploadurl").json()["upload_url"]
    size = path.stat().st_size
    with path.open("rb") as handle:
        start = time.perf_counter()
        response = httpx.put(url, content=_chunks(handle), timeout=600,
                             headers={"Content-Length": str(size)})
        elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


def loopback_copy(path: Path, dest: Path) -> float:
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(dest)], stdout=subprocess.PIPE,
                            text=True)
    assert sink.stdout is not None
    port = int(sink.stdout.readline())
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as conn, \
            path.open("rb") as handle:
        for chunk in _chunks(handle):
            conn.sendall(chunk)
    sink.wait()
    elapsed = time.perf_counter() - start
    sink.stdout.close()
    return elapsed


def upload_ratio(endpoint: str, key: str, tmp: Path, data_dir: Path, pid: int,
                 args: argparse.Namespace) -> None:
    size = args.upload_mb * 1000 * 1000
    source = tmp / "payload.bin"
    make_file(source, size)
    puts: list[float] = []
    copies: list[float] = []
    for rep in range(args.upload_repeat):
        order = ("copy", "put") if rep % 2 == 0 else ("put", "copy")
        for what in order:
            os.sync()  # neither pays for the other's dirty pages
            if what == "copy":
                copies.append(loopback_copy(source, tmp / "copy.bin"))
                (tmp / "copy.bin").unlink()
            else:
                puts.append(put_upload(endpoint, key, source))
                for stored in (data_dir / "uploads").iterdir():
                    stored.unlink()
    peak = _vm_hwm(pid)
    mb = size / 1e6
    print(f"-- upload of {mb:.0f} MB (random bytes) from the same file, {args.upload_repeat} "
          "interleaved repetitions, page cache flushed (sync) before each")
    print(f"   service presigned PUT (httpx)     {stats.fmt(puts, ' s', 1, 2)}")
    print(f"   anchor: loopback copy to disk     {stats.fmt(copies, ' s', 1, 2)}")
    print("   " + stats.ratio_line("PUT time / copy time", puts, copies, unit=" s", digits=2))
    print(f"   service peak RSS (VmHWM) after the uploads: {peak / 1e6:.0f} MB")


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--creates", type=int, default=400)
    parser.add_argument("--upload-mb", type=int, default=500)
    parser.add_argument("--upload-repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="smoke check: 2,000 queued, 50 samples, 1 round, 20 MB upload")
    args = parser.parse_args()
    if args.quick:
        args.queued, args.samples, args.rounds, args.creates = 2000, 50, 1, 100
        args.upload_mb, args.upload_repeat = 20, 1
    stats.header("local run service", min(args.rounds, args.upload_repeat))
    if args.samples < 1000:
        print("   ** fewer than 1,000 samples: p99 is not meaningful **")
    with tempfile.TemporaryDirectory(prefix="service-bench-") as tmp_name:
        tmp = Path(tmp_name)
        data_dir = tmp / "data"
        data_dir.mkdir()
        prefill(data_dir, args.queued)
        with local_service(data_dir) as service:
            queue_file = tmp / "queue.json"
            queue_file.write_bytes(httpx.get(
                f"{service.endpoint}/v1/account/queue", timeout=60,
                headers={"Authorization": f"Bearer {service.api_key}"}).content)
            with bare_service(queue_file) as anchor:
                queue_latency(service.endpoint, service.api_key, anchor, args)
                create_throughput(service.endpoint, service.api_key, anchor, args)
            upload_ratio(service.endpoint, service.api_key, tmp, data_dir, service.proc.pid,
                         args)
    stats.footer()


if __name__ == "__main__":
    main()
