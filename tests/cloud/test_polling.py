"""The polling schedule and loop, with injected clock, random source and sleep."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from nextmv_tui.cloud.errors import PollTimeoutError
from nextmv_tui.cloud.polling import (
    PollingOptions,
    PollSchedule,
    live_log_delay,
    poll_until_final,
    prompt_delay,
)
from nextmv_tui.cloud.retry import RetryPolicy, parse_retry_after
from nextmv_tui.cloud.status import RunStatus


def test_schedule_matches_the_sdk_defaults():
    schedule = PollSchedule(rng=lambda: 0.0)
    assert schedule.initial_delay() == 1.0
    delays = [schedule.delay_after(i) for i in range(1, 8)]
    assert delays == pytest.approx([1.9, 3.7, 7.3, 14.5, 20.0, 20.0, 20.0])


def test_jitter_is_added_after_the_cap():
    schedule = PollSchedule(PollingOptions(jitter=1.0), rng=lambda: 0.999)
    assert schedule.delay_after(10) == pytest.approx(20.999)
    assert PollSchedule(rng=lambda: 0.5).delay_after(1) == pytest.approx(2.4)


def test_max_duration_uses_the_injected_clock():
    now = [100.0]
    schedule = PollSchedule(PollingOptions(max_duration=5), clock=lambda: now[0])
    schedule.start()
    now[0] = 104.9
    assert not schedule.expired()
    now[0] = 105.0
    assert schedule.expired()
    assert not PollSchedule(clock=lambda: now[0]).expired()


@dataclass
class Snap:
    status: RunStatus


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


async def test_poll_until_final_sleeps_on_schedule_and_returns_final():
    statuses = iter([RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.UNKNOWN, RunStatus.FAILED])
    seen: list[RunStatus] = []

    async def fetch() -> Snap:
        return Snap(next(statuses))

    sleep = Recorder()
    final = await poll_until_final(
        fetch, sleep=sleep, rng=lambda: 0.0, on_update=lambda s: seen.append(s.status)
    )
    assert final == Snap(RunStatus.FAILED)
    assert seen[-1] is RunStatus.FAILED and len(seen) == 4
    assert sleep.sleeps == pytest.approx([1.0, 1.9, 3.7, 7.3])


async def test_poll_stops_on_stop_condition():
    calls = []

    async def fetch() -> Snap:
        calls.append(1)
        return Snap(RunStatus.RUNNING)

    result = await poll_until_final(fetch, sleep=Recorder(), stop=lambda: len(calls) >= 2)
    assert result is None
    assert len(calls) == 2


async def test_poll_gives_up_after_max_tries_and_max_duration():
    async def fetch() -> Snap:
        return Snap(RunStatus.QUEUED)

    with pytest.raises(PollTimeoutError, match="after 3 polls"):
        await poll_until_final(fetch, PollingOptions(max_tries=3), sleep=Recorder())

    now = [0.0]

    async def tick(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(PollTimeoutError, match=r"within 10 s .*queued"):
        await poll_until_final(
            fetch, PollingOptions(max_duration=10), sleep=tick, clock=lambda: now[0]
        )
    assert now[0] >= 10


def test_retry_backoff_is_exponential_capped_with_jitter():
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.25, rng=lambda: 1.0)
    assert [policy.backoff(n) for n in range(1, 6)] == pytest.approx([0.75, 1.25, 2.25, 3.0, 3.0])
    assert policy.delay(1, retry_after=7.0) == 7.0
    assert policy.delay(1, retry_after=-3) == 0.0


def test_parse_retry_after():
    from datetime import datetime, timezone

    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0


def test_prompt_delay_returns_within_a_second_then_stretches_for_long_runs():
    assert [prompt_delay(i, 5.0) for i in range(1, 6)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    assert prompt_delay(50, 59.0) == 1.0
    assert prompt_delay(50, 180.0) == 3.0
    assert prompt_delay(500, 3600.0) == 5.0
    assert prompt_delay(10_000, 1e9) == 5.0


@pytest.mark.parametrize(
    ("hint", "wait"),
    [(1.0, 1.0), (0.0, 1.0), (-3, 1.0), (float("nan"), 1.0), (0.01, 0.2), (3600, 10.0)],
)
def test_live_log_delay_follows_the_server_within_limits(hint, wait):
    assert live_log_delay(hint) == wait
