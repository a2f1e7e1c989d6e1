"""Ask for a run ID to jump to (select it in the queue, or fetch it if it is not there)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from nextmv_tui.tui.screens.dialog import DialogScreen, MessageLine


class JumpScreen(DialogScreen[str | None]):
    """Returns the stripped run ID, or None when closed."""

    BINDINGS = [Binding("escape", "close", "Close", show=False)]
    AUTO_FOCUS = "#jump-run-id"

    def compose(self) -> ComposeResult:
        with Vertical(id="jump-dialog", classes="dialog") as dialog:
            dialog.border_title = "Jump to run"
            dialog.border_subtitle = "enter go · esc close"
            yield Label("Run ID:")
            yield Input(placeholder="e.g. latest-abc123", id="jump-run-id")
            yield MessageLine(id="jump-message")

    @on(Input.Submitted, "#jump-run-id")
    def _submitted(self, event: Input.Submitted) -> None:
        run_id = event.value.strip()
        if not run_id:
            self.show_message("Type a run ID.", "error")
        elif any(ch.isspace() for ch in run_id):
            self.show_message(f"'{run_id}' contains spaces: a run ID has none.", "error")
        else:
            self.dismiss(run_id)

    def action_close(self) -> None:
        self.dismiss(None)
