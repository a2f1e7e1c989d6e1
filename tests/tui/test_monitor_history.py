"""Run history in the monitor (issue 9), against the REAL local service:

- runs finished before launch are listed with their final state, objective and duration;
- the history survives a restart of the monitor (a new monitor lists the same runs);
- a fast run made by the official SDK (``new_run_with_result``) while the monitor is open
  appears within the bound (the subprocess service: the SDK needs a real socket);
- a failing history shows on the problem line while the queue stays online and listed;
- ``--history off`` lists nothing but the queue; ``p`` pauses the history too;
- the new columns (queue position, objective, batch) and the ``batch:ID`` filter.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from nextmv import cloud as sdk_cloud  # type: ignore[import-untyped]

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.history import HistoryOptions
from nextmv_tui.cloud.models import RunInformation
from nextmv_tui.service.settings import ExecutionClass
from nextmv_tui.tui.app import NextmvTuiApp
from nextmv_tui.tui.format import format_objective
from tests.service.helpers import KNAPSACK_INPUT
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for, knapsack_request, routing_request, table_cell

SIZE = (160, 45)
BROKEN = {"items": [{"id": "crate", "value": "heavy", "weight": 4}], "weight_capacity": 9}
"""A knapsack input the app refuses: the run fails."""
BOUND = 10.0
"""The issue's bound for a run made and finished elsewhere to appear, at default settings."""
LOAD_SLACK = 5.0
"""Room for a loaded 2-core machine (the policy's own figure is 8 s +-10 % per app)."""


async def finished(client: NextmvClient, app_id: str, run_id: str,
                   timeout: float = 60.0) -> RunInformation:
    deadline = time.monotonic() + timeout
    while True:
        info = await client.run_information(app_id, run_id)
        if info.status.is_final:
            return info
        assert time.monotonic() < deadline, f"{run_id} did not finish in {timeout} s"
        await asyncio.sleep(0.1)


def shown(app: NextmvTuiApp) -> dict[str, tuple[str, str, str]]:
    """Run ID -> (status, objective, duration) as the table shows them."""
    return {
        run_id: (table_cell(app, run_id, "status").split()[-1],
                 table_cell(app, run_id, "objective").strip(),
                 table_cell(app, run_id, "duration").strip())
        for run_id in app.main.table.shown_ids()
    }


async def listing(service: Any, run_ids: tuple[str, ...]) -> dict[str, tuple[str, str, str]]:
    """A monitor's table, once its history's launch load listed ``run_ids``."""
    app = app_for(service)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all(app.main.table.has_run(r) for r in run_ids)
                         and app.history.ready is not None, 30,
                         message="the runs of before the launch")
        await pilot.pause()
        assert "history" not in str(app.main.problem_line.render())
        rows = shown(app)
    return {run_id: rows[run_id] for run_id in run_ids}


async def test_runs_finished_before_launch_are_listed_and_survive_a_restart(
    inprocess_service,
):
    async with client_for(inprocess_service) as client:
        good = [await client.create_run("knapsack", knapsack_request(name=f"before {i}"))
                for i in range(3)]
        bad = await client.create_run("knapsack", knapsack_request(name="broken").model_copy(
            update={"input": BROKEN}))
        objectives = {}
        for run_id in (*good, bad):
            objectives[run_id] = (await finished(client, "knapsack", run_id)).metadata.objective
    assert objectives[bad] is None and all(objectives[r] for r in good)

    listings = [await listing(inprocess_service, (*good, bad)) for _restart in range(2)]
    for rows in listings:
        for run_id in good:
            status, objective, duration = rows[run_id]
            assert status == "succeeded" and duration.endswith("s")
            assert objective == format_objective(objectives[run_id])
        assert rows[bad][:2] == ("failed", "")
    assert listings[0] == listings[1], "a new monitor lists the same runs, the same way"


