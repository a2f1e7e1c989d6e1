"""The queue panel against the REAL local service: runs appear, change state, finish and stay
listed with their final state, and the selection stays on its run while rows move."""

from __future__ import annotations

import pytest

from tests.tui.conftest import wait_until
from tests.tui.helpers import (
    SlowQueue,
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
        app = app_for(inprocess_service)
        async with app.run_test(size=SIZE) as pilot:
            # Submitted once the app polls every 0.5 s, so it cannot finish unseen.
            await wait_until(pilot, lambda: app.queue.polls_completed >= 1, 15)
            run_id = await client.create_run("routing", routing_request(2, name="watch me"))
            await wait_until(pilot, lambda: app.main.table.has_run(run_id), 15,
                             message="the run to appear in the table")
            seen: set[str] = set()

            def finished() -> bool:
                seen.add(row_status(app, run_id) or "")
                return row_status(app, run_id) == "succeeded"

            await wait_until(pilot, finished, 30, message="the run to finish")
            assert seen & {"queued", "running"}, f"saw only {seen}"
            # it left the queue but stays listed, with its final state, dimmed
            assert run_id not in {r.id for r in await client.account_queue()}
            assert app.main.table.has_run(run_id)
            assert "succeeded" in table_cell(app, run_id, "status")
            assert table_cell(app, run_id, "name") == "watch me"
            assert app.main.table.get_cell(run_id, "name").style == app.main.table._dim
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
            await wait_until(pilot, lambda: all(app.main.table.has_run(r) for r in first), 15)
            target = first[3]
            # move the cursor with the keyboard, as a user would
            for _ in range(10):
                if app.main.table.key_at_cursor() == target:
                    break
                await pilot.press("down")
            await wait_until(pilot, lambda: app.store.selected == target, 5)
            index_before = app.main.table.get_row_index(target)

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
                    all(app.main.table.has_run(r) for r in urgent)
                    and row_status(app, first[0]) == "canceled"
                    and row_status(app, first[1]) == "canceled"
                )

            await wait_until(pilot, moved, 20, message="new runs above and cancels")
            assert app.main.table.get_row_index(target) == index_before + 3 - 2
            assert app.main.table.key_at_cursor() == target
            assert app.store.selected == target
            await wait_until(pilot, lambda: app.main.detail.run_id == target, 5)

            # sorting by another column and filtering keep it selected too
            await pilot.press("o", "o")  # active first -> newest first -> next to run
            await wait_until(pilot, lambda: app.main.table.sort_id == "position", 5)
            assert app.main.table.key_at_cursor() == target
            await pilot.press("O")
            await wait_until(pilot, lambda: app.main.table.sort_reverse, 5)
            assert app.main.table.key_at_cursor() == target
            await pilot.press("slash", *"p5-3")
            await wait_until(pilot, lambda: app.main.table.row_count == 1, 5)
            assert app.main.table.key_at_cursor() == target
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.main.table.row_count == 8, 5)
            assert app.main.table.key_at_cursor() == target and app.store.selected == target


async def test_filter_hides_selected_run_then_selection_moves_to_a_visible_one(
    make_inprocess_service,
):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        k = await client.create_run("knapsack", knapsack_request(name="alpha"))
        r = await client.create_run("routing", routing_request(5, name="beta"))
        app = app_for(service)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.row_count == 2, 15)
            app.main.select_run(k)
            await pilot.press("slash", *"routing", "enter")
            await wait_until(pilot, lambda: app.main.table.row_count == 1, 5)
            assert app.store.selected == r, "the hidden run cannot stay selected"
            assert app.focused is app.main.table, "enter hands focus back to the table"
            assert app.main.filter_text == "routing"


async def test_pause_refresh_and_interval_keys(inprocess_service):
    app = app_for(inprocess_service, refresh=2.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.queue.polls_completed >= 1, 15)
        await pilot.press("minus")
        assert app.queue.interval == 3.0
        await pilot.press("plus", "plus")
        assert app.queue.interval == 1.0
        await pilot.press("p")
        assert app.queue.paused
        await wait_until(pilot, lambda: app.queue.phase == "idle", 5,
                         message="paused: no poll in flight and no timer armed")
        assert app._queue_timer._timer is None
        done = app.queue.polls_completed
        async with client_for(inprocess_service) as client:
            run_id = await client.create_run("routing", routing_request(3))
        await pilot.press("r")  # refresh now works while paused
        await wait_until(pilot, lambda: app.main.table.has_run(run_id), 10)
        assert app.queue.polls_completed == done + 1
        await wait_until(pilot, lambda: app.queue.phase == "idle", 5, message="paused again")
        assert app._queue_timer._timer is None
        await pilot.press("p")
        assert not app.queue.paused
        await wait_until(pilot, lambda: app.queue.polls_completed >= done + 3, 10)


