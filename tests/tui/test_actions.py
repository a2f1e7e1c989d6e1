"""The one action table drives the bindings, the help screen, the palette and the keymap.

Each place is read from the running app (its active bindings, the help screen's table, the
palette's commands), not from the table itself; a known list of actions guards the table.
No server is needed: polling is off.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.table import Table
from textual.command import CommandList, CommandPalette
from textual.widgets import Static

from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.tui.actions import ACTIONS, BY_ID
from nextmv_tui.tui.app import NextmvTuiApp, make_app
from nextmv_tui.tui.keymap import KeymapError, load_keymap
from nextmv_tui.tui.screens.help import HelpScreen
from nextmv_tui.tui.screens.submit import SubmitScreen
from nextmv_tui.tui.settings import Settings
from tests.tui.conftest import wait_until

EXPECTED = {
    "submit", "cancel_run", "refresh", "toggle_pause", "faster", "slower", "filter",
    "clear_filter", "sort", "sort_reverse", "copy_run_id", "save_output", "mark", "jump",
    "help", "quit", "pick", "zoom", "clone", "profile",
}


def offline_app(**kwargs) -> NextmvTuiApp:
    config = ClientConfig(endpoint="http://127.0.0.1:9", api_key="unused")
    return make_app(Settings(config=config, poll=False, **kwargs))


def bound_actions(app: NextmvTuiApp) -> dict[str, list[str]]:
    """Action name -> keys, as the main screen's binding chain has them now."""
    found: dict[str, list[str]] = {}
    for key, active in app.main.active_bindings.items():
        found.setdefault(active.binding.action, []).append(key)
    return found


def help_text(app: NextmvTuiApp) -> str:
    table = app.screen.query_one("#help-table", Static).content
    assert isinstance(table, Table)
    return "\n".join(str(cell) for column in table.columns for cell in column.cells)


async def test_every_action_is_bound_in_help_and_in_the_palette() -> None:
    assert {action.id for action in ACTIONS} == EXPECTED
    app = offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        bound = bound_actions(app)
        missing = [a.id for a in ACTIONS if not set(a.keys.split(",")) & set(bound.get(a.id, []))]
        assert missing == [], f"not bound to their keys: {missing}"
        palette = {cmd.title: cmd.help for cmd in app.get_system_commands(app.main)}
        assert "Theme" in palette, "Textual's commands (themes) are kept"
        for action in ACTIONS:
            assert action.title in palette, action.id
        assert palette["Refresh faster"].startswith("+, = ·"), palette["Refresh faster"]
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = help_text(app)
        for action in ACTIONS:
            assert action.title in text, action.id
        assert "?, f1" in text and "+, =" in text


async def test_palette_runs_an_action_and_refuses_an_unavailable_one() -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        commands = {cmd.title: cmd for cmd in app.get_system_commands(app.main)}
        await commands["Cancel run"].callback()  # no run selected
        await wait_until(pilot, lambda: any("Cancel run: no runs yet" in str(n.message)
                                            for n in app._notifications))
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"submit a run")
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen))


async def test_a_remapped_key_works_and_is_shown_everywhere(tmp_path: Path) -> None:
    keymap = tmp_path / "keymap.yaml"
    keymap.write_text("toggle_pause: x\nsubmit: [n, ctrl+n]\n")
    app = offline_app(keymap_path=keymap)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("p")
        await pilot.press("x")
        await wait_until(pilot, lambda: app.queue.paused, message="x pauses")
        await pilot.press("x")
        await wait_until(pilot, lambda: not app.queue.paused, message="x resumes")
        palette = {cmd.title: cmd.help for cmd in app.get_system_commands(app.main)}
        assert palette["Pause / resume refresh"].startswith("x ·")
        assert "n Submit" in app.main.key_bar.plain, "the key bar shows the keys in force"
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "n, ^n" in help_text(app) or "n, ctrl+n" in help_text(app)


async def test_a_bad_keymap_file_is_named_and_the_defaults_stay(tmp_path: Path) -> None:
    keymap = tmp_path / "keymap.yaml"
    keymap.write_text("teleport: t\n")
    app = offline_app(keymap_path=keymap)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await wait_until(pilot, lambda: any(str(keymap) in str(n.message)
                                            for n in app._notifications))
        message = next(str(n.message) for n in app._notifications)
        assert "unknown action 'teleport'" in message and "default keys" in message
        await pilot.press("p")
        await wait_until(pilot, lambda: app.queue.paused, message="the default p still works")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("cancel_run: [x\n", "not valid YAML"),
        ("- cancel_run\n", "mapping"),
        ("cancel_run: 'ctrl x'\n", "not a key"),
        ("cancel_run: r\n", "'r' is bound to both"),
        ("jump: ''\n", "not a key"),
    ],
)
def test_load_keymap_refuses_bad_files_with_a_reason(tmp_path: Path, text, reason) -> None:
    path = tmp_path / "keymap.yaml"
    path.write_text(text)
    with pytest.raises(KeymapError) as caught:
        load_keymap(path)
    assert str(path) in str(caught.value) and reason in str(caught.value)


def test_load_keymap_accepts_lists_strings_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "keymap.yaml"
    assert load_keymap(path) == {}
    path.write_text("# my keys\nquit: ctrl+q\nfaster: [plus, k]\n")
    assert load_keymap(path) == {"quit": "ctrl+q", "faster": "plus,k"}
    assert BY_ID["quit"].keys == "q", "the table itself is not changed"
