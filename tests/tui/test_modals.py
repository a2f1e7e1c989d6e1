"""Save-output and jump modals, and the command palette provider, each on a tiny host app."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.command import CommandList, CommandPalette, DiscoveryHit
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from nextmv_tui.tui.commands import COMMANDS, NextmvCommands
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


# --- command palette -----------------------------------------------------------------------


class PaletteHost(App[None]):
    """Has every action the palette names; ``cancel_run`` is refused like on a finished run."""

    COMMANDS = App.COMMANDS | {NextmvCommands}

    def __init__(self) -> None:
        super().__init__()
        self.ran: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("palette host")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "cancel_run"

    def __getattr__(self, name: str) -> object:
        if name.startswith("action_") and name[7:] in {c.action for c in COMMANDS}:
            return lambda: self.ran.append(name[7:])
        raise AttributeError(name)


async def test_discover_lists_every_action() -> None:
    app = PaletteHost()
    async with app.run_test():
        provider = NextmvCommands(app.screen)
        hits = [hit async for hit in provider.discover()]
        assert all(isinstance(hit, DiscoveryHit) for hit in hits)
        assert [hit.text for hit in hits] == [c.title for c in COMMANDS]
        assert {c.action for c in COMMANDS} >= {
            "submit", "cancel_run", "refresh", "toggle_pause", "faster", "slower",
            "copy_run_id", "save_output", "mark", "jump", "help", "quit",
        }


async def test_palette_runs_the_chosen_action() -> None:
    app = PaletteHost()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"submit a run")
        await wait_until(
            pilot, lambda: app.screen.query_one(CommandList).option_count > 0
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.ran == ["submit"])


async def test_palette_keeps_system_commands_and_refused_action_only_notifies() -> None:
    app = PaletteHost()
    async with app.run_test(notifications=True) as pilot:
        provider = NextmvCommands(app.screen)
        hits = [hit async for hit in provider.search("cancel run")]
        assert hits and hits[0].text == "Cancel run"
        await hits[0].command()
        await wait_until(
            pilot, lambda: any("not available" in str(n.message) for n in app._notifications)
        )
        assert app.ran == []
        titles = [title for title, *_ in app.get_system_commands(app.screen)]
        assert "Theme" in titles, "theme switching comes from Textual's system commands"


async def test_real_monitor_palette_opens_the_submit_modal() -> None:
    """The monitor's palette has our commands next to Textual's (no server needed: poll off)."""
    from nextmv_tui.cloud.config import ClientConfig
    from nextmv_tui.tui.app import make_app
    from nextmv_tui.tui.screens.submit import SubmitScreen
    from nextmv_tui.tui.settings import Settings

    config = ClientConfig(endpoint="http://127.0.0.1:9", api_key="unused")
    app = make_app(Settings(config=config, poll=False))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"submit a run")
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen))
