"""The one action table: it drives the key bindings, the help screen, the command palette
and the keymap IDs users remap in ``keymap.yaml``.

An action's ``id`` is its binding ID, its keymap name and the ``action_<id>`` method of its
``scope``: ``app`` (refresh and the app itself) or ``main`` (the main screen's run actions).
Keys shown anywhere come from ``keys_of`` (defaults overlaid with the user's keymap), never
typed into help texts. ``needs`` say when an action can act (``tui/availability.py`` words
the reason when it cannot); ``rank`` orders the footer, most important first (0: always
shown, at the right end).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

import msgspec
from textual.binding import Binding

Scope = Literal["app", "main"]


class Action(msgspec.Struct, frozen=True):
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
    rank: int = 99
    """Footer order, most important first; 0 is always shown (pinned to the right)."""
    needs: tuple[str, ...] = ()
    """Conditions to act (``availability.NEEDS``), checked in this order."""


ACTIONS: tuple[Action, ...] = (
    Action("submit", "s", "Submit a run", "send an input file or directory as a new run",
           "Runs", "main", "Submit", rank=1, needs=("writable",)),
    Action("cancel_run", "c", "Cancel run",
           "cancel the picked runs, else the selected one (queued or running; asks first)",
           "Runs", "main", "Cancel", rank=2, needs=("writable", "targets", "cancelable")),
    Action("pick", "space", "Pick / unpick run",
           "pick runs for cancel, copy IDs and save outputs (esc unpicks all)", "Runs", "main",
           "Pick", rank=3, needs=("selected",)),
    Action("zoom", "z", "Zoom the detail pane",
           "detail pane over the whole screen, or back (also enter)", "Queue view", "main",
           "Zoom", rank=4),
    Action("copy_run_id", "y", "Copy run ID",
           "copy the picked run IDs, else the selected one (also in a toast)", "Runs", "main",
           "Copy ID", rank=7, needs=("targets",)),
    Action("save_output", "w", "Save output",
           "write the output of the picked runs, else the selected one, to files", "Runs",
           "main", "Save", rank=8, needs=("targets", "has_output")),
    Action("clone", "S", "Clone and resubmit",
           "open the submit dialog with the selected run's input and options", "Runs", "main",
           "Clone", rank=9, needs=("writable", "selected", "exists")),
    Action("mark", "m", "Mark run", "notify when the selected run finishes", "Runs", "main",
           "Mark", rank=11, needs=("selected", "watchable")),
    Action("jump", "g", "Jump to run ID", "select or open a run by its ID", "Runs", "main",
           "Jump", rank=12),
    Action("refresh", "r", "Refresh now", "fetch the queue and the selected run now",
           "Refresh", "app", "Refresh", rank=14),
    Action("toggle_pause", "p", "Pause / resume refresh", "stop or restart the automatic refresh",
           "Refresh", "app", "Pause", rank=13),
    Action("faster", "plus,equals_sign", "Refresh faster", "shorter refresh interval",
           "Refresh", "app", key_display="+"),
    Action("slower", "minus", "Refresh slower", "longer refresh interval", "Refresh", "app",
           key_display="-"),
    Action("filter", "slash", "Filter runs", "show runs containing a text in any column",
           "Queue view", "main", "Filter", "/", rank=5),
    Action("clear_filter", "escape", "Back out",
           "unzoom, else clear the filter, else unpick every run", "Queue view", "main"),
    Action("sort", "o", "Sort runs",
           "next sort: active first, newest, next to run, longest, objective, application",
           "Queue view", "main", "Sort", rank=6),
    Action("sort_reverse", "O", "Reverse sort", "flip the sort order", "Queue view", "main"),
    Action("profile", "P", "Switch profile",
           "reconnect with another profile of ~/.nextmv/config.yaml", "General", "app",
           "Profile", rank=15),
    Action("help", "question_mark,f1", "Help: keys", "show every key", "General", "app",
           "Help", "?", rank=0),
    Action("quit", "q", "Quit", "leave the monitor", "General", "app", "Quit", rank=0),
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


def actions_for_key(key: str, keymap: Mapping[str, str]) -> list[str]:
    """The IDs of the actions ``key`` runs now (the user's keymap applied)."""
    return [action.id for action in ACTIONS if key in keys_of(action, keymap)]
