"""Why an action cannot act now, in words a user understands (Textual-free).

Each action of the table (``tui/actions.py``) lists its ``needs``; ``why_not`` checks them in
order against what the screen knows and returns the first reason, or None when the action
can act. The same answer drives the footer (dimmed or hidden keys, through ``check_action``),
the toast a refused key shows, and the palette, so a key never silently does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.state import RunRow

NO_SELECTION = "no run selected — use ↑/↓ to choose one"
NO_RUNS = "no runs yet — press s to submit one"
READ_ONLY_PREFIX = "read-only mode"


class Context(msgspec.Struct, frozen=True):
    """What the checks look at; built by the main screen."""

    read_only: bool
    selected: RunRow | None
    picked: Sequence[RunRow] = ()
    has_rows: bool = True

    @property
    def targets(self) -> list[RunRow]:
        """The runs a bulk action acts on: the picked ones, else the selected one."""
        if self.picked:
            return list(self.picked)
        return [self.selected] if self.selected is not None else []


_VERBS = {"submit": "submitting", "cancel_run": "canceling", "clone": "cloning"}


def _writable(action: str, ctx: Context) -> str | None:
    if not ctx.read_only:
        return None
    verb = _VERBS.get(action, "this action")
    return f"{READ_ONLY_PREFIX}: {verb} is disabled (started with --read-only)"


def _selected(action: str, ctx: Context) -> str | None:
    if ctx.selected is not None:
        return None
    return NO_SELECTION if ctx.has_rows else NO_RUNS


def _targets(action: str, ctx: Context) -> str | None:
    return None if ctx.targets else _selected(action, ctx)


def _finished_word(row: RunRow) -> str:
    return "no longer exists" if row.gone else f"already {row.status_word}"


def _cancelable(action: str, ctx: Context) -> str | None:
    targets = ctx.targets
    if any(row.is_active for row in targets):
        return None
    if len(targets) == 1:
        row = targets[0]
        if row.left_queue:
            return "run is finishing: nothing to cancel"
        return f"run {_finished_word(row)}: nothing to cancel"
    return f"none of the {len(targets)} picked runs is queued or running: nothing to cancel"


def _has_output(action: str, ctx: Context) -> str | None:
    targets = ctx.targets
    if any(row.status == RunStatus.SUCCEEDED and not row.gone for row in targets):
        return None
    if len(targets) != 1:
        return f"none of the {len(targets)} picked runs succeeded: no output to save"
    row = targets[0]
    if row.gone:
        return "run no longer exists on the server: no output to save"
    if not row.is_final:
        return f"run is {row.status_word}: its output can be saved once it has succeeded"
    return f"run {row.status_word}: it has no output to save"


def _watchable(action: str, ctx: Context) -> str | None:
    row = ctx.selected
    if row is None or row.marked or not row.is_final:
        return None
    return f"run {_finished_word(row)}: nothing to wait for"


def _exists(action: str, ctx: Context) -> str | None:
    row = ctx.selected
    if row is not None and row.gone:
        return "run no longer exists on the server: its input is gone"
    return None


NEEDS: dict[str, Callable[[str, Context], str | None]] = {
    "writable": _writable,
    "selected": _selected,
    "targets": _targets,
    "cancelable": _cancelable,
    "has_output": _has_output,
    "watchable": _watchable,
    "exists": _exists,
}
"""Every need an action may list, checked in the order the action lists them."""


def why_not(action: str, needs: Sequence[str], ctx: Context) -> str | None:
    """The first unmet need's reason, or None when ``action`` can act."""
    for need in needs:
        reason = NEEDS[need](action, ctx)
        if reason is not None:
            return reason
    return None


def is_hidden(reason: str | None) -> bool:
    """Read-only mode hides a key from the footer; other reasons only dim it."""
    return reason is not None and reason.startswith(READ_ONLY_PREFIX)
