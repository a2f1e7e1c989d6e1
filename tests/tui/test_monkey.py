"""The monkey (issue 8): seeded random keys, palette commands, themes, resizes and screens
against the REAL local service (a ``serve`` subprocess) while a feeder creates, finishes and
cancels runs. The driver and its invariants are in ``tests/tui/monkey.py``.

Bounded: ``MONKEY_SECONDS`` of steps (15 s by default; the whole test took 18-27 s in the
suite at load 2-6).
A failure prints its seed; ``pytest tests/tui/test_monkey.py --monkey-seed SEED`` (or
``MONKEY_SEED=SEED``) replays the same sequence. Longer runs: ``benchmarks/tui_monkey.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time

import pytest

from nextmv_tui.cloud.client import NextmvClient
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for, knapsack_request, routing_request
from tests.tui.monkey import Findings, palette_titles, run_monkey, watch

pytestmark = [pytest.mark.usefixtures("clean_env"), pytest.mark.full_frame_rate]
"""An empty HOME: the profile picker lists no real profile to switch the monitor away to.
Frames at Textual's own rate: the keys race the frames as they do in a terminal."""

ACTIVE_MAX = 6
"""The feeder keeps at most this many runs queued or running (it finishes some itself)."""


def monkey_seed(config: pytest.Config) -> int:
    seed = config.getoption("--monkey-seed")
    if seed is None and os.environ.get("MONKEY_SEED"):
        seed = int(os.environ["MONKEY_SEED"])
    return seed if seed is not None else random.SystemRandom().randrange(1, 2**31)


def monkey_seconds(config: pytest.Config) -> float:
    seconds = config.getoption("--monkey-seconds")
    if seconds is None:
        seconds = float(os.environ.get("MONKEY_SECONDS", "15"))
    return float(seconds)


async def feed(client: NextmvClient, rng: random.Random, counts: dict[str, int]) -> None:
    """Create short knapsack and routing runs and cancel some, forever (until cancelled)."""
    active: list[tuple[str, str]] = []
    while True:
        with contextlib.suppress(Exception):  # the service may be busy: keep feeding
            if len(active) < ACTIVE_MAX:
                if rng.random() < 0.5:
                    run_id = await client.create_run("knapsack", knapsack_request(
                        rng.randint(5, 30), name=f"monkey knapsack {counts['created']}"))
                    active.append(("knapsack", run_id))
                else:
                    run_id = await client.create_run("routing", routing_request(
                        rng.randint(1, 4), name=f"monkey routing {counts['created']}"))
                    active.append(("routing", run_id))
                counts["created"] += 1
            if active and rng.random() < 0.25:
                app_id, run_id = active.pop(rng.randrange(len(active)))
                await client.cancel_run(app_id, run_id)
                counts["canceled"] += 1
            still = []
            for app_id, run_id in active:
                if not (await client.run_information(app_id, run_id)).status.is_final:
                    still.append((app_id, run_id))
            counts["finished"] += len(active) - len(still)
            active = still
        await asyncio.sleep(rng.uniform(0.2, 1.0))  # pacing of the feeder, not a wait


@pytest.mark.slow(seconds=25)
async def test_monkey(request, local_service, tmp_path, monkeypatch):
    seed = monkey_seed(request.config)
    seconds = monkey_seconds(request.config)
    print(f"monkey seed {seed} ({seconds:g} s); replay with --monkey-seed {seed}")
    monkeypatch.chdir(tmp_path)  # save output's default path and the submit file tree
    (tmp_path / "input.json").write_text('{"items": [], "capacity": 1}')
    counts = {"created": 0, "canceled": 0, "finished": 0}
    async with client_for(local_service) as client:
        first = await client.create_run("knapsack", knapsack_request(name="monkey first"))
        app = app_for(local_service, refresh=1.0, max_backoff=2.0)
        findings = Findings()
        undo = watch(app, findings)
        feeder = asyncio.ensure_future(feed(client, random.Random(seed), counts))
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(pilot, lambda: app.main.table.has_run(first), 20)
                assert "Theme" in palette_titles(app), "themes are in the palette"
                began = time.monotonic()
                monkey = await run_monkey(app, pilot, seed, seconds, findings)
                polls = [t for t in findings.polls if t >= began]
                print(f"monkey seed {seed}: {sum(monkey.counts.values())} steps "
                      f"{dict(sorted(monkey.counts.items()))}, {len(polls)} queue polls, "
                      f"feeder {counts}")
                assert counts["created"] >= 3, "the feeder kept creating runs"
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
            undo()


async def test_polls_after_a_profile_switch_still_count(local_service):
    """The monkey's poll check follows the app's poller across a profile switch (which
    replaces it): counting only the first poller's successes failed CI with "no successful
    queue poll for 17 s" while the monitor polled fine."""
    app = app_for(local_service, refresh=1.0)
    findings = Findings()
    undo = watch(app, findings)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: len(findings.polls) >= 1, 20)
            first_poller = app.queue
            app.switch_config(app.settings.config)  # the same endpoint: a reconnect
            assert app.queue is not first_poller
            counted = len(findings.polls)
            await wait_until(pilot, lambda: len(findings.polls) >= counted + 2, 30)
    finally:
        undo()
