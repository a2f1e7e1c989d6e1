"""The detail pane against the REAL local service: it follows the selected run to the end,
tails its live log while it runs, and shows the output (or the error) once it is final."""

from __future__ import annotations

import asyncio

from rich.console import Console

from nextmv_tui.cloud.models import CreateRunRequest, Format, RunConfiguration
from nextmv_tui.cloud.status import RunStatus
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for, routing_request

SIZE = (160, 45)


def status_of(app) -> RunStatus | None:
    info = app.main.detail.info
    return info.status if info is not None else None


def info_text(app) -> str:
    console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(app.main.detail.render_info())
    return console.export_text()


async def test_detail_follows_run_to_success_with_live_log_and_output(inprocess_service):
    async with client_for(inprocess_service) as client:
        run_id = await client.create_run("routing", routing_request(3, name="detail run"))
        app = app_for(inprocess_service)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.has_run(run_id), 15)
            assert app.main.select_run(run_id)
            await wait_until(pilot, lambda: app.main.detail.info is not None, 10,
                             message="run information in the detail pane")
            saw_running = status_of(app) == RunStatus.RUNNING

            def logged() -> bool:
                return any("objective" in line for line in app.main.detail._log_lines)

            await wait_until(pilot, logged, 20, message="live log lines")
            await wait_until(
                pilot,
                lambda: status_of(app) == RunStatus.SUCCEEDED
                and "solutions" in app.main.detail.output_text(),
                30,
                message="success and the output preview",
            )
            text = info_text(app)
            assert "succeeded" in text and "routing" in text and "duration=3" in text
            assert "Duration" in text and "Output" in text
            assert saw_running or any("objective" in line for line in app.main.detail._log_lines)
            # the worker stopped: nothing in the detail group is still running
            await wait_until(
                pilot,
                lambda: not [w for w in app.main.detail.workers if w.group == "detail"
                             and not w.is_finished],
                5,
            )
            # the table agrees once its own poll has seen the run leave the queue (the detail
            # pane often learns first; under load the poll came after this line: a CI flake)
            await wait_until(
                pilot, lambda: app.store.rows[run_id].status == RunStatus.SUCCEEDED, 15,
                message="the table's row succeeded",
            )


async def test_failed_run_shows_its_error(make_local_service):
    service = make_local_service(concurrency=0)
    async with client_for(service) as client:
        bad = await client.create_run(
            "knapsack",
            CreateRunRequest(input={"items": "not a list", "weight_capacity": 3},
                             name="bad input", configuration=RunConfiguration(format=Format())),
        )
        app = app_for(service)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.has_run(bad), 15)
            app.main.select_run(bad)
            await wait_until(pilot, lambda: app.main.detail.info is not None, 10)
            assert status_of(app) == RunStatus.QUEUED
            assert app.main.check_action("cancel_run", ()) is True
            assert app.main.check_action("save_output", ()) is None
            # let it run: restart the service with a free execution slot
            await asyncio.to_thread(service.stop)
            service.serve_kwargs["concurrency"] = 1
            await asyncio.to_thread(service.start)
            await wait_until(pilot, lambda: app.store.rows[bad].status == RunStatus.FAILED, 30)
            await wait_until(pilot, lambda: "Error" in info_text(app), 10)
            await wait_until(pilot, lambda: "No output" in app.main.detail.output_text(), 10)
            assert app.main.check_action("cancel_run", ()) is None, "cancel greyed out once final"


async def test_switching_runs_cancels_the_previous_detail_worker(make_inprocess_service):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        a = await client.create_run("routing", routing_request(5, name="a"))
        b = await client.create_run("routing", routing_request(5, name="b"))
        app = app_for(service)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.row_count == 2, 15)
            app.main.select_run(a)
            await wait_until(pilot, lambda: app.main.detail.info is not None
                             and app.main.detail.info.id == a, 10)
            app.main.select_run(b)
            await wait_until(pilot, lambda: app.main.detail.info is not None
                             and app.main.detail.info.id == b, 10)
            detail = app.main.detail

            def live() -> list[object]:
                return [w for w in detail.workers if w.group == "detail" and not w.is_finished]

            # a's worker was cancelled; it ends at its next await (not at once under load)
            await wait_until(pilot, lambda: len(live()) <= 1, 10,
                             message="selecting b ends a's poll")
            assert detail.poller.phase in ("waiting", "in_flight", "due")
            polls = app.queue.polls_completed
            await wait_until(pilot, lambda: app.queue.polls_completed > polls + 2)
            assert detail.info is not None and detail.info.id == b, "no late answer of a's"


async def test_one_metadata_request_per_selection(make_inprocess_service, monkeypatch):
    """Regression: the pane's own answer went to the store, whose change poked the pane into
    a second GET 60 ms later. The schedule's next fetch is made 30 s away here, so any
    second request within the test is one too many."""
    from nextmv_tui.cloud.polling import PollingOptions
    from nextmv_tui.tui import follow

    monkeypatch.setattr(follow, "DETAIL_POLLING",
                        PollingOptions(initial_delay=0, delay=30, backoff=0, jitter=0,
                                       max_delay=30))
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        a = await client.create_run("routing", routing_request(5, name="a"))
        b = await client.create_run("routing", routing_request(5, name="b"))
        app = app_for(service)

        def gets(run_id: str) -> int:
            path = f"/v1/applications/routing/runs/{run_id}/metadata"
            return service.requests.count(("GET", path))

        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.row_count == 2, 15)
            # The run on the top row is followed at launch (which one depends on the sort):
            # count from there.
            await wait_until(pilot, lambda: app.main.detail.info is not None
                             and app.main.detail.info.id == app.store.selected, 10)
            expected = {a: gets(a), b: gets(b)}
            current = app.store.selected
            for run_id in (b, a, b):
                if run_id != current:
                    expected[run_id] += 1
                current = run_id
                app.main.select_run(run_id)
                await wait_until(pilot, lambda run_id=run_id: app.main.detail.info is not None
                                 and app.main.detail.info.id == run_id, 10)
                polls = app.queue.polls_completed
                await wait_until(pilot, lambda polls=polls: app.queue.polls_completed >= polls + 3)
            assert {a: gets(a), b: gets(b)} == expected, "one request per selection, nothing more"


async def test_a_finished_run_never_turns_stale(inprocess_service):
    """The pane stops polling a final run; its data cannot go out of date, so it must not
    say "not refreshed since …" however long it stays selected (it did after ~8 s)."""
    now = [1000.0]
    async with client_for(inprocess_service) as client:
        run_id = await client.create_run("routing", routing_request(1, name="done"))
        app = app_for(inprocess_service, monotonic=lambda: now[0])
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.has_run(run_id), 15)
            app.main.select_run(run_id)
            await wait_until(pilot, lambda: status_of(app) == RunStatus.SUCCEEDED
                             and bool(app.main.detail.output_text()), 30)
            now[0] += 600  # ten minutes later, the queue still fresh
            app.main.detail.tick(False)
            assert app.main.detail.status_text() == ""
            assert not app.main.detail.frozen
