"""The ``/`` filter input: filters the queue live as the user types.

Enter keeps the filter and hands focus back to the table; Esc clears it. The bar only posts
messages; the app owns the filter text.
"""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    """Hidden until opened; every change is posted as ``FilterBar.Changed``."""

    BINDINGS = [Binding("escape", "clear_filter", "Clear filter", show=False)]

    class FilterChanged(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Done(Message):
        """Focus should go back to the table (Enter or Esc)."""

        def __init__(self, cleared: bool) -> None:
            super().__init__()
            self.cleared = cleared

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter: text in any column (Enter keeps, Esc clears)", id=id)

    def open(self, text: str) -> None:
        self.value = text
        self.display = True
        self.focus()
        self.cursor_position = len(text)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.FilterChanged(event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.value:
            self.display = False
        self.post_message(self.Done(cleared=False))

    def action_clear_filter(self) -> None:
        self.value = ""
        self.display = False
        self.post_message(self.FilterChanged(""))
        self.post_message(self.Done(cleared=True))
