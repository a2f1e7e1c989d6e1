"""The cancel confirmation alone: what it shows, which keys decide, where focus starts."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import Button, Static

from nextmv_tui.tui.screens.confirm_cancel import ConfirmCancelScreen
from tests.tui.conftest import wait_until
from tests.tui.fixtures.host import ModalHost


def _host() -> ModalHost:
    return ModalHost(lambda: ConfirmCancelScreen("run-abc123", "routing", "nightly batch"))


async def test_shows_run_id_name_and_app_with_focus_on_keep() -> None:
    app = _host()
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        details = app.screen.query_one("#confirm-details", Static).content
        assert isinstance(details, Text)
        assert "run-abc123" in details.plain
        assert "nightly batch" in details.plain
        assert "routing" in details.plain
        assert isinstance(app.focused, Button)
        assert app.focused.id == "confirm-no"


async def test_y_confirms() -> None:
    app = _host()
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.results == [True])
        assert not isinstance(app.screen, ConfirmCancelScreen)


@pytest.mark.parametrize("key", ["n", "escape", "enter"])
async def test_n_escape_and_enter_on_the_safe_button_keep_the_run(key: str) -> None:
    app = _host()
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        await pilot.press(key)
        await wait_until(pilot, lambda: app.results == [False], message=f"{key} -> False")


async def test_tab_to_cancel_button_then_enter_confirms() -> None:
    app = _host()
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "confirm-yes"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.results == [True])


async def test_a_double_key_press_decides_once() -> None:
    app = _host()
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        await pilot.press("y", "y", "n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmCancelScreen))
        await pilot.pause()
        assert app.results == [True]


async def test_click_on_cancel_button_confirms() -> None:
    app = _host()
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        await pilot.click("#confirm-yes")
        await wait_until(pilot, lambda: app.results == [True])
