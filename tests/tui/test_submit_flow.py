"""Submitting through the real monitor against the real local service.

Every input kind goes through ``s`` and the modal: a JSON file (inline), a text file, a
directory (multi-file) and a JSON file over 5 MiB (uploaded, with progress). Each new run is
in the queue panel at once, selected, and followed to its final state. A text or directory
input fails inside the JSON ``knapsack`` app, which is a legitimate finish: what the test
checks for those is that the run was created with the right input format.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.app import NextmvTuiApp
from nextmv_tui.tui.screens.submit import SubmitScreen, UploadProgress
from tests.conftest import InProcessService
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for
from tests.tui.test_submit_upload import big_knapsack

INPUTS = Path(__file__).parent / "fixtures" / "inputs"


async def open_submit(app: NextmvTuiApp, pilot: Pilot[int]) -> SubmitScreen:
    await wait_until(pilot, lambda: app.queue.polls_completed > 0, message="first queue poll")
    await pilot.press("s")
    await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen))
    screen = app.screen
    assert isinstance(screen, SubmitScreen)
    return screen


async def submit_via_modal(
    app: NextmvTuiApp, pilot: Pilot[int], **fields: str
) -> tuple[SubmitScreen, str]:
    """Fill the modal, press enter, return the new run's ID once the modal closed."""
    screen = await open_submit(app, pilot)
    for field, value in fields.items():
        screen.query_one(f"#field-{field}", Input).value = value
    screen.query_one("#field-path", Input).focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen is not screen, timeout=30,
                     message="the modal closes")
    run_id = app.store.selected
    assert run_id is not None
    return screen, run_id


@pytest.mark.parametrize(
    ("kind", "path", "expected_final"),
    [
        ("json", "knapsack.json", RunStatus.SUCCEEDED),
        ("text", "notes.txt", None),
        ("multi-file", "multi", None),
    ],
)
async def test_submitted_run_appears_selected_and_finishes(
    inprocess_service: InProcessService, kind: str, path: str, expected_final: RunStatus | None
) -> None:
    app = app_for(inprocess_service, app_id="knapsack")
    async with app.run_test(size=(160, 45)) as pilot:
        _, run_id = await submit_via_modal(
            app, pilot, path=str(INPUTS / path), name=f"flow {kind}", options="duration=5"
        )
        row = app.store.get(run_id)
        assert row is not None and row.submitted and row.name == f"flow {kind}"
        assert app.main.table.get_row_index(run_id) >= 0, "listed in the queue panel at once"
        assert app.main.detail.run_id == run_id, "the detail pane follows the new run"
        await wait_until(pilot, lambda: app.store.rows[run_id].is_final, timeout=30,
                         message=f"{kind} run finishes")
        if expected_final is not None:
            assert app.store.rows[run_id].status == expected_final
    async with client_for(inprocess_service) as client:
        info = await client.run_information("knapsack", run_id)
    assert info.metadata.format.input.type == kind
    assert info.name == f"flow {kind}"
    assert info.metadata.options is not None
    assert info.metadata.options.request_options == {"duration": "5"}


async def test_large_json_is_uploaded_with_progress_and_succeeds(
    inprocess_service: InProcessService, tmp_path: Path
) -> None:
    big = big_knapsack(tmp_path / "big.json")
    assert big.stat().st_size > 5 * 1024 * 1024
    app = app_for(inprocess_service, app_id="knapsack")
    messages: list[Message] = []
    async with app.run_test(size=(160, 45), message_hook=messages.append) as pilot:
        _, run_id = await submit_via_modal(app, pilot, path=str(big), name="big")
        await wait_until(pilot, lambda: app.store.rows[run_id].is_final, timeout=60)
        assert app.store.rows[run_id].status == RunStatus.SUCCEEDED
    progress = [m for m in messages if isinstance(m, UploadProgress)]
    assert progress[-1].sent == progress[-1].total == big.stat().st_size
    async with client_for(inprocess_service) as client:
        info = await client.run_information("knapsack", run_id)
    assert info.metadata.format.input.type == "json"
    assert info.metadata.input_size >= big.stat().st_size * 0.9


async def test_invalid_json_shows_its_line_and_creates_nothing(
    inprocess_service: InProcessService,
) -> None:
    app = app_for(inprocess_service, app_id="knapsack")
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_submit(app, pilot)
        screen.query_one("#field-path", Input).value = str(INPUTS / "bad.json")
        screen.query_one("#field-path", Input).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "line 4, column 18" in screen.message_text)
        assert "bad.json" in screen.message_text
        await wait_until(pilot, lambda: screen.phase == "idle")
        assert app.screen is screen, "the modal stays open on an input error"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not screen)
        polls = app.queue.polls_completed
        await wait_until(pilot, lambda: app.queue.polls_completed > polls)
        assert len(app.store) == 0
    async with client_for(inprocess_service) as client:
        assert [run.id async for run in client.iter_runs("knapsack")] == []
        assert await client.account_queue() == []


async def test_last_used_values_are_remembered_for_the_session(
    inprocess_service: InProcessService,
) -> None:
    app = app_for(inprocess_service)
    async with app.run_test(size=(160, 45)) as pilot:
        await submit_via_modal(
            app, pilot, path=str(INPUTS / "knapsack.json"), app_id="knapsack",
            name="first", options="duration=3", priority="2",
        )
        screen = await open_submit(app, pilot)
        values = {f: screen.query_one(f"#field-{f}", Input).value
                  for f in ("path", "app_id", "name", "options", "priority")}
        assert values == {
            "path": str(INPUTS / "knapsack.json"), "app_id": "knapsack", "name": "",
            "options": "duration=3", "priority": "2",
        }, "remembered for the session, except the per-run name"


async def test_app_id_defaults_to_the_selected_runs_application(
    inprocess_service: InProcessService,
) -> None:
    async with client_for(inprocess_service) as client:
        from tests.tui.helpers import routing_request

        run_id = await client.create_run("routing", routing_request(1))
    app = app_for(inprocess_service)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: run_id in app.store)
        app.main.select_run(run_id)
        screen = await open_submit(app, pilot)
        assert screen.query_one("#field-app_id", Input).value == "routing"


def test_fixture_bad_json_really_is_bad() -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads((INPUTS / "bad.json").read_text())
    assert caught.value.lineno == 4
