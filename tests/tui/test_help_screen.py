"""The help screen: built from the action table and the keys in force, closable, scrollable."""

from __future__ import annotations

import pytest
from rich.table import Table
from textual.containers import VerticalScroll
from textual.widgets import Static

from nextmv_tui.tui.actions import help_sections
from nextmv_tui.tui.screens.help import HelpScreen
from tests.tui.conftest import wait_until
from tests.tui.fixtures.host import ModalHost


def table_text(app) -> str:
    table = app.screen.query_one("#help-table", Static).content
    assert isinstance(table, Table)
    return "\n".join(str(cell) for column in table.columns for cell in column.cells)


def test_sections_merge_the_keys_of_one_action_and_add_the_palette() -> None:
    sections = help_sections({}, lambda key: {"question_mark": "?"}.get(key, key))
    assert list(sections) == ["Runs", "Refresh", "Queue view", "General"]
    general = {title: keys for keys, title, _ in sections["General"]}
    assert general["Help: keys"] == "?, f1"
    assert general["Command palette"] == "ctrl+p"
    remapped = help_sections({"help": "h"}, str)
    assert ("h", "Help: keys", "show every key") in remapped["General"]


@pytest.mark.parametrize("key", ["escape", "q", "question_mark", "f1"])
async def test_escape_q_question_mark_and_f1_close(key: str) -> None:
    app = ModalHost(lambda: HelpScreen(help_sections({}, str)))
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press(key)
        await wait_until(pilot, lambda: app.results == [None], message=f"{key} closes")
        assert app.is_running, f"{key} must close help, not quit"


async def test_long_tables_scroll_in_a_small_terminal() -> None:
    many = {"Many": [(f"f{n}", f"Action number {n}", "") for n in range(2, 40)]}
    app = ModalHost(lambda: HelpScreen(many))
    async with app.run_test(size=(60, 14)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        scroll = app.screen.query_one("#help-scroll", VerticalScroll)
        await wait_until(pilot, lambda: scroll.max_scroll_y > 0, message="content overflows")
        scroll.focus()
        await pilot.press("end")
        await wait_until(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y)
