"""Help: the key table, generated from the action table (``tui/actions.py``) and the keys in
force (defaults overlaid with the user's keymap), so it can never drift from the bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from nextmv_tui.tui.actions import HelpRow
from nextmv_tui.tui.screens.dialog import OnceModal


class HelpScreen(OnceModal[None]):
    """A scrollable table of keys; escape, q, ? or F1 closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "close", "Close help", show=False),
    ]

    def __init__(self, sections: dict[str, list[HelpRow]]) -> None:
        super().__init__(classes="dialog-screen")
        self._sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog") as dialog:
            dialog.border_title = "Keys"
            dialog.border_subtitle = "esc/q/? close · ↑↓ scroll · ctrl+p all commands"
            with VerticalScroll(id="help-scroll"):
                yield Static(self._table(), id="help-table")

    def _table(self) -> Table:
        table = Table(box=None, expand=True, show_header=False, padding=(0, 1))
        table.add_column("key", style="bold", no_wrap=True, min_width=10)
        table.add_column("action", ratio=1)
        sections = {name: rows for name, rows in self._sections.items() if rows}
        for index, (group, rows) in enumerate(sections.items()):
            if index:
                table.add_row("", "")
            table.add_row(Text(group, style="bold underline"), "")
            for keys, description, details in rows:
                line = Text(description)
                if details:
                    line.append(f"  {details}", style="dim")
                table.add_row(Text(keys, style="bold"), line)
        return table

    def action_close(self) -> None:
        self.dismiss(None)
