"""Confirmation before canceling a run: shows exactly which run, defaults to "keep".

The screen only returns the decision. The app acts on the run ID it captured when it opened
this screen, so a selection that moves meanwhile can never redirect the cancel.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from nextmv_tui.tui.format import clean


class ConfirmCancelScreen(ModalScreen[bool]):
    """``y`` (or the Cancel run button) confirms; ``n``/escape (or Keep) declines.

    Focus starts on the safe button, so a reflexive enter keeps the run.
    """

    BINDINGS = [
        Binding("y", "confirm", "Cancel the run", show=False),
        Binding("n,escape", "decline", "Keep the run", show=False),
    ]

    def __init__(self, run_id: str, app_id: str, name: str) -> None:
        super().__init__(classes="dialog-screen")
        self.run_id = run_id
        self.app_id = app_id
        self.run_name = name
        self._decided = False

    def compose(self) -> ComposeResult:
        details = Text()
        details.append("Cancel this run?\n\n", style="bold")
        for label, value in (
            ("Run ID", self.run_id),
            ("Name", self.run_name or "(no name)"),
            ("Application", self.app_id or "(unknown)"),
        ):
            details.append(f"{label:<13}", style="dim")
            details.append(f"{clean(value)}\n", style="bold" if label == "Run ID" else "")
        details.append("\nA running run is stopped; a queued run never starts.", style="dim")
        with Vertical(id="confirm-dialog", classes="dialog") as dialog:
            dialog.border_title = "Cancel run"
            dialog.border_subtitle = "y cancel it · n/esc keep it"
            yield Static(details, id="confirm-details")
            with Horizontal(id="confirm-buttons", classes="buttons"):
                yield Button("Keep run (n)", id="confirm-no", variant="primary")
                yield Button("Cancel run (y)", id="confirm-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        self._decide(True)

    @on(Button.Pressed, "#confirm-no")
    def action_decline(self) -> None:
        self._decide(False)

    def _decide(self, cancel: bool) -> None:
        """Dismiss once, even if keys arrive faster than the screen closes."""
        if not self._decided:
            self._decided = True
            self.dismiss(cancel)
