"""What every modal dialog shares: the feedback line and its text (for tests and scripts).

Dialogs are styled in ``app.tcss`` by one ``.dialog`` rule (frame, title, background) and
theme variables; a dialog screen only adds its own widths and rows there.
"""

from __future__ import annotations

from typing import Literal, TypeVar

from textual.await_complete import AwaitComplete
from textual.binding import Binding
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


def size_classes(
    size: tuple[int, int],
    horizontal: list[tuple[int, str]] | None,
    vertical: list[tuple[int, str]] | None,
) -> dict[str, bool]:
    """The breakpoint classes for ``size`` (what Textual sets on the next resize)."""
    classes: dict[str, bool] = {}
    for pairs, value in ((horizontal or [], size[0]), (vertical or [], size[1])):
        reached = [name for threshold, name in pairs if value >= threshold]
        for _, name in pairs:
            classes[name] = bool(reached) and name == reached[-1]
    return classes


class OnceModal(ModalScreen[ResultType]):
    """A modal screen that is dismissed once. Keys typed fast reach it until it is gone: a
    second enter (or enter then escape) dismissed it again, which handed a second result to
    a caller that already had one (``InvalidStateError`` from a ``push_screen_wait``
    future: the monitor exited) and popped the screen under it too.

    What a dialog focuses first is its ``AUTO_FOCUS`` (Textual looks it up with ``query``
    when the screen is shown), never a ``query_one`` when mounted: a screen pushed just
    before the app exits (a key, then the terminal closed) is mounted after its children
    were removed, and ``query_one`` raised there and ended the monitor with a traceback."""

    _dismissed = False

    def dismiss(self, result: ResultType | None = None) -> AwaitComplete:
        if self._dismissed:
            return AwaitComplete()
        self._dismissed = True
        return super().dismiss(result)


class DialogScreen(OnceModal[ResultType]):
    """A modal with a ``MessageLine``; ``message_text`` is what it currently says.

    It starts with the app's breakpoint classes for the current size (Textual sets them on a
    resize only), so a dialog's first paint already has the layout of its terminal size.

    Tab and shift+tab are priority bindings here: the app moves focus when it reads the key,
    before it hands the keys typed after it to a widget. As Textual's plain screen bindings
    they waited for the focused field to pass the key back up, and in a fast burst
    ("path<tab>app", a paste) the keys after tab landed in the old field."""

    BINDINGS = [
        Binding("tab", "app.focus_next", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", show=False, priority=True),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        app = self.app
        for name, on in size_classes(
            app.size, app.HORIZONTAL_BREAKPOINTS, app.VERTICAL_BREAKPOINTS
        ).items():
            self.set_class(on, name)

    @property
    def message_text(self) -> str:
        return self.query_one(MessageLine).text

    def show_message(self, text: str, kind: Kind = "") -> None:
        """Nothing to show on a screen that is being taken down (see ``OnceModal``)."""
        for line in self.query(MessageLine):
            line.show(text, kind)