async def held_poll(app, pilot, slow: SlowQueue) -> int:
    """Wait for a poll, then hold the next one in flight; returns the polls done so far."""
    await wait_until(pilot, lambda: app.queue.polls_completed >= 1, 15)
    slow.hold = True
    await wait_until(pilot, lambda: slow.waiting == 1, 10, message="a poll held in flight")
    assert app.queue.phase == "in_flight"
    return app.queue.polls_completed


@pytest.mark.parametrize("keys", [("p", "p"), ("r",), ("r", "r", "p", "p"), ("minus", "plus")])
async def test_keys_pressed_while_a_poll_is_in_flight_never_stop_refreshing(
    inprocess_service, keys
):
    """Regression: ``p p`` or ``r`` mid-poll once armed a 0-second timer, which Textual 8
    drops silently: refreshing stopped for good."""
    slow = SlowQueue(inprocess_service.transport)
    app = app_for(inprocess_service, refresh=0.5, transport=slow)
    async with app.run_test(size=SIZE) as pilot:
        done = await held_poll(app, pilot, slow)
        await pilot.press(*keys)
        slow.let_go()
        await wait_until(pilot, lambda: app.queue.polls_completed >= done + 4, 15,
                         message="polls keep arriving after the keys")
        assert app.queue.connection == "online" and not app.queue.paused


async def test_focus_loss_slows_polling_and_focus_mid_poll_keeps_it_going(inprocess_service):
    from textual import events

    slow = SlowQueue(inprocess_service.transport)
    app = app_for(inprocess_service, refresh=1.0, transport=slow)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.queue.phase == "waiting", 15)
        app.post_message(events.AppBlur())
        await wait_until(pilot, lambda: app.queue.blurred, 5)
        assert app.queue.effective_interval() == 10.0
        assert app.queue.due_at is not None
        assert app.queue.due_at - app.settings.monotonic() > 5, "the armed timer was stretched"
        app.post_message(events.AppFocus())
        await wait_until(pilot, lambda: not app.queue.blurred, 5)
        assert app.queue.effective_interval() == 1.0
        done = await held_poll(app, pilot, slow)
        app.post_message(events.AppBlur())
        app.post_message(events.AppFocus())
        await wait_until(pilot, lambda: not app.queue.blurred, 5)
        slow.let_go()
        await wait_until(pilot, lambda: app.queue.polls_completed >= done + 3, 15)


async def test_cursor_on_the_top_row_follows_new_rows_above(make_inprocess_service):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        first = await client.create_run("knapsack", knapsack_request(name="old", priority=5))
        app = app_for(service)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.has_run(first), 15)
            assert app.main.table.cursor_row == 0 and app.store.selected == first
            urgent = await client.create_run("knapsack", knapsack_request(name="new", priority=1))
            await wait_until(pilot, lambda: app.main.table.has_run(urgent), 10)
            assert app.main.table.get_row_index(urgent) == 0, "priority 1 sorts above"
            assert app.main.table.cursor_row == 0 and app.store.selected == urgent, "followed"
            assert app.main.table.scroll_y == 0
            await pilot.press("down")
            await wait_until(pilot, lambda: app.store.selected == first, 5)
            later = await client.create_run("knapsack", knapsack_request(name="newer", priority=1))
            await wait_until(pilot, lambda: app.main.table.has_run(later), 10)
            assert app.store.selected == first, "off the top row: the selection stays put"


async def test_summary_says_how_many_new_and_active_runs_are_above_the_view(
    make_inprocess_service,
):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        ids = [await client.create_run("knapsack", knapsack_request(name=f"r{i}", priority=5))
               for i in range(40)]
        app = app_for(service)
        async with app.run_test(size=(120, 30)) as pilot:
            table = app.main.table
            await wait_until(pilot, lambda: table.row_count == 40, 15)
            await pilot.press("ctrl+end")
            await wait_until(pilot, lambda: table.scroll_y > 5, 5, message="scrolled down")
            await wait_until(pilot, lambda: "active above" in app.main.summary_line._last, 5)
            assert "new" not in app.main.summary_line._last
            new = [await client.create_run("knapsack", knapsack_request(name=f"n{i}", priority=1))
                   for i in range(2)]
            await wait_until(pilot, lambda: all(table.has_run(r) for r in new), 10)
            await wait_until(pilot, lambda: "↑ 2 new" in app.main.summary_line._last, 5)
            assert table.key_at_cursor() == ids[-1]
            await pilot.press("home")
            await wait_until(pilot, lambda: table.cursor_row == 0 and table.scroll_y == 0, 5)
            await wait_until(pilot, lambda: "above" not in app.main.summary_line._last, 5)
