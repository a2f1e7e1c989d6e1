"""Peak service RSS while serving a run with a large log and a large output, and the slowest
answer another client gets from the queue meanwhile (issue 10 goals: < 300 MB, < 1 s).

    .venv/bin/python benchmarks/service_large.py [--log-mb 200] [--output-mb 150] [--rounds 5]

One run of the ``chatter`` test app writes the log and the JSON output once. Then, per round,
interleaved: the anchor (the queue polled alone for a few seconds: the service's idle RSS and
queue latency on this machine, now) and the load (one client fetches everything large: the
log, the full log, the live log, the output, its download URL and the download, the result,
while another polls the queue). RSS is sampled every 20 ms. Prints median and spread;
asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import httpx
from hostile_service import TEST_APPS, Service, rss_mib, wait_final

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.harness import stats

APP = "chatter"


class Sampler:
    """Peak VmRSS of ``pid`` and the slowest queue answer while active."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.peak_rss = 0.0
        self.slowest = 0.0
        self.queue_answers = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._rss, daemon=True),
                         threading.Thread(target=self._queue, daemon=True)]

    def _rss(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, rss_mib(self.service.pid))
            self._stop.wait(0.02)

    def _queue(self) -> None:
        with self.service.client() as client:
            while not self._stop.is_set():
                started = time.monotonic()
                client.get("/v1/account/queue").raise_for_status()
                self.slowest = max(self.slowest, time.monotonic() - started)
                self.queue_answers += 1
                self._stop.wait(0.05)

    def __enter__(self) -> Sampler:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


def drain(client: httpx.Client, url: str, **params: str) -> int:
    with client.stream("GET", url, params=params) as response:
        response.raise_for_status()
        return sum(len(chunk) for chunk in response.iter_bytes(1024 * 1024))


def fetch_everything(client: httpx.Client, run_id: str) -> int:
    run = f"/v1/applications/{APP}/runs/{run_id}"
    total = len(client.get(f"{run}/logs").content)
    total += drain(client, f"{run}/logs", full="true")
    total += len(client.get(f"{run}/logs/live").content)
    total += drain(client, f"{run}/output")
    url = client.get(f"{run}/output", params={"format": "url"}).json()["url"]
    total += drain(client, url)
    total += len(client.get(run).content)
    total += len(client.get(f"{run}/input").content)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log-mb", type=int, default=200)
    parser.add_argument("--output-mb", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--anchor-seconds", type=float, default=5.0)
    args = parser.parse_args()
    stats.header(f"local service serving a run with a {args.log_mb} MB log and a "
                 f"{args.output_mb} MB output, {args.rounds} interleaved rounds", args.rounds)
    service = Service("--app", str(TEST_APPS / APP), "--max-log-mb", "0")
    try:
        with service.client() as client:
            started = time.monotonic()
            run_id = client.post(f"/v1/applications/{APP}/runs", json={
                "input": {}, "options": {"log_mb": str(args.log_mb),
                                         "output_mb": str(args.output_mb)},
            }).json()["run_id"]
            status = wait_final(client, APP, run_id)
            print(f"run {run_id}: {status} in {time.monotonic() - started:.1f} s "
                  f"({args.log_mb} MB log, {args.output_mb} MB output)")
        anchor_rss, anchor_queue, load_rss, load_queue, moved = [], [], [], [], []
        for _ in range(args.rounds):
            with Sampler(service) as anchor:
                time.sleep(args.anchor_seconds)
            anchor_rss.append(anchor.peak_rss)
            anchor_queue.append(anchor.slowest * 1000)
            with Sampler(service) as load, service.client() as client:
                began = time.monotonic()
                size = fetch_everything(client, run_id)
                moved.append(size / (1024 * 1024) / (time.monotonic() - began))
            load_rss.append(load.peak_rss)
            load_queue.append(load.slowest * 1000)
        print(f"   anchor, the queue polled alone: peak RSS {stats.fmt(anchor_rss, ' MiB')}; "
              f"slowest queue answer {stats.fmt(anchor_queue, ' ms')}")
        print(f"   serving the large run:          peak RSS {stats.fmt(load_rss, ' MiB')}; "
              f"slowest queue answer {stats.fmt(load_queue, ' ms')}")
        print("   " + stats.ratio_line("peak RSS, serving / anchor", load_rss, anchor_rss,
                                       unit=" MiB"))
        print("   " + stats.ratio_line("slowest queue answer, serving / anchor", load_queue,
                                       anchor_queue, unit=" ms"))
        print(f"   large answers streamed at {stats.fmt(moved, ' MiB/s')}")
        print(f"   service peak RSS over the whole benchmark (VmHWM, includes the run itself): "
              f"{rss_mib(service.pid, 'VmHWM'):.1f} MiB (goals: < 300 MB, queue < 1 s)")
        stats.footer()
    finally:
        service.stop()


if __name__ == "__main__":
    main()
