"""The --demo feeder against the REAL local service: a mix of apps, priorities and some
invalid inputs that fail; it never lets the queue grow past its bound and survives outages."""

from __future__ import annotations

import asyncio
import random

import pytest

from nextmv_tui.cloud.retry import NO_RETRY
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.demo import DemoFeeder, demo_jobs
from tests.tui.helpers import client_for


def test_job_mix_covers_both_apps_priorities_long_runs_and_bad_inputs():
    jobs = [job for job, _ in zip(demo_jobs(random.Random(7)), range(300), strict=False)]
    assert {j.app_id for j in jobs} == {"knapsack", "routing"}
    assert {j.priority for j in jobs} == set(range(1, 10))
    durations = [int(j.options["duration"]) for j in jobs if "duration" in j.options]
    assert min(durations) <= 3 and max(durations) >= 15
    assert any("bad" in j.name for j in jobs)
    again = [j.name for j, _ in zip(demo_jobs(random.Random(7)), range(20), strict=False)]
    assert again == [j.name for j in jobs[:20]], "seeded streams are reproducible"


async def test_feeder_submits_runs_that_succeed_and_fail_and_respects_bound(make_inprocess_service):
    service = await make_inprocess_service(concurrency=4)
    async with client_for(service) as client:
        feeder = DemoFeeder(client, seed=11, max_queued=50, pause=(0.0, 0.0))
        for _ in range(12):
            await feeder.step()
        assert len(feeder.submitted) >= 12
        statuses: dict[str, RunStatus] = {}
        deadline = asyncio.get_running_loop().time() + 60
        while asyncio.get_running_loop().time() < deadline:
            for run_id in feeder.submitted:
                for app_id in ("knapsack", "routing"):
                    try:
                        info = await client.run_information(app_id, run_id)
                    except Exception:
                        continue
                    statuses[run_id] = info.status
                    break
            if RunStatus.FAILED in statuses.values() and RunStatus.SUCCEEDED in statuses.values():
                break
            await asyncio.sleep(0.5)
        assert RunStatus.SUCCEEDED in statuses.values()
        assert RunStatus.FAILED in statuses.values(), "bad inputs fail"

        bounded = DemoFeeder(client, seed=1, max_queued=0)
        assert await bounded.step() is None, "no room in the queue: nothing submitted"


async def test_feeder_backs_off_while_the_service_is_down(make_local_service):
    service = make_local_service(start=False)
    sleeps: list[float] = []

    class Stop(Exception):
        pass

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) >= 4:
            raise Stop

    async with client_for(service, retry=NO_RETRY) as client:
        feeder = DemoFeeder(client, seed=1, sleep=fake_sleep)
        with pytest.raises(Stop):
            await feeder.run()
    assert feeder.failures == 4
    assert sleeps == sorted(sleeps) and sleeps[0] < sleeps[-1], "exponential backoff"
