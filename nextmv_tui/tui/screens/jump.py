"""Ask for a run ID to jump to (select it in the queue, or fetch it if it is not there)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class JumpScreen(ModalScreen[str | None]):
    """Returns the stripped run ID, or None when closed."""

    DEFAULT_CSS = """
    JumpScreen {
        align: center middle;
    }
    JumpScreen #jump-dialog {
        width: 64;
        max-width: 96%;
        height: auto;
        border: thick $primary;
        border-title-style: bold;
        background: $surface;
        padding: 1 2;
    }
    JumpScreen #jump-message {
        height: auto;
        color: $text-error;
    }
    """

    BINDINGS = [Binding("escape", "close", "Close", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self._message = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="jump-dialog") as dialog:
            dialog.border_title = "Jump to run"
            dialog.border_subtitle = "enter go · esc close"
            yield Label("Run ID:")
            yield Input(placeholder="e.g. latest-abc123", id="jump-run-id")
            yield Static("", id="jump-message", markup=False)

    def on_mount(self) -> None:
        self.query_one("#jump-run-id", Input).focus()

    @property
    def message_text(self) -> str:
        return self._message

    def _show(self, text: str) -> None:
        self._message = text
        self.query_one("#jump-message", Static).update(text)

    @on(Input.Submitted, "#jump-run-id")
    def _submitted(self, event: Input.Submitted) -> None:
        run_id = event.value.strip()
        if not run_id:
            self._show("Type a run ID.")
        elif any(ch.isspace() for ch in run_id):
            self._show(f"'{run_id}' contains spaces: a run ID has none.")
        else:
            self.dismiss(run_id)

    def action_close(self) -> None:
        self.dismiss(None)
