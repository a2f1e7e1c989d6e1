"""Confirmation before canceling runs: shows exactly which runs, defaults to "keep".

The screen only returns the decision. The app acts on the run IDs it captured when it opened
this screen, so a selection that moves meanwhile can never redirect the cancel. Several
runs (picked with space) are listed in one scrollable confirmation.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from nextmv_tui.tui.format import clean
from nextmv_tui.tui.screens.dialog import OnceModal

RunRef = tuple[str, str, str]
"""(run ID, application ID, name)."""


class ConfirmCancelScreen(OnceModal[bool]):
    """``y`` (or the Cancel button) confirms; ``n``/escape (or Keep) declines.

    Focus starts on the safe button, so a reflexive enter keeps the runs.
    """

    BINDINGS = [
        Binding("y", "confirm", "Cancel the run", show=False),
        Binding("n,escape", "decline", "Keep the run", show=False),
    ]
    AUTO_FOCUS = "#confirm-no"

    def __init__(
        self, run_id: str, app_id: str, name: str, *, others: Sequence[RunRef] = (),
        skipped: int = 0,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.run_id = run_id
        self.app_id = app_id
        self.run_name = name
        self.runs: list[RunRef] = [(run_id, app_id, name), *others]
        self.skipped = skipped
        self._decided = False

    def _single(self) -> Text:
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
        return details

    def _listing(self) -> Text:
        listing = Text()
        for index, (run_id, app_id, name) in enumerate(self.runs):
            if index:
                listing.append("\n")
            listing.append(clean(run_id), style="bold")
            listing.append(f"  {clean(app_id)}", style="dim")
            if name:
                listing.append(f"  {clean(name)}")
        return listing

    def compose(self) -> ComposeResult:
        many = len(self.runs) > 1
        with Vertical(id="confirm-dialog", classes="dialog") as dialog:
            dialog.border_title = f"Cancel {len(self.runs)} runs" if many else "Cancel run"
            dialog.border_subtitle = (
                "y cancel · n/esc keep" if many else "y cancel it · n/esc keep it"
            )
            if many:
                head = Text(f"Cancel these {len(self.runs)} runs?", style="bold")
                if self.skipped:
                    others = ("1 other picked run has" if self.skipped == 1
                              else f"{self.skipped} other picked runs have")
                    head.append(f"\n{others} finished and will be left alone.", style="dim")
                yield Static(head, id="confirm-details")
                with VerticalScroll(id="confirm-list"):
                    yield Static(self._listing(), id="confirm-runs")
                yield Static(Text("Running runs are stopped; queued runs never start.",
                                  style="dim"), id="confirm-note")
            else:
                yield Static(self._single(), id="confirm-details")
            with Horizontal(id="confirm-buttons", classes="buttons"):
                yield Button("Keep runs (n)" if many else "Keep run (n)", id="confirm-no",
                             variant="primary")
                yield Button(f"Cancel {len(self.runs)} runs (y)" if many else "Cancel run (y)",
                             id="confirm-yes", variant="error")

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
