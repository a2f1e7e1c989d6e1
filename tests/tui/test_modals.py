"""Save-output and jump modals, each on a tiny host app."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input

from nextmv_tui.tui.screens.jump import JumpScreen
from nextmv_tui.tui.screens.save_output import SaveOutputScreen, check_destination
from tests.tui.conftest import wait_until
from tests.tui.fixtures.host import ModalHost

# --- save output ---------------------------------------------------------------------------


async def _save_app(default: Path) -> ModalHost:
    return ModalHost(lambda: SaveOutputScreen(default))


async def test_save_prefills_and_returns_the_path(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    app = await _save_app(target)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SaveOutputScreen))
        assert app.screen.query_one("#save-path", Input).value == str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.results == [target])


async def test_save_refuses_a_directory_and_a_missing_folder(tmp_path: Path) -> None:
    app = await _save_app(tmp_path)
    async with app.run_test() as pilot:
        screen = await _save_screen(app, pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "is a directory" in screen.message_text)
        assert app.results == [] and app.screen is screen

        missing = tmp_path / "nope" / "out.json"
        screen.query_one("#save-path", Input).value = str(missing)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "does not exist" in screen.message_text)
        assert str(tmp_path / "nope") in screen.message_text
        assert app.results == []


async def test_save_asks_before_overwriting(tmp_path: Path) -> None:
    existing = tmp_path / "out.json"
    existing.write_text("{}")
    app = await _save_app(existing)
    async with app.run_test() as pilot:
        screen = await _save_screen(app, pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "exists" in screen.message_text)
        assert str(screen.query_one("#save-go", Button).label) == "Overwrite"
        assert app.results == []
        # Editing the path withdraws the pending overwrite question.
        await pilot.press("x")
        await wait_until(pilot, lambda: screen.message_text == "")
        await pilot.press("backspace", "enter")
        await wait_until(pilot, lambda: "exists" in screen.message_text)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.results == [existing])
        assert existing.read_text() == "{}", "the screen only decides; it never writes"


async def test_save_escape_returns_none(tmp_path: Path) -> None:
    app = await _save_app(tmp_path / "o.json")
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SaveOutputScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.results == [None])


def test_check_destination_relative_and_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert check_destination("out.json") == (tmp_path / "out.json", "")
    assert check_destination("~/o.txt") == (tmp_path / "o.txt", "")
    assert check_destination("   ")[1] == "type a file path"


async def _save_screen(app: ModalHost, pilot: Pilot[None]) -> SaveOutputScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, SaveOutputScreen))
    screen = app.screen
    assert isinstance(screen, SaveOutputScreen)
    return screen


# --- jump ----------------------------------------------------------------------------------


async def test_jump_returns_the_stripped_run_id() -> None:
    app = ModalHost(JumpScreen)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, JumpScreen))
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, JumpScreen)
        await wait_until(pilot, lambda: screen.message_text == "Type a run ID.")
        await pilot.press("space", *"run-1 x", "enter")
        await wait_until(pilot, lambda: "contains spaces" in screen.message_text)
        screen.query_one(Input).value = "  run-42  "
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.results == ["run-42"])


async def test_jump_escape_returns_none() -> None:
    app = ModalHost(JumpScreen)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, JumpScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.results == [None])


@pytest.mark.parametrize("second", ["run-2", None], ids=["enter-twice", "enter-then-escape"])
async def test_a_dialog_dismissed_twice_before_it_is_gone_answers_once(second) -> None:
    """Keys typed fast reach a dialog until it is removed: a second enter (or an escape)
    dismissed it again, which set the caller's result twice (``InvalidStateError``: the
    monitor exited; found by the long monkey) and popped the screen under it."""
    app = ModalHost(JumpScreen)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, JumpScreen))
        screen = app.screen
        screen.dismiss("run-1")
        screen.dismiss(second)  # in the same turn of the loop, before the pop is done
        await wait_until(pilot, lambda: app.results == ["run-1"])
        await pilot.pause()
        assert app.results == ["run-1"]
        assert app.screen.query_one("#host-body") is not None  # the host's screen stays
        assert app.is_running
