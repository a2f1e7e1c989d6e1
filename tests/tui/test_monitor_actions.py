"""App-level actions wired to the modal screens, against the REAL local service: cancel,
copy, save output, mark + finished notification + bell, jump, submit result handling, help
and the command palette. (The modal screens themselves are tested in the test_modals*,
test_submit*, test_cancel* and test_help* files.)"""

from __future__ import annotations

import json

from textual.command import CommandPalette
from textual.widgets import Input

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.forms import SubmitForm, SubmittedRun
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for, knapsack_request, routing_request, row_status

SIZE = (160, 45)


def record_notifications(app) -> list[str]:
    seen: list[str] = []
    original = app.notify

    def notify(message, *args, **kwargs):
        seen.append(f"{kwargs.get('title', '')}: {message}")
        return original(message, *args, **kwargs)

    app.notify = notify
    return seen


async def test_cancel_running_run_via_confirmation(inprocess_service):
    async with client_for(inprocess_service) as client:
        run_id = await client.create_run("routing", routing_request(30, name="long one"))
        app = app_for(inprocess_service)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: row_status(app, run_id) == "running", 20)
            app.main.select_run(run_id)
            assert app.main.check_action("cancel_run", ()) is True
            await pilot.press("c")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmCancelScreen", 5)
            assert getattr(app.screen, "run_id", None) == run_id
            await pilot.press("y")
            await wait_until(pilot, lambda: row_status(app, run_id) == "canceled", 20)
            info = await client.run_information("routing", run_id)
            await wait_until(pilot, lambda: app.store.rows[run_id].status == RunStatus.CANCELED, 5)
            assert info.status in (RunStatus.CANCELED, RunStatus.RUNNING)
            assert app.main.check_action("cancel_run", ()) is None, "greyed out once final"


async def test_read_only_hides_submit_and_cancel(inprocess_service):
    async with client_for(inprocess_service) as client:
        run_id = await client.create_run("routing", routing_request(5))
    app = app_for(inprocess_service, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.table.has_run(run_id), 15)
        app.main.select_run(run_id)
        assert app.main.check_action("cancel_run", ()) is False
        assert app.main.check_action("submit", ()) is False
        await pilot.press("c", "s")
        await pilot.pause()
        assert app.screen is app.main, "no modal opened"


async def test_copy_mark_notify_bell_and_save_output(inprocess_service, tmp_path):
    async with client_for(inprocess_service) as client:
        run_id = await client.create_run("routing", routing_request(4, name="marked"))
        app = app_for(inprocess_service, bell=True)
        seen = record_notifications(app)
        bells: list[int] = []
        app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.has_run(run_id), 15)
            app.main.select_run(run_id)
            await pilot.press("y")
            assert app.clipboard == run_id
            assert any(run_id in text and "copied" in text for text in seen)
            await pilot.press("m")
            assert app.store.rows[run_id].marked
            assert app.main.check_action("save_output", ()) is None, "no output before success"
            await wait_until(pilot, lambda: row_status(app, run_id) == "succeeded", 30)
            await wait_until(pilot, lambda: any("finished" in t and run_id in t for t in seen), 5)
            assert bells == [1]
            assert app.main.check_action("save_output", ()) is True

            await pilot.press("w")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "SaveOutputScreen", 5)
            target = tmp_path / "out.json"
            field = app.screen.query_one("#save-path", Input)
            field.value = str(target)
            await pilot.press("enter")
            await wait_until(pilot, target.exists, 15, message="the output file")
            assert "solutions" in json.loads(target.read_text())
            await wait_until(pilot, lambda: any("saved to" in t for t in seen), 5)


async def test_jump_selects_listed_run_and_finds_unlisted_one(make_inprocess_service):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        listed = await client.create_run("knapsack", knapsack_request(name="listed"))
        other = await client.create_run("knapsack", knapsack_request(name="other"))
        app = app_for(service, app_id="knapsack")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.row_count == 2, 15)
            app.main.select_run(other)
            await pilot.press("g")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "JumpScreen", 5)
            await pilot.press(*listed, "enter")
            await wait_until(pilot, lambda: app.store.selected == listed, 5)
            # a run the queue never showed (canceled before the app saw it): found by ID
            gone = await client.create_run("knapsack", knapsack_request(name="ghost"))
            await client.cancel_run("knapsack", gone)
            await pilot.press("g")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "JumpScreen", 5)
            await pilot.press(*gone, "enter")
            await wait_until(pilot, lambda: app.store.selected == gone, 10)
            assert row_status(app, gone) == "canceled"


async def test_submitted_run_is_listed_at_once_selected_followed_and_form_remembered(
    make_inprocess_service,
):
    """The submit modal's result (SubmittedRun) is fed straight to the app's callback; the
    modal itself is exercised in the submit tests."""
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        app = app_for(service)
        seen = record_notifications(app)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.queue.polls_completed >= 1, 15)
            run_id = await client.create_run("knapsack", knapsack_request(name="mine"))
            form = SubmitForm(path="in.json", app_id="knapsack", name="mine", priority=2)
            app.main.submitted(SubmittedRun(run_id, "knapsack", "mine", form))
            assert app.main.table.has_run(run_id), "listed before any poll"
            assert app.store.selected == run_id and app.store.rows[run_id].submitted
            await wait_until(pilot, lambda: app.main.detail.info is not None
                             and app.main.detail.info.id == run_id, 10)
            assert any(run_id in text for text in seen)
            assert app.main.form == form.for_next_run() and app.main.form.name == "", (
                "application and options are remembered, the per-run name is not")
            await client.cancel_run("knapsack", run_id)
            await wait_until(pilot, lambda: row_status(app, run_id) == "canceled", 15)
            await wait_until(pilot, lambda: any("Run finished" in t for t in seen), 5)


async def test_help_and_palette_open(inprocess_service):
    app = app_for(inprocess_service)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", 5)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main, 5)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), 5)
        await pilot.press(*"refresh now")
        done = app.queue.polls_completed
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.queue.polls_completed > done, 10)
