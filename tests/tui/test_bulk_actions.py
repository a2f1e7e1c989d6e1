"""Acting on several runs at once, against the REAL local service: space picks rows (a
marker, a count), one confirmation lists every run to cancel, copy and save act on the
picked runs, and a run that fails is reported by name while the others go through."""

from __future__ import annotations

import json
from pathlib import Path

from textual import events
from textual.widgets import Input

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.screens.confirm_cancel import ConfirmCancelScreen
from nextmv_tui.tui.screens.save_output import SaveOutputScreen
from tests.conftest import InProcessService
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for, knapsack_request, row_status, table_cell

SIZE = (120, 36)


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def summary(app) -> str:
    return app.main.summary_line.render().plain


async def test_pick_three_cancel_in_one_confirmation_one_fails_by_name(
    make_inprocess_service,
) -> None:
    service: InProcessService = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        ids = [await client.create_run("knapsack", knapsack_request(name=f"held {n}"))
               for n in range(4)]
        app = app_for(service)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_until(pilot, lambda: all(app.main.table.has_run(i) for i in ids), 15)
            order = app.main.table.shown_ids()
            app.main.select_run(order[0])
            for _ in range(3):  # a burst: all three before any row highlight is handled
                app._driver.send_message(events.Key("space", " "))
            await wait_until(pilot, lambda: app.store.picked_count == 3, 5)
            picked = order[:3]
            assert [r.run_id for r in app.store.picked()] == picked
            assert all(table_cell(app, i, "status").startswith("✓") for i in picked)
            assert not table_cell(app, order[3], "status").startswith("✓")
            assert "✓ 3 picked" in summary(app)
            assert app.main.key_bar.plain.count("Cancel") == 1

            await pilot.press("c")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
            confirm = app.screen
            assert [run[0] for run in confirm.runs] == picked, "one dialog lists them all"
            await client.cancel_run("knapsack", picked[1])  # finished before the user says y
            await pilot.press("y")
            await wait_until(pilot, lambda: any(t.startswith("Canceled 2 of 3 runs")
                                                for t in toasts(app)), 15)
            report = next(t for t in toasts(app) if t.startswith("Canceled 2 of 3"))
            assert f"✘ {picked[1]}:" in report and "already" in report, report
            for run_id in (picked[0], picked[2]):
                await wait_until(pilot, lambda r=run_id: row_status(app, r) == "canceled", 15)
            assert row_status(app, order[3]) == "queued", "the unpicked run is untouched"
            assert app.store.picked_count == 0, "picks are cleared after a cancel"


async def test_copy_ids_of_picked_runs_and_escape_unpicks(make_inprocess_service) -> None:
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        ids = [await client.create_run("knapsack", knapsack_request()) for _ in range(3)]
        app = app_for(service)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_until(pilot, lambda: all(app.main.table.has_run(i) for i in ids), 15)
            order = app.main.table.shown_ids()
            app.main.select_run(order[0])
            await pilot.press("space", "down", "space")
            await pilot.press("y")
            assert app.clipboard == f"{order[0]}\n{order[2]}"
            assert any("2 run IDs copied" in str(n.title) for n in app._notifications)
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.store.picked_count == 0, 5)
            assert not table_cell(app, order[0], "status").startswith("✓")
            await pilot.press("y")
            assert app.clipboard == app.store.selected, "without picks: the selected run"


async def test_save_the_outputs_of_picked_runs_into_a_folder_with_a_per_run_report(
    inprocess_service: InProcessService, tmp_path: Path,
) -> None:
    async with client_for(inprocess_service) as client:
        ids = [await client.create_run("knapsack", knapsack_request(n=8, name=f"k{n}"))
               for n in range(3)]
        app = app_for(inprocess_service)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            for run_id in ids:
                await wait_until(pilot, lambda r=run_id: row_status(app, r) == "succeeded", 30)
            for run_id in ids:
                app.main.select_run(run_id)
                await pilot.press("space")
            # deleted on the server after it was picked: its output cannot be saved
            async with inprocess_service.async_client() as http:
                gone = await http.delete(f"/v1/applications/knapsack/runs/{ids[1]}")
                assert gone.status_code in (200, 204)
            await pilot.press("w")
            await wait_until(pilot, lambda: isinstance(app.screen, SaveOutputScreen))
            field = app.screen.query_one("#save-path", Input)
            field.value = str(tmp_path)
            await pilot.press("enter")
            await wait_until(pilot, lambda: any(t.startswith("Saved the output of 2 of 3")
                                                for t in toasts(app)), 20)
            report = next(t for t in toasts(app) if t.startswith("Saved the output of"))
            assert str(tmp_path) in report and f"✘ {ids[1]}:" in report, report
            for run_id in (ids[0], ids[2]):
                saved = json.loads((tmp_path / f"{run_id}-output.json").read_text())
                assert "solution" in saved
            assert not (tmp_path / f"{ids[1]}-output.json").exists()
            assert app.store.rows[ids[0]].status == RunStatus.SUCCEEDED


async def test_keys_in_a_burst_act_on_the_run_under_the_cursor(make_inprocess_service) -> None:
    """down then c, typed faster than the table reports the new highlight: the cancel is
    for the run the cursor is on, never the one it just left."""
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        ids = [await client.create_run("knapsack", knapsack_request()) for _ in range(2)]
        app = app_for(service)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: all(app.main.table.has_run(i) for i in ids), 15)
            order = app.main.table.shown_ids()
            app.main.select_run(order[0])
            await pilot.pause()
            for key, char in (("down", None), ("c", "c")):
                app._driver.send_message(events.Key(key, char))
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen), 5)
            assert app.screen.run_id == order[1]
