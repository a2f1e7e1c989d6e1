"""HistoryFetcher under faults and cancellation.

The client here is an in-memory stand-in (``FakeClient``): it injects what a real server
cannot produce on demand (an application that 500s forever, a response that never comes,
an unexpected exception type). The fetcher against the real local service is in
``test_history_live.py``. Waits are conditions with deadlines, never fixed sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from nextmv_tui.cloud.errors import NotFoundError, ServerError
from nextmv_tui.cloud.history import HistoryOptions
from nextmv_tui.cloud.history_fetch import (
    AppsListed,
    HistoryEvent,
    HistoryFetcher,
    HistoryProblem,
    HistoryReady,
    RunsListed,
)
from nextmv_tui.cloud.models import Application, ApplicationList, RunList, RunSummary

FAST = HistoryOptions(active_interval=0.05, idle_interval=0.1, apps_interval=0.5,
                      error_delay=0.05, max_error_delay=0.2, requests_per_minute=60_000,
                      burst=1000)


def run(run_id: str, app: str, status: str = "succeeded", ago: float = 60) -> RunSummary:
    created = datetime.now(timezone.utc) - timedelta(seconds=ago)
    return RunSummary(id=run_id, created_at=created, application_id=app, status_v2=status)


class FakeClient:
    def __init__(self, runs: dict[str, list[RunSummary]]) -> None:
        self.runs = runs
        self.errors: dict[str, Callable[[], Exception]] = {}
        self.hang: asyncio.Event | None = None
        self.calls: list[str] = []

    async def list_applications_page(self, page_token: str | None = None) -> ApplicationList:
        self.calls.append("apps")
        return ApplicationList(items=[Application(id=app) for app in self.runs])

    async def list_runs(self, app_id: str, page_token: str | None = None) -> RunList:
        self.calls.append(app_id)
        if self.hang is not None:
            await self.hang.wait()
        if app_id in self.errors:
            raise self.errors[app_id]()
        return RunList(runs=self.runs[app_id])


async def collect_until(
    fetcher: HistoryFetcher, done: Callable[[list[HistoryEvent]], bool], timeout: float = 20
) -> list[HistoryEvent]:
    events: list[HistoryEvent] = []
    task = asyncio.create_task(fetcher.run(events.append))
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not done(events):
            assert not task.done(), task.exception()
            assert asyncio.get_running_loop().time() < deadline, events[-5:]
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    return events


def listed(events: list[HistoryEvent], app: str) -> list[str]:
    return [r.id for e in events if isinstance(e, RunsListed) and e.app_id == app for r in e.runs]


async def test_an_app_that_fails_is_skipped_retried_and_never_ends_the_loop():
    client = FakeClient({"good": [run("g1", "good")], "bad": [run("b1", "bad")],
                         "gone": [run("x1", "gone")], "odd": [run("o1", "odd")]})
    client.errors["bad"] = lambda: ServerError("GET /v1/applications/bad/runs: 500", status=500)
    client.errors["gone"] = lambda: NotFoundError("GET /v1/applications/gone/runs: 404")
    client.errors["odd"] = lambda: KeyError("surprise")
    fetcher = HistoryFetcher(client, FAST)

    events = await collect_until(
        fetcher, lambda ev: sum(1 for e in ev if isinstance(e, HistoryProblem)
                                and e.app_id == "bad") >= 3 and len(client.calls) > 20
    )

    assert listed(events, "good") == ["g1"]  # reported once, not on every refresh
    assert client.calls.count("good") >= 3  # but refreshed all along
    problems = [e for e in events if isinstance(e, HistoryProblem)]
    assert {p.app_id for p in problems} >= {"bad", "gone", "odd"}
    assert any("500" in p.message for p in problems)
    assert any("KeyError" in p.message for p in problems)
    assert any(isinstance(e, HistoryReady) for e in events)

    del client.errors["bad"]  # the server recovers: the app is listed on its next retry
    events = await collect_until(HistoryFetcher(client, FAST),
                                 lambda ev: "b1" in listed(ev, "bad"))
    assert isinstance(events[0], AppsListed)


async def test_changes_are_reported_and_unchanged_runs_are_not():
    client = FakeClient({"a": [run("r1", "a", "running")]})
    fetcher = HistoryFetcher(client, FAST)
    events: list[HistoryEvent] = []
    task = asyncio.create_task(fetcher.run(events.append))
    try:
        await wait_for(lambda: listed(events, "a") == ["r1"])
        calls = len(client.calls)
        await wait_for(lambda: len(client.calls) >= calls + 3)
        assert listed(events, "a") == ["r1"]
        client.runs["a"] = [run("r2", "a", ago=1), run("r1", "a", "succeeded")]
        await wait_for(lambda: listed(events, "a") == ["r1", "r2", "r1"])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    final = [e for e in events if isinstance(e, RunsListed)][-1]
    assert [r.status_v2.value for r in final.runs] == ["succeeded", "succeeded"]


async def test_cancel_while_a_request_hangs_ends_promptly_and_leaves_no_tasks():
    client = FakeClient({"a": [run("r1", "a")], "b": [run("r2", "b")]})
    client.hang = asyncio.Event()  # list_runs never answers
    fetcher = HistoryFetcher(client, FAST)
    before = asyncio.all_tasks()
    task = asyncio.create_task(fetcher.run(lambda event: None))
    await wait_for(lambda: client.calls.count("a") + client.calls.count("b") == 2)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=5)
    assert asyncio.all_tasks() == before

    client.hang = None  # the same fetcher carries on where it stopped (e.g. after a pause)
    events = await collect_until(fetcher, lambda ev: {"r1", "r2"} <= {
        *listed(ev, "a"), *listed(ev, "b")})
    assert not any(isinstance(e, AppsListed) for e in events)  # apps were already listed


async def test_events_iterator_stops_fetching_when_left():
    client = FakeClient({"a": [run("r1", "a")]})
    fetcher = HistoryFetcher(client, FAST)
    before = asyncio.all_tasks()
    seen: list[HistoryEvent] = []
    async with contextlib.aclosing(fetcher.events()) as events:
        async for event in events:
            seen.append(event)
            if isinstance(event, RunsListed):
                break
    assert isinstance(seen[0], AppsListed) and seen[-1].runs[0].id == "r1"
    assert asyncio.all_tasks() == before  # closing the iterator stopped every task


async def test_poke_wakes_the_fetcher_for_an_idle_app():
    slow = HistoryOptions(idle_interval=3600, active_interval=3600, active_window=0,
                          requests_per_minute=60_000, burst=1000)
    client = FakeClient({"a": [run("r1", "a", ago=7200)]})
    fetcher = HistoryFetcher(client, slow)
    events: list[HistoryEvent] = []
    task = asyncio.create_task(fetcher.run(events.append))
    try:
        await wait_for(lambda: listed(events, "a") == ["r1"])
        client.runs["a"] = [run("r2", "a", ago=0), *client.runs["a"]]
        fetcher.poke("a")
        await wait_for(lambda: "r2" in listed(events, "a"))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_disabled_history_returns_at_once():
    client = FakeClient({"a": []})
    await asyncio.wait_for(
        HistoryFetcher(client, HistoryOptions(enabled=False)).run(lambda e: None), 5
    )
    assert client.calls == []


async def wait_for(predicate: Callable[[], bool], timeout: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
