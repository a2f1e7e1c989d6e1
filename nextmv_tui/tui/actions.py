"""The one action table: it drives the key bindings, the help screen, the command palette
and the keymap IDs users remap in ``keymap.yaml``.

An action's ``id`` is its binding ID, its keymap name and the ``action_<id>`` method of its
``scope``: ``app`` (refresh and the app itself) or ``main`` (the main screen's run actions).
Keys shown anywhere come from ``keys_of`` (defaults overlaid with the user's keymap), never
typed into help texts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding

Scope = Literal["app", "main"]


@dataclass(frozen=True)
class Action:
    id: str
    keys: str
    """Default keys, comma-separated Textual key names."""
    title: str
    """Palette title and help description."""
    help: str
    section: str
    scope: Scope
    footer: str = ""
    """Footer label; empty hides the action from the footer."""
    key_display: str | None = None


ACTIONS: tuple[Action, ...] = (
    Action("submit", "s", "Submit a run", "send an input file or directory as a new run",
           "Runs", "main", "Submit"),
    Action("cancel_run", "c", "Cancel run",
           "cancel the selected queued or running run (asks first)", "Runs", "main", "Cancel"),
    Action("copy_run_id", "y", "Copy run ID", "copy the selected run ID (also in a toast)",
           "Runs", "main", "Copy ID"),
    Action("save_output", "w", "Save output", "write the selected run's output to a file",
           "Runs", "main", "Save output"),
    Action("mark", "m", "Mark run", "notify when the selected run finishes", "Runs", "main",
           "Mark"),
    Action("jump", "g", "Jump to run ID", "select or open a run by its ID", "Runs", "main",
           "Jump"),
    Action("refresh", "r", "Refresh now", "fetch the queue and the selected run now",
           "Refresh", "app", "Refresh"),
    Action("toggle_pause", "p", "Pause / resume refresh", "stop or restart the automatic refresh",
           "Refresh", "app", "Pause"),
    Action("faster", "plus,equals_sign", "Refresh faster", "shorter refresh interval",
           "Refresh", "app", "Faster", "+"),
    Action("slower", "minus", "Refresh slower", "longer refresh interval", "Refresh", "app",
           "Slower", "-"),
    Action("filter", "slash", "Filter runs", "show runs containing a text in any column",
           "Queue view", "main", "Filter", "/"),
    Action("clear_filter", "escape", "Clear filter", "show every run again", "Queue view",
           "main"),
    Action("sort", "o", "Sort runs", "sort by the next column (or click a header)",
           "Queue view", "main", "Sort"),
    Action("sort_reverse", "O", "Reverse sort", "flip the sort order", "Queue view", "main"),
    Action("help", "question_mark,f1", "Help: keys", "show every key", "General", "app",
           "Help", "?"),
    Action("quit", "q", "Quit", "leave the monitor", "General", "app", "Quit"),
)
BY_ID: dict[str, Action] = {action.id: action for action in ACTIONS}
SECTIONS = ("Runs", "Refresh", "Queue view", "General")


def bindings(scope: Scope) -> list[Binding]:
    """The ``BINDINGS`` of the app or of the main screen, with IDs for the keymap."""
    return [
        Binding(action.keys, action.id, action.footer or action.title, show=bool(action.footer),
                key_display=action.key_display, id=action.id, tooltip=action.help)
        for action in ACTIONS
        if action.scope == scope
    ]


def keys_of(action: Action, keymap: Mapping[str, str]) -> list[str]:
    """The keys that run ``action`` now: the user's keymap entry, else the defaults."""
    return [key.strip() for key in keymap.get(action.id, action.keys).split(",") if key.strip()]


HelpRow = tuple[str, str, str]


def help_sections(
    keymap: Mapping[str, str], display: Callable[[str], str]
) -> dict[str, list[HelpRow]]:
    """``{section: [(keys, title, details)]}`` for the help screen; ``display`` turns a key
    name into what the user presses (``question_mark`` -> ``?``)."""
    sections: dict[str, list[HelpRow]] = {name: [] for name in SECTIONS}
    for action in ACTIONS:
        keys = ", ".join(display(key) for key in keys_of(action, keymap))
        sections[action.section].append((keys, action.title, action.help))
    sections["General"].append(
        (display("ctrl+p"), "Command palette", "every action by name, and themes")
    )
    return sections
