"""The queue panel against the REAL local service: runs appear, change state, finish and stay
listed with their final state, and the selection stays on its run while rows move."""

from __future__ import annotations

from tests.tui.conftest import wait_until
from tests.tui.helpers import (
    app_for,
    client_for,
    knapsack_request,
    routing_request,
    row_status,
    table_cell,
)

SIZE = (160, 45)


async def test_runs_appear_change_state_and_finished_run_stays_listed(inprocess_service):
    async with client_for(inprocess_service) as client:
        run_id = await client.create_run("routing", routing_request(2, name="watch me"))
        app = app_for(inprocess_service)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.table.has_run(run_id), 15,
                             message="the run to appear in the table")
            seen: set[str] = set()

            def finished() -> bool:
                seen.add(row_status(app, run_id) or "")
                return row_status(app, run_id) == "succeeded"

            await wait_until(pilot, finished, 30, message="the run to finish")
            assert seen & {"queued", "running"}, f"saw only {seen}"
            # it left the queue but stays listed, with its final state, dimmed
            assert run_id not in {r.id for r in await client.account_queue()}
            assert app.table.has_run(run_id)
            assert "succeeded" in table_cell(app, run_id, "status")
            assert table_cell(app, run_id, "name") == "watch me"
            assert app.table.get_cell(run_id, "name").style == app.table._dim
            assert app.store.counts().get("succeeded") == 1


async def test_selection_follows_run_id_while_rows_are_added_and_removed_above(
    make_inprocess_service,
):
    """concurrency=0 keeps every run queued, so the order is fixed by priority then age."""
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        first = [
            await client.create_run("knapsack", knapsack_request(name=f"p5-{i}", priority=5))
            for i in range(5)
        ]
        app = app_for(service)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: all(app.table.has_run(r) for r in first), 15)
            target = first[3]
            # move the cursor with the keyboard, as a user would
            for _ in range(10):
                if app.table.key_at_cursor() == target:
                    break
                await pilot.press("down")
            await wait_until(pilot, lambda: app.store.selected == target, 5)
            index_before = app.table.get_row_index(target)

            # rows added above (priority 1 sorts first) and removed from above (canceled runs
            # leave the queue and move to the finished group at the bottom)
            urgent = [
                await client.create_run("knapsack", knapsack_request(name=f"p1-{i}", priority=1))
                for i in range(3)
            ]
            await client.cancel_run("knapsack", first[0])
            await client.cancel_run("knapsack", first[1])

            def moved() -> bool:
                return (
                    all(app.table.has_run(r) for r in urgent)
                    and row_status(app, first[0]) == "canceled"
                    and row_status(app, first[1]) == "canceled"
                )

            await wait_until(pilot, moved, 20, message="new runs above and cancels")
            assert app.table.get_row_index(target) == index_before + 3 - 2
            assert app.table.key_at_cursor() == target
            assert app.store.selected == target
            await wait_until(pilot, lambda: app.detail.run_id == target, 5)

            # sorting by another column and filtering keep it selected too
            await pilot.press("o", "o")  # status -> id -> name
            await wait_until(pilot, lambda: app.table.sort_column == "name", 5)
            assert app.table.key_at_cursor() == target
            await pilot.press("O")
            await wait_until(pilot, lambda: app.table.sort_reverse, 5)
            assert app.table.key_at_cursor() == target
            await pilot.press("slash", *"p5-3")
            await wait_until(pilot, lambda: app.table.row_count == 1, 5)
            assert app.table.key_at_cursor() == target
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.table.row_count == 8, 5)
            assert app.table.key_at_cursor() == target and app.store.selected == target


async def test_filter_hides_selected_run_then_selection_moves_to_a_visible_one(
    make_inprocess_service,
):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        k = await client.create_run("knapsack", knapsack_request(name="alpha"))
        r = await client.create_run("routing", routing_request(5, name="beta"))
        app = app_for(service)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.table.row_count == 2, 15)
            app.select_run(k)
            await pilot.press("slash", *"routing", "enter")
            await wait_until(pilot, lambda: app.table.row_count == 1, 5)
            assert app.store.selected == r, "the hidden run cannot stay selected"
            assert app.focused is app.table, "enter hands focus back to the table"
            assert app.filter_text == "routing"


async def test_pause_refresh_and_interval_keys(inprocess_service):
    app = app_for(inprocess_service, refresh=2.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.polls_completed >= 1, 15)
        await pilot.press("minus")
        assert app.refresh_interval == 3.0
        await pilot.press("plus", "plus")
        assert app.refresh_interval == 1.0
        await pilot.press("p")
        assert app.paused
        await wait_until(pilot, lambda: not app._poll_in_flight, 5)
        done = app.polls_completed
        async with client_for(inprocess_service) as client:
            run_id = await client.create_run("routing", routing_request(3))
        await pilot.pause(0.3)
        assert not app.table.has_run(run_id), "paused: no automatic refresh"
        await pilot.press("r")  # refresh now works while paused
        await wait_until(pilot, lambda: app.table.has_run(run_id), 10)
        assert app.polls_completed == done + 1
        await pilot.press("p")
        assert not app.paused
        await wait_until(pilot, lambda: app.polls_completed >= done + 2, 10)


async def test_focus_loss_slows_polling(inprocess_service):
    from textual import events

    app = app_for(inprocess_service, refresh=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.polls_completed >= 1, 15)
        app.post_message(events.AppBlur())
        await wait_until(pilot, lambda: app.blurred, 5)
        assert app.effective_interval() == 10.0
        app.post_message(events.AppFocus())
        await wait_until(pilot, lambda: not app.blurred, 5)
        assert app.effective_interval() == 1.0
