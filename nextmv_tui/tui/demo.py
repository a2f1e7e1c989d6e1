"""The ``--demo`` feeder: keeps a realistic mix of runs flowing into the local service.

Textual-free: it only uses the cloud client, so it can also run from a script. The mix covers
what a monitor must show: both bundled apps, short and long routing runs, priorities 1 to 9,
and some inputs the apps reject (those runs fail). It keeps the queue alive but bounded: a new
run is submitted only while fewer than ``max_queued`` runs are waiting. Faults (service down)
only slow it down; it never raises out of ``run`` except on cancellation.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.models import CreateRunRequest, Format, Queuing, RunConfiguration
from nextmv_tui.cloud.samples import make_knapsack_input, make_routing_input
from nextmv_tui.cloud.status import RunStatus


@dataclass(frozen=True)
class DemoJob:
    """One run to submit."""

    app_id: str
    name: str
    input: dict[str, Any]
    priority: int
    options: dict[str, str] = field(default_factory=dict)

    def request(self) -> CreateRunRequest:
        return CreateRunRequest(
            input=self.input,
            name=self.name,
            description="submitted by nextmv-tui --demo",
            options=self.options or None,
            configuration=RunConfiguration(
                format=Format(), queuing=Queuing(priority=self.priority)
            ),
        )


def demo_jobs(rng: random.Random) -> Iterator[DemoJob]:
    """An endless, reproducible (for a seeded ``rng``) stream of demo runs."""
    number = 0
    while True:
        number += 1
        roll = rng.random()
        priority = rng.randint(1, 9)
        seed = rng.randint(0, 10**6)
        if roll < 0.40:
            n = rng.randint(20, 250)
            yield DemoJob("knapsack", f"demo knapsack {n} items #{number}",
                          make_knapsack_input(n, seed), priority)
        elif roll < 0.65:
            stops, duration = rng.randint(10, 40), rng.randint(2, 6)
            yield DemoJob("routing", f"demo routing {stops} stops {duration}s #{number}",
                          make_routing_input(stops, rng.randint(1, 3), seed), priority,
                          {"duration": str(duration)})
        elif roll < 0.75:
            stops, duration = rng.randint(40, 120), rng.randint(15, 30)
            yield DemoJob("routing", f"demo routing {stops} stops {duration}s #{number}",
                          make_routing_input(stops, rng.randint(2, 6), seed), priority,
                          {"duration": str(duration)})
        elif roll < 0.88:
            yield DemoJob("knapsack", f"demo bad knapsack input #{number}",
                          {"items": "not a list", "weight_capacity": 10}, priority)
        else:
            yield DemoJob("routing", f"demo bad routing input #{number}",
                          {"stops": [{"id": "s1"}], "vehicles": "none"}, priority,
                          {"duration": "2"})


class DemoFeeder:
    """Submits demo runs forever (until cancelled)."""

    def __init__(
        self,
        client: NextmvClient,
        *,
        seed: int | None = None,
        max_queued: int = 8,
        pause: tuple[float, float] = (1.5, 4.0),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_submit: Callable[[str, DemoJob], None] | None = None,
    ) -> None:
        self._client = client
        self._rng = random.Random(seed)
        self._jobs = demo_jobs(self._rng)
        self._max_queued = max_queued
        self._pause = pause
        self._sleep = sleep
        self._on_submit = on_submit
        self.submitted: list[str] = []
        self.failures = 0

    async def step(self) -> str | None:
        """Submit one run if the queue has room; returns its ID (None if it was full)."""
        queue = await self._client.account_queue()
        waiting = sum(1 for run in queue if run.status_v2 == RunStatus.QUEUED)
        if waiting >= self._max_queued:
            return None
        job = next(self._jobs)
        run_id = await self._client.create_run(job.app_id, job.request())
        self.submitted.append(run_id)
        if self._on_submit is not None:
            self._on_submit(run_id, job)
        return run_id

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:  # service down or refusing: back off quietly, try again
                self.failures += 1
                await self._sleep(min(30.0, 2.0 ** min(self.failures, 5)))
                continue
            self.failures = 0
            await self._sleep(self._rng.uniform(*self._pause))
