"""Jump (``g``) across applications: a run of an application the monitor has not listed is
found with ``APP/RUN_ID``; a bare ID is looked up in the applications the monitor knows and,
when it is not there, the toast says where it looked and how to name the application."""

from __future__ import annotations

from textual.widgets import Input

from nextmv_tui.cloud.history import HistoryOptions
from nextmv_tui.tui.screens.jump import JumpScreen
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for, knapsack_request, routing_request, row_status
from tests.tui.test_monitor_actions import SIZE, record_notifications


async def jump(app, pilot, text: str) -> None:
    await pilot.press("g")
    await wait_until(pilot, lambda: isinstance(app.screen, JumpScreen), 5)
    app.screen.query_one("#jump-run-id", Input).value = text
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen is app.main, 5)


async def test_jump_to_a_run_of_an_application_the_monitor_never_listed(make_inprocess_service):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        listed = await client.create_run("knapsack", knapsack_request(name="listed"))
        elsewhere = await client.create_run("routing", routing_request(3, name="elsewhere"))
        await client.cancel_run("routing", elsewhere)  # gone from the queue before launch
        app = app_for(service, app_id="knapsack", history=HistoryOptions(enabled=False))
        seen = record_notifications(app)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.has_run(listed), 15)
            app.main.select_run(listed)

            await jump(app, pilot, elsewhere)  # a bare ID: only knapsack is known
            await wait_until(pilot, lambda: any(elsewhere in t and "not found in knapsack"
                                                in t for t in seen), 10)
            assert any("type APP/RUN_ID" in t for t in seen)
            assert app.store.selected == listed and app.store.get(elsewhere) is None

            await jump(app, pilot, f"routing/{elsewhere}")
            await wait_until(pilot, lambda: app.store.selected == elsewhere, 10)
            row = app.store.get(elsewhere)
            assert row is not None and row.app_id == "routing"
            assert row_status(app, elsewhere) == "canceled"
            assert app.main.table.key_at_cursor() == elsewhere
            await wait_until(pilot, lambda: app.main.detail.info is not None
                             and app.main.detail.info.id == elsewhere, 10)

            # Now routing is known: a bare ID of another routing run is found there too.
            second = await client.create_run("routing", routing_request(3, name="second"))
            await client.cancel_run("routing", second)
            await jump(app, pilot, second)
            await wait_until(pilot, lambda: app.store.selected == second, 10)


async def test_jump_names_the_applications_it_tried_when_the_run_is_nowhere(
    make_inprocess_service,
):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        listed = await client.create_run("knapsack", knapsack_request(name="listed"))
        app = app_for(service, history=HistoryOptions(enabled=False))
        seen = record_notifications(app)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.has_run(listed), 15)
            await jump(app, pilot, "nosuchapp/latest-missing")
            await wait_until(pilot, lambda: any("latest-missing" in t for t in seen), 10)
            message = next(t for t in seen if "latest-missing" in t)
            assert "not found in nosuchapp, knapsack" in message
            assert app.store.get("latest-missing") is None
            assert app.store.selected == listed
