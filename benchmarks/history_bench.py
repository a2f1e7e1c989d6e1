"""Run history at scale: launch to the first history batch and to a complete launch load with
5,000 historical runs across 20 applications, and the request count per minute against
Cloud-like pages (50 runs) under the default policy. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/history_bench.py [--runs 5000] [--apps 20] [--repeat 5]

Setup: the runs (finished, spread over the last 48 h, so about half fall in the default
24 h window) are written straight into a data dir's store, then a real ``nextmv-tui serve``
subprocess (``--concurrency 0``) serves them; it also has the two bundled apps (no runs).

Measured, interleaved, ``--repeat`` times each, fresh client and event loop every time:
- ``HistoryFetcher`` (default ``HistoryOptions``): time to the first batch with runs, and to
  ``HistoryReady`` (every application's newest runs within 24 h, at most 100 each);
- anchor 1, the floor of a first batch: one raw httpx GET of one page of runs;
- anchor 2, what a script does with the official SDK for the same picture: list the
  applications, then ``Application.list_runs()`` of each (every run, all pages).

Requests per minute: the policy is replayed in virtual time (an injected clock) against the
real service for 10 minutes, so the count is exact and the run takes seconds: minute 1 (the
launch) and the mean of minutes 2-10, with 20 applications and with 5.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from service_bench import free_port, start_service

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nextmv_tui.cloud.client import NextmvClient  # noqa: E402
from nextmv_tui.cloud.config import ClientConfig  # noqa: E402
from nextmv_tui.cloud.errors import NextmvError  # noqa: E402
from nextmv_tui.cloud.history import HistoryOptions, HistoryPolicy, ListApps  # noqa: E402
from nextmv_tui.cloud.history_fetch import (  # noqa: E402
    HistoryEvent,
    HistoryFetcher,
    HistoryReady,
    RunsListed,
)
from nextmv_tui.service.seeding import seed_history  # noqa: E402
from nextmv_tui.service.store import Store  # noqa: E402

COMMAND = ".venv/bin/python benchmarks/history_bench.py"


class Service:
    def __init__(self, root: Path, apps: int, runs: int) -> None:
        self.data_dir = root / f"data-{apps}"
        self.key = "bench-" + secrets.token_hex(8)
        self.port = free_port()
        store = Store(self.data_dir / "runs.db")
        started = time.perf_counter()
        seed_history(store, [f"app-{i:02d}" for i in range(apps)], runs)
        self.seed_seconds = time.perf_counter() - started
        store.close()
        self.proc = start_service(self.data_dir, self.port, self.key)
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def client(self) -> NextmvClient:
        return NextmvClient(ClientConfig(self.endpoint, self.key))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


# --- launch -------------------------------------------------------------------------------


async def fetcher_launch(service: Service) -> tuple[float, float, int, int]:
    """(first batch s, ready s, requests, runs) of one fetcher launch."""
    started = time.perf_counter()
    first: list[float] = []
    ready = asyncio.Event()
    found: dict[str, None] = {}

    def emit(event: HistoryEvent) -> None:
        if isinstance(event, RunsListed) and event.runs:
            first.append(first[0] if first else time.perf_counter() - started)
            found.update(dict.fromkeys(run.id for run in event.runs))
        if isinstance(event, HistoryReady):
            ready.set()

    async with service.client() as client:
        fetcher = HistoryFetcher(client, HistoryOptions())
        task = asyncio.create_task(fetcher.run(emit))
        await asyncio.wait_for(ready.wait(), 120)
        done = time.perf_counter() - started
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return first[0], done, fetcher.requests, len(found)


async def single_request(service: Service) -> float:
    started = time.perf_counter()
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {service.key}"}) as http:
        response = await http.get(f"{service.endpoint}/v1/applications/app-00/runs",
                                  params={"pagereturn": "true"})
        response.raise_for_status()
    return time.perf_counter() - started


def sdk_everything(service: Service) -> tuple[float, int]:
    from nextmv import cloud  # type: ignore[import-untyped]

    started = time.perf_counter()
    client = cloud.Client(api_key=service.key, url=service.endpoint)
    runs = 0
    for app in cloud.list_applications(client):
        runs += len(app.list_runs())
    return time.perf_counter() - started, runs


# --- requests per minute (virtual time) ---------------------------------------------------


async def replay_minutes(service: Service, minutes: int = 10) -> list[int]:
    """Requests per virtual minute, the default policy against the real service."""
    now = [0.0]
    base = datetime.now(timezone.utc)
    policy = HistoryPolicy(HistoryOptions(), clock=lambda: now[0],
                           wall=lambda: base + timedelta(seconds=now[0]))
    counts = [0] * minutes
    async with service.client() as client:
        while now[0] < minutes * 60:
            decision = policy.next()
            if isinstance(decision, float):
                now[0] += decision
                continue
            counts[int(now[0] // 60)] += 1
            try:
                if isinstance(decision, ListApps):
                    apps = await client.list_applications_page(decision.page_token)
                    policy.apps_listed(decision, [a.id for a in apps.items],
                                       apps.next_page_token)
                else:
                    page = await client.list_runs(decision.app_id, decision.page_token)
                    policy.runs_listed(decision, page.runs, page.next_page_token)
            except NextmvError as exc:
                policy.failed(decision, exc)
    return counts


# --- report -------------------------------------------------------------------------------


def spread(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    scaled = [v * scale for v in values]
    return (f"median {statistics.median(scaled):8.3f} {unit}  min {min(scaled):8.3f}  "
            f"max {max(scaled):8.3f}")


def measure(service: Service, repeat: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {k: [] for k in (
        "first", "ready", "requests", "runs", "single", "sdk", "sdk_runs")}
    cases: list[Callable[[], None]] = []

    def ours() -> None:
        first, ready, requests, runs = asyncio.run(fetcher_launch(service))
        figures["first"].append(first)
        figures["ready"].append(ready)
        figures["requests"].append(requests)
        figures["runs"].append(runs)

    def floor() -> None:
        figures["single"].append(asyncio.run(single_request(service)))

    def sdk() -> None:
        seconds, runs = sdk_everything(service)
        figures["sdk"].append(seconds)
        figures["sdk_runs"].append(runs)

    cases = [ours, floor, sdk]
    for case in cases:  # warm-up: imports, the service's caches
        case()
    for values in figures.values():
        values.clear()
    for _ in range(repeat):  # interleaved so drift hits every case alike
        for case in cases:
            case()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="history-bench-") as tmp:
        big = Service(Path(tmp), args.apps, args.runs)
        small = Service(Path(tmp), 5, args.runs // 4)
        try:
            figures = measure(big, args.repeat)
            per_minute = asyncio.run(replay_minutes(big))
            per_minute_small = asyncio.run(replay_minutes(small))
        finally:
            big.stop()
            small.stop()
    report(args, big, figures, per_minute, per_minute_small)


def report(args, big: Service, figures, per_minute: list[int], small: list[int]) -> None:
    print(f"command: {COMMAND} --runs {args.runs} --apps {args.apps} --repeat {args.repeat}")
    print(f"{args.runs} finished runs over 48 h across {args.apps} applications "
          f"(+2 bundled, no runs); seeded in {big.seed_seconds:.2f} s; pages of 50; "
          f"{args.repeat} repetitions")
    print("launch (default policy: 24 h, at most 100 runs per application)")
    print(f"  HistoryFetcher first batch    {spread(figures['first'])}")
    print(f"  HistoryFetcher launch loaded  {spread(figures['ready'])}   "
          f"({statistics.median(figures['requests']):.0f} requests, "
          f"{statistics.median(figures['runs']):.0f} runs)")
    print(f"  anchor: one raw GET of a page {spread(figures['single'])}")
    print(f"  anchor: official SDK, list_applications + list_runs of each  "
          f"{spread(figures['sdk'])}   ({statistics.median(figures['sdk_runs']):.0f} runs)")
    first, single = statistics.median(figures["first"]), statistics.median(figures["single"])
    print(f"  first batch / one raw GET: {first / single:.2f}x   "
          f"launch loaded / SDK full listing: "
          f"{statistics.median(figures['ready']) / statistics.median(figures['sdk']):.2f}x")
    for label, counts in ((f"{args.apps + 2} applications", per_minute),
                          ("7 applications (5 + 2 bundled)", small)):
        steady = counts[1:]
        print(f"requests per minute, {label}, virtual time: minute 1 (launch) {counts[0]}, "
              f"minutes 2-{len(counts)}: mean {statistics.mean(steady):.1f} "
              f"(min {min(steady)}, max {max(steady)})")


if __name__ == "__main__":
    main()
