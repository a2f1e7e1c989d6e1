"""SVG snapshots of each modal, on a tiny host app with fixed content.

The submit modal's tree is rooted at "." inside tests/tui/fixtures/inputs (a fixed
directory), so no temporary path reaches the SVG. Cursor blink is switched off so a
snapshot never catches the cursor mid-blink.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.tui.actions import help_sections
from nextmv_tui.tui.forms import SubmitForm
from nextmv_tui.tui.screens.confirm_cancel import ConfirmCancelScreen
from nextmv_tui.tui.screens.help import HelpScreen
from nextmv_tui.tui.screens.input_tree import InputTree
from nextmv_tui.tui.screens.jump import JumpScreen
from nextmv_tui.tui.screens.save_output import SaveOutputScreen
from nextmv_tui.tui.screens.submit import SubmitScreen
from tests.conftest import REPO_ROOT
from tests.tui.conftest import wait_until
from tests.tui.fixtures.host import ModalHost

INPUTS = Path(__file__).parent / "fixtures" / "inputs"
SIZE = (120, 36)


def _display(key: str) -> str:
    return {"question_mark": "?", "plus": "+", "equals_sign": "=", "minus": "-", "slash": "/",
            "escape": "esc", "ctrl+p": "^p"}.get(key, key)


def _client() -> NextmvClient:
    """Never used to send anything in these snapshots (no submit is pressed)."""
    return NextmvClient(ClientConfig(endpoint="http://127.0.0.1:9", api_key="unused"))


def _settle(screen_type: type[Screen[Any]], then: Callable[[Screen[Any]], Any] | None = None):
    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        await wait_until(pilot, lambda: isinstance(app.screen, screen_type))
        for widget in app.screen.query(Input):
            widget.cursor_blink = False
        if then is not None:
            result = then(app.screen)
            if result is not None:
                await result
        await pilot.pause()

    return run_before


@pytest.fixture
def in_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the inputs folder, with HOME at the checkout: the dialog shows the folder as
    ``~/tests/...`` wherever the checkout is (an absolute path made the snapshot pass only
    in the checkout that recorded it)."""
    monkeypatch.chdir(INPUTS)
    monkeypatch.setenv("HOME", str(REPO_ROOT))


def test_submit_modal(snap_compare: Any, in_inputs: None) -> None:
    form = SubmitForm(app_id="knapsack", name="nightly", options="duration=5")
    app = ModalHost(lambda: SubmitScreen(_client(), form))

    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(SubmitScreen)(pilot)
        tree = pilot.app.screen.query_one(InputTree)
        await wait_until(pilot, lambda: len(tree.root.children) == 4)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_submit_modal_input_error(snap_compare: Any, in_inputs: None) -> None:
    form = SubmitForm(path="bad.json", app_id="knapsack")
    app = ModalHost(lambda: SubmitScreen(_client(), form))

    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(SubmitScreen)(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, SubmitScreen)
        tree = screen.query_one(InputTree)
        await wait_until(pilot, lambda: len(tree.root.children) == 4)
        screen.action_submit()
        await wait_until(pilot, lambda: "line 4" in screen.message_text)
        await wait_until(pilot, lambda: screen.phase == "idle")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_confirm_cancel(snap_compare: Any) -> None:
    app = ModalHost(lambda: ConfirmCancelScreen("latest-7f3a9c2e", "routing", "nightly routes"))
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle(ConfirmCancelScreen))


def test_help(snap_compare: Any) -> None:
    app = ModalHost(lambda: HelpScreen(help_sections({}, _display)))
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle(HelpScreen))


def test_save_output(snap_compare: Any) -> None:
    default = Path("/data/outputs/latest-7f3a9c2e-output.json")
    app = ModalHost(lambda: SaveOutputScreen(default))
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle(SaveOutputScreen))


def test_jump(snap_compare: Any) -> None:
    app = ModalHost(JumpScreen)
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle(JumpScreen))
