"""What every modal dialog shares: the feedback line and its text (for tests and scripts).

Dialogs are styled in ``app.tcss`` by one ``.dialog`` rule (frame, title, background) and
theme variables; a dialog screen only adds its own widths and rows there.
"""

from __future__ import annotations

from typing import Literal, TypeVar

from textual.screen import ModalScreen
from textual.widgets import Static

from nextmv_tui.tui.format import safe

Kind = Literal["error", "warning", "info", ""]
ResultType = TypeVar("ResultType")


class MessageLine(Static):
    """A dialog's one feedback line: an error, a warning, a status, or nothing."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, classes="message-line")
        self.text = ""

    def show(self, text: str, kind: Kind = "") -> None:
        self.text = text
        self.update(safe(text, multiline=True))
        for name in ("error", "warning", "info"):
            self.set_class(kind == name, f"-{name}")


class DialogScreen(ModalScreen[ResultType]):
    """A modal with a ``MessageLine``; ``message_text`` is what it currently says."""

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    @property
    def message_text(self) -> str:
        return self.query_one(MessageLine).text

    def show_message(self, text: str, kind: Kind = "") -> None:
        self.query_one(MessageLine).show(text, kind)
