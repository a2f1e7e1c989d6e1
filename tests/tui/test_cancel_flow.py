"""Canceling through the real monitor against the real local service.

``c`` on a long ``routing`` run (duration=30) opens the confirmation with that run's ID and
``y`` cancels it on the server; the confirmation acts on the run captured when it opened even
if the selection moves meanwhile; ``c`` does nothing on a finished run or in read-only mode.

Negative checks ("no confirmation opened") press ``?`` right after ``c``: keys are handled
in order, so once the help screen is up, ``c`` has been handled, without any sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.app import NextmvTuiApp
from nextmv_tui.tui.screens.confirm_cancel import ConfirmCancelScreen
from nextmv_tui.tui.screens.help import HelpScreen
from nextmv_tui.tui.screens.jump import JumpScreen
from tests.conftest import InProcessService
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for, knapsack_request, routing_request


async def server_status(client: NextmvClient, app_id: str, run_id: str) -> RunStatus:
    return (await client.run_information(app_id, run_id)).status


async def wait_until_final(client: NextmvClient, run_id: str, timeout: float = 30) -> None:
    """Poll the server (not the UI) until the knapsack run is final."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (await server_status(client, "knapsack", run_id)).is_final:
        assert asyncio.get_running_loop().time() < deadline, f"{run_id} did not finish"
        await asyncio.sleep(0.1)


async def wait_running(app: NextmvTuiApp, pilot: Pilot[int], *run_ids: str) -> None:
    for run_id in run_ids:
        await wait_until(
            pilot,
            lambda run_id=run_id: (row := app.store.get(run_id)) is not None  # type: ignore[misc]
            and row.status == RunStatus.RUNNING,
            timeout=20,
            message=f"{run_id} running in the panel",
        )


async def assert_c_opens_nothing(app: NextmvTuiApp, pilot: Pilot[int]) -> None:
    await pilot.press("c", "question_mark")
    await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
    assert not any(isinstance(s, ConfirmCancelScreen) for s in app.screen_stack)
    await pilot.press("escape")


async def test_cancel_a_long_routing_run(inprocess_service: InProcessService) -> None:
    async with client_for(inprocess_service) as client:
        run_id = await client.create_run("routing", routing_request(30, name="long route"))
        app = app_for(inprocess_service)
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_running(app, pilot, run_id)
            assert app.main.select_run(run_id)
            assert app.main.check_action("cancel_run", ()) is True
            await pilot.press("c")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
            confirm = app.screen
            assert isinstance(confirm, ConfirmCancelScreen)
            assert (confirm.run_id, confirm.run_name, confirm.app_id) == (
                run_id, "long route", "routing",
            )
            await pilot.press("y")
            await wait_until(pilot, lambda: app.store.rows[run_id].status == RunStatus.CANCELED,
                             timeout=20, message="row turns canceled")
            await wait_until(
                pilot,
                server_says(client, "routing", run_id, RunStatus.CANCELED),
                timeout=20,
                message="server says canceled",
            )
            assert app.main.check_action("cancel_run", ()) is not True


def server_says(
    client: NextmvClient, app_id: str, run_id: str, expected: RunStatus
) -> Callable[[], Awaitable[bool]]:
    """An async predicate for ``wait_until``: the server reports ``expected``."""

    async def check() -> bool:
        return await server_status(client, app_id, run_id) == expected

    return check


async def test_n_keeps_the_run_running(inprocess_service: InProcessService) -> None:
    async with client_for(inprocess_service) as client:
        run_id = await client.create_run("routing", routing_request(30))
        app = app_for(inprocess_service)
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_running(app, pilot, run_id)
            app.main.select_run(run_id)
            await pilot.press("c")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
            await pilot.press("n")
            await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmCancelScreen))
            polls = app.queue.polls_completed
            await wait_until(pilot, lambda: app.queue.polls_completed > polls + 1)
            assert app.store.rows[run_id].status == RunStatus.RUNNING
            assert await server_status(client, "routing", run_id) == RunStatus.RUNNING
            await client.cancel_run("routing", run_id)


async def test_confirmation_acts_on_the_captured_run_when_selection_moves(
    inprocess_service: InProcessService,
) -> None:
    async with client_for(inprocess_service) as client:
        first = await client.create_run("routing", routing_request(30, name="first"))
        second = await client.create_run("routing", routing_request(30, name="second"))
        app = app_for(inprocess_service)
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_running(app, pilot, first, second)
            app.main.select_run(first)
            await pilot.press("c")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
            # The selection moves to the other run while the confirmation is open.
            assert app.main.select_run(second)
            assert app.store.selected == second
            await pilot.press("y")
            await wait_until(pilot, lambda: app.store.rows[first].status == RunStatus.CANCELED,
                             timeout=20)
            await wait_until(
                pilot, server_says(client, "routing", first, RunStatus.CANCELED),
                timeout=20,
            )
            assert await server_status(client, "routing", second) == RunStatus.RUNNING
            assert app.store.rows[second].status == RunStatus.RUNNING
            await client.cancel_run("routing", second)


async def test_cancel_is_unavailable_on_a_finished_run(inprocess_service: InProcessService) -> None:
    async with client_for(inprocess_service) as client:
        run_id = await client.create_run("knapsack", knapsack_request(8, name="quick"))
        await wait_until_final(client, run_id)
        app = app_for(inprocess_service, app_id="knapsack")
        async with app.run_test(size=(160, 45)) as pilot:
            # A run that finished before the monitor started: reach it with g (jump).
            await pilot.press("g")
            await wait_until(pilot, lambda: isinstance(app.screen, JumpScreen))
            await pilot.press(*run_id, "enter")
            await wait_until(
                pilot,
                lambda: (row := app.store.get(run_id)) is not None
                and row.status == RunStatus.SUCCEEDED,
                timeout=30,
            )
            assert app.main.select_run(run_id)
            assert not app.main.check_action("cancel_run", ())
            await assert_c_opens_nothing(app, pilot)
        assert await server_status(client, "knapsack", run_id) == RunStatus.SUCCEEDED


async def test_cancel_is_unavailable_in_read_only_mode(inprocess_service: InProcessService) -> None:
    async with client_for(inprocess_service) as client:
        run_id = await client.create_run("routing", routing_request(30, name="ro"))
        app = app_for(inprocess_service, read_only=True)
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_running(app, pilot, run_id)
            assert app.main.select_run(run_id)
            assert app.main.check_action("cancel_run", ()) is False
            await assert_c_opens_nothing(app, pilot)
            assert app.store.rows[run_id].status == RunStatus.RUNNING
        assert await server_status(client, "routing", run_id) == RunStatus.RUNNING
        await client.cancel_run("routing", run_id)
