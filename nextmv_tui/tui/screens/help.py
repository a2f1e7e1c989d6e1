"""Help: the key table, generated from the app's own bindings so it can never drift."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

GROUPS: dict[str, tuple[str, ...]] = {
    "Runs": ("submit", "cancel_run", "copy_run_id", "save_output", "mark", "jump"),
    "Refresh": ("refresh", "toggle_pause", "faster", "slower"),
    "Queue view": ("filter", "clear_filter", "sort", "sort_reverse"),
    "General": ("command_palette", "help", "quit"),
}
"""Sections of the help table by action name; other actions go under "Other"."""


def _action_name(binding: Binding) -> str:
    """``app.submit`` and ``submit`` are the same action for grouping."""
    return binding.action.rsplit(".", 1)[-1].split("(", 1)[0]


def _group_of(binding: Binding) -> str:
    name = _action_name(binding)
    for group, actions in GROUPS.items():
        if name in actions:
            return group
    if binding.group is not None and binding.group.description:
        return binding.group.description
    return "Other"


def help_rows(
    bindings: Iterable[Binding], key_display: dict[str, str] | None = None
) -> dict[str, list[tuple[str, str, str]]]:
    """Group bindings into ``{section: [(keys, description, details)]}``.

    Bindings of the same action are merged into one row ("?, f1"). ``key_display`` maps a key
    to its display form (the app's ``get_key_display``); other keys show the binding's
    ``key_display`` or the key name.
    """
    display = key_display or {}
    merged: dict[str, tuple[list[str], str, str, str]] = {}
    for binding in Binding.make_bindings(bindings):
        action = binding.action
        shown = display.get(binding.key) or binding.key_display or binding.key
        if action in merged:
            keys, description, details, group = merged[action]
            if shown not in keys:
                keys.append(shown)
            merged[action] = (keys, description or binding.description, details, group)
        else:
            merged[action] = (
                [shown],
                binding.description or _action_name(binding).replace("_", " "),
                binding.tooltip,
                _group_of(binding),
            )
    sections: dict[str, list[tuple[str, str, str]]] = {
        group: [] for group in (*GROUPS, "Other")
    }
    for keys, description, details, group in merged.values():
        sections.setdefault(group, []).append((", ".join(keys), description, details))
    return {group: rows for group, rows in sections.items() if rows}


class HelpScreen(ModalScreen[None]):
    """A scrollable table of keys; escape, q, ? or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen #help-dialog {
        width: 84;
        max-width: 96%;
        height: auto;
        max-height: 92%;
        border: thick $primary;
        border-title-style: bold;
        background: $surface;
    }
    HelpScreen #help-scroll {
        height: auto;
        max-height: 100%;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "close", "Close help", show=False),
    ]

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self._bindings_shown = list(bindings)
        if not any(_action_name(b) == "command_palette" for b in self._bindings_shown):
            self._bindings_shown.append(
                Binding("ctrl+p", "command_palette", "Command palette (every action, themes)")
            )

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = "Keys"
            dialog.border_subtitle = "esc/q/? close · ↑↓ scroll · ctrl+p all commands"
            with VerticalScroll(id="help-scroll"):
                yield Static(self._table(), id="help-table")

    def _table(self) -> Table:
        # Every key of a binding is shown ("?, f1"): a binding's key_display names only one.
        display = {
            binding.key: self.app.get_key_display(replace(binding, key_display=None))
            for binding in Binding.make_bindings(self._bindings_shown)
        }
        table = Table(box=None, expand=True, show_header=False, padding=(0, 1))
        table.add_column("key", style="bold", no_wrap=True, min_width=10)
        table.add_column("action", ratio=1)
        sections = help_rows(self._bindings_shown, display)
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
