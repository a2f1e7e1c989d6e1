"""Queue refresh cost and memory of the monitor, measured in-process (headless Textual).

    .venv/bin/python benchmarks/tui_refresh.py [--runs 10000] [--cycles 20]
                                               [--rss-cycles 5000]

1. One refresh with ``--runs`` queued runs of which 5 % changed status: the handler (store
   diff + keyed table update inside ``batch_update``), the JSON parse of the answer (done in
   the poll worker), and the next repaint (``pilot.pause()``, which includes ~60 ms of pause
   overhead per the reference measurements). Median of ``--cycles``.
2. RSS after ``--rss-cycles`` full poll cycles minus after 100: 200 queued runs through a
   synthetic API (httpx MockTransport: the figure is the app's, not a server's); every cycle
   some runs finish (final state fetched, kept in the bounded history) and new ones arrive.

A synthetic API is used so the figures measure the monitor alone. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nextmv_tui.cloud.config import ClientConfig  # noqa: E402
from nextmv_tui.cloud.models import QueueResponse  # noqa: E402
from nextmv_tui.tui.app import make_app  # noqa: E402
from nextmv_tui.tui.messages import QueueLoaded  # noqa: E402
from nextmv_tui.tui.settings import Settings  # noqa: E402

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def entry(i: int, status: str) -> dict[str, Any]:
    return {
        "id": f"run-{i:08d}", "user_email": "bench@example.com", "name": f"bench run {i}",
        "description": "", "created_at": (T0 + timedelta(seconds=i)).isoformat(),
        "application_id": "knapsack" if i % 2 else "routing",
        "application_instance_id": "latest", "application_version_id": "v1",
        "execution_class": "6c9500mb870s", "status_v2": status, "queuing_priority": 1 + i % 9,
    }


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def config() -> ClientConfig:
    return ClientConfig(endpoint="http://bench.invalid", api_key="k", profile="bench")


async def refresh_bench(runs: int, cycles: int) -> None:
    app = make_app(Settings(config=config(), poll=False))
    async with app.run_test(size=(160, 45)) as pilot:
        app.queue.paused = True  # the handler must not arm real polls against the fake endpoint
        statuses = ["queued"] * runs
        token = 0

        def snapshot() -> bytes:
            return json.dumps({"runs": [entry(i, s) for i, s in enumerate(statuses)]}).encode()

        body = snapshot()
        token += 1
        start = time.perf_counter()
        app._queue_loaded(QueueLoaded(QueueResponse.model_validate_json(body).runs, token))
        await pilot.pause()
        first = time.perf_counter() - start
        handler: list[float] = []
        parse: list[float] = []
        settle: list[float] = []
        step = max(1, runs // 20)  # 5 % of the rows change per cycle
        for cycle in range(cycles):
            for i in range(cycle % step, runs, step):
                statuses[i] = "running" if statuses[i] == "queued" else "queued"
            body = snapshot()
            t0 = time.perf_counter()
            parsed = QueueResponse.model_validate_json(body).runs
            t1 = time.perf_counter()
            token += 1
            app._queue_loaded(QueueLoaded(parsed, token))
            t2 = time.perf_counter()
            await pilot.pause()
            t3 = time.perf_counter()
            parse.append(t1 - t0)
            handler.append(t2 - t1)
            settle.append(t3 - t2)
        assert app.main.table.row_count == runs
    med = statistics.median
    print(f"refresh with {runs} queued runs, 5% changed, median of {cycles}:")
    print(f"  first load (parse + add all rows + paint): {first * 1000:8.1f} ms")
    print(f"  handler (diff + keyed table update):       {med(handler) * 1000:8.1f} ms")
    print(f"  JSON parse in the poll worker:             {med(parse) * 1000:8.1f} ms")
    print(f"  repaint (next pilot.pause):                {med(settle) * 1000:8.1f} ms")
    print(f"  handler + parse:                           {(med(handler) + med(parse)) * 1000:8.1f}"
          " ms  (target < 100 ms)")


class ChurningApi:
    """200 queued/running runs; each poll a few finish and new ones arrive."""

    def __init__(self, size: int = 200) -> None:
        self.next_id = size
        self.active = list(range(size))
        self.polls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/account/queue"):
            self.polls += 1
            for _ in range(3):  # three finish, three arrive
                self.active.pop(0)
                self.active.append(self.next_id)
                self.next_id += 1
            runs = [entry(i, "running" if n < 4 else "queued") for n, i in enumerate(self.active)]
            return httpx.Response(200, json={"runs": runs})
        if path.endswith("/metadata"):
            run_id = path.split("/")[-2]
            return httpx.Response(200, json={
                "id": run_id, "name": "", "description": "", "user_email": "",
                "metadata": {"application_id": "knapsack", "created_at": T0.isoformat(),
                             "status_v2": "succeeded", "format": {}, "run_type": {}},
            })
        if "/logs" in path:
            return httpx.Response(200, json={"items": [], "status_v2": "succeeded",
                                             "next_available_in_seconds": 1, "log": ""})
        return httpx.Response(200, json={"id": "x", "metadata": {"created_at": T0.isoformat()},
                                         "output": {}})


async def rss_bench(cycles: int) -> None:
    api = ChurningApi()
    app = make_app(Settings(config=config(), poll=False, transport=httpx.MockTransport(api)))
    samples: dict[int, float] = {}
    async with app.run_test(size=(160, 45)) as pilot:
        app.queue.paused = True  # cycles are driven here, back to back
        start = time.perf_counter()
        for cycle in range(1, cycles + 1):
            done = app.queue.polls_completed
            app.poll_now()
            while app.queue.polls_completed == done:
                await pilot.pause(0)
            if cycle in (100, cycles):
                while any(w.group == "final" and not w.is_finished for w in app.workers):
                    await pilot.pause(0.01)
                await pilot.pause()
                gc.collect()
                samples[cycle] = rss_mb()
        elapsed = time.perf_counter() - start
        listed = app.main.table.row_count
    print(f"memory over {cycles} refresh cycles (200 active runs, 3 finish per cycle):")
    print(f"  RSS after 100 cycles:   {samples[100]:7.1f} MB")
    print(f"  RSS after {cycles} cycles: {samples[cycles]:7.1f} MB")
    print(f"  difference:             {samples[cycles] - samples[100]:7.1f} MB  (target < 10 MB)")
    print(f"  rows listed at the end: {listed} (active + bounded history of 500)")
    print(f"  {cycles / elapsed:.0f} cycles/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--rss-cycles", type=int, default=5_000)
    args = parser.parse_args()
    asyncio.run(refresh_bench(args.runs, args.cycles))
    asyncio.run(rss_bench(args.rss_cycles))


if __name__ == "__main__":
    main()