@pytest.mark.slow
async def test_a_fast_sdk_run_made_while_open_appears_within_the_bound(local_service):
    # The queue is polled once a minute: this run can only arrive through the history.
    app = app_for(local_service, refresh=60.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.history.ready is not None, 30,
                         message="the launch load")
        sdk_app = sdk_cloud.Application(
            client=sdk_cloud.Client(api_key=local_service.api_key, url=local_service.endpoint),
            id="knapsack",
        )
        result = await asyncio.to_thread(
            sdk_app.new_run_with_result, input=KNAPSACK_INPUT, name="made by the SDK"
        )
        assert result.metadata.status_v2.value == "succeeded"
        done = time.monotonic()
        await wait_until(pilot, lambda: app.main.table.has_run(result.id), BOUND + LOAD_SLACK,
                         message="the SDK's run in the table")
        elapsed = time.monotonic() - done
        await pilot.pause()
        assert shown(app)[result.id][:2] == ("succeeded", "90")  # KNAPSACK_INPUT's optimum
        assert table_cell(app, result.id, "name") == "made by the SDK"
        print(f"SDK run listed {elapsed:.1f} s after it finished")


class FailingRuns(httpx.AsyncBaseTransport):
    """The service's transport, except that listing knapsack's runs answers 503 while
    ``failing``: a fault the real service cannot produce on demand."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.failing = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if (self.failing and request.method == "GET"
                and request.url.path == "/v1/applications/knapsack/runs"):
            return httpx.Response(503, json={"error": "service unavailable"})
        return await self.inner.handle_async_request(request)


async def test_history_problems_show_without_hiding_the_queue(make_inprocess_service):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        waiting = await client.create_run("knapsack", knapsack_request(name="waiting"))
    transport = FailingRuns(service.transport)
    # A 1 s first retry, not the default 5 s: the line clears at the first retry that works.
    app = app_for(service, transport=transport, history=HistoryOptions(error_delay=1.0))
    async with app.run_test(size=SIZE) as pilot:
        problem = app.main.problem_line

        def says(text: str) -> bool:
            return text in str(problem.render())

        await wait_until(pilot, lambda: problem.display and says("history: listing knapsack"),
                         20, message="the history problem")
        assert says("retrying in") and says("503")
        assert app.queue.connection == "online" and app.main.table.has_run(waiting)
        assert "online" in str(app.main.header_line.render())
        transport.failing = False
        await wait_until(pilot, lambda: not problem.display, 30,
                         message="the problem line to clear once the listing works")


async def test_history_off_lists_only_the_queue(inprocess_service):
    async with client_for(inprocess_service) as client:
        old = await client.create_run("knapsack", knapsack_request(name="old"))
        await finished(client, "knapsack", old)
    app = app_for(inprocess_service, history=HistoryOptions(enabled=False))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.queue.polls_completed >= 3, 20)
        assert not app.main.table.has_run(old) and not app.history.started
    lists = [p for m, p in inprocess_service.requests if m == "GET" and p.endswith("/runs")]
    assert lists == [] and ("GET", "/v1/applications") not in inprocess_service.requests


async def test_pause_stops_the_history_and_resume_carries_on(inprocess_service):
    app = app_for(inprocess_service, history=HistoryOptions(idle_interval=0.5,
                                                            active_interval=0.5))
    requests = inprocess_service.requests

    def listings() -> int:
        return sum(1 for m, p in requests if m == "GET" and p.endswith("/runs"))

    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.history.ready is not None, 20)
        await pilot.press("p")
        await wait_until(pilot, lambda: not [w for w in app.workers
                                             if w.group == "history" and not w.is_finished], 5)
        before = listings()
        async with client_for(inprocess_service) as client:
            made = await client.create_run("knapsack", knapsack_request(name="while paused"))
            await finished(client, "knapsack", made)
        assert listings() == before, "no history request while paused"
        assert not app.main.table.has_run(made)
        await pilot.press("p")
        await wait_until(pilot, lambda: app.main.table.has_run(made), 20,
                         message="the run made while paused, after resuming")


async def test_queue_positions_objective_and_batch_columns(make_inprocess_service):
    service = await make_inprocess_service(  # everything waits
        concurrency=0, extra_classes=(ExecutionClass("big", 0),))
    async with client_for(service) as client:
        ids: dict[str, str] = {}
        for name, priority in (("low", 9), ("first", 1), ("default", 6), ("second", 1)):
            request = knapsack_request(name=name, priority=priority).model_copy(
                update={"batch_experiment_id": "bx-42" if priority == 1 else None})
            ids[name] = await client.create_run("knapsack", request)
        ids["other class"] = await client.create_run(
            "routing", routing_request(5, "other class").model_copy(
                update={"configuration": routing_request(5).configuration.model_copy(
                    update={"execution_class": "big"})}))
    app = app_for(service)
    async with app.run_test(size=(220, 45)) as pilot:  # wide: the priority column shows
        await wait_until(pilot, lambda: all(app.main.table.has_run(r) for r in ids.values()), 20)
        await pilot.pause()
        positions = {name: table_cell(app, run_id, "pos").strip()
                     for name, run_id in ids.items()}
    assert positions == {"first": "#1", "second": "#2", "default": "#3", "low": "#4",
                         "other class": "#1"}
    assert table_cell(app, ids["first"], "priority").strip() == "1"


async def test_batch_filter_and_progress(inprocess_service):
    async with client_for(inprocess_service) as client:
        batch = []
        for index in range(3):
            request = knapsack_request(name=f"batch {index}").model_copy(
                update={"batch_experiment_id": "bx-7"})
            if index == 2:
                request = request.model_copy(update={"input": BROKEN})
            batch.append(await client.create_run("knapsack", request))
        other = await client.create_run("knapsack", knapsack_request(name="not in it"))
        for run_id in (*batch, other):
            await finished(client, "knapsack", run_id)
    app = app_for(inprocess_service)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all(app.main.table.has_run(r) for r in (*batch, other)),
                         30)
        await pilot.press("slash", *"batch:BX-7", "enter")
        await wait_until(pilot, lambda: app.main.table.row_count == 3, 5)
        summary = str(app.main.summary_line.render())
        assert "bx-7: 3/3 done, 1 failed" in summary
        assert table_cell(app, batch[0], "batch") == "bx-7"
        app.main.select_run(batch[0])
        await wait_until(pilot, lambda: app.main.detail.info is not None
                         and app.main.detail.info.id == batch[0], 10)
        detail = _text(app.main.detail.render_info())
        assert "bx-7: 3/3 done, 1 failed" in detail


def _text(renderable: Any) -> str:
    from rich.console import Console

    console = Console(width=80, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def test_columns_drop_and_come_back_with_the_terminal_width(make_inprocess_service):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        ids = [await client.create_run("knapsack", knapsack_request(name=f"run {i}"))
               for i in range(5)]
    app = app_for(service)
    async with app.run_test(size=(220, 40)) as pilot:
        table = app.main.table
        await wait_until(pilot, lambda: all(table.has_run(r) for r in ids), 20)
        app.main.select_run(ids[2])
        wide = table.shown_columns
        assert {"pos", "priority", "user", "version"} <= set(wide)
        assert "batch" not in wide, "no run has a batch: the column is left out"
        await pilot.resize_terminal(90, 30)
        await wait_until(pilot, lambda: table.shown_columns != wide, 5)
        narrow = table.shown_columns
        assert narrow[:2] == ["status", "id"] and "version" not in narrow
        assert [c for c in wide if c in narrow] == list(narrow), "display order kept"
        assert table.key_at_cursor() == ids[2], "the selection survives the rebuild"
        assert table.row_count == len(app.store)
        await pilot.resize_terminal(220, 40)
        await wait_until(pilot, lambda: table.shown_columns == wide, 5)
        assert table.key_at_cursor() == ids[2]
