"""The help screen is generated from the bindings it is given: grouped, merged, closable."""

from __future__ import annotations

import pytest
from rich.table import Table
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from nextmv_tui.tui.screens.help import HelpScreen, help_rows
from tests.tui.conftest import wait_until
from tests.tui.fixtures.host import ModalHost

BINDINGS = [
    Binding("s", "submit", "Submit", id="submit"),
    Binding("c", "cancel_run", "Cancel run", id="cancel_run"),
    Binding("r", "refresh", "Refresh", id="refresh"),
    Binding("question_mark", "help", "Help", id="help"),
    Binding("f1", "help", "Help", id="help_f1"),
    Binding("q", "quit", "Quit", id="quit"),
    Binding("x", "app.custom_thing", "Custom thing", tooltip="does a custom thing"),
]


def test_rows_are_grouped_and_keys_of_one_action_merged() -> None:
    sections = help_rows(BINDINGS, {"question_mark": "?"})
    assert list(sections) == ["Runs", "Refresh", "General", "Other"]
    assert sections["Runs"] == [("s", "Submit", ""), ("c", "Cancel run", "")]
    assert ("?, f1", "Help", "") in sections["General"]
    assert sections["Other"] == [("x", "Custom thing", "does a custom thing")]


def test_comma_keys_are_split_and_missing_descriptions_use_the_action() -> None:
    sections = help_rows([Binding("plus,equals_sign", "faster")])
    assert sections == {"Refresh": [("plus, equals_sign", "faster", "")]}


def _table_text(app: ModalHost) -> str:
    table = app.screen.query_one("#help-table", Static).content
    assert isinstance(table, Table)
    cells = [str(cell) for column in table.columns for cell in column.cells]
    return "\n".join(cells)


async def test_screen_lists_every_binding_and_the_palette() -> None:
    app = ModalHost(lambda: HelpScreen(BINDINGS))
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = _table_text(app)
        for expected in ("Submit", "Cancel run", "Refresh", "Quit", "Custom thing", "?, f1",
                         "Command palette", "^p"):
            assert expected in text, expected


@pytest.mark.parametrize("key", ["escape", "q", "question_mark", "f1"])
async def test_escape_q_question_mark_and_f1_close(key: str) -> None:
    app = ModalHost(lambda: HelpScreen(BINDINGS))
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press(key)
        await wait_until(pilot, lambda: app.results == [None], message=f"{key} closes")
        assert app.is_running, f"{key} must close help, not quit"


async def test_long_tables_scroll_in_a_small_terminal() -> None:
    many = [Binding(f"f{n}", f"action_{n}", f"Action number {n}") for n in range(2, 13)]
    many += [Binding(letter, f"act_{letter}", f"Letter {letter}") for letter in "abdeghijkl"]
    app = ModalHost(lambda: HelpScreen(many))
    async with app.run_test(size=(60, 14)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        scroll = app.screen.query_one("#help-scroll", VerticalScroll)
        await wait_until(pilot, lambda: scroll.max_scroll_y > 0, message="content overflows")
        scroll.focus()
        await pilot.press("end")
        await wait_until(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y)


async def test_the_monitors_own_bindings_show_every_key() -> None:
    from nextmv_tui.tui.app import ACTION_BINDINGS

    app = ModalHost(lambda: HelpScreen(list(ACTION_BINDINGS)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = _table_text(app)
        for binding in ACTION_BINDINGS:
            assert binding.description in text, binding.description
        assert "?, f1" in text, "both help keys are listed"
        assert "+, =" in text, "both faster keys are listed"
