"""Ask where to save a run's output; refuse paths that cannot work, ask before overwriting."""

from __future__ import annotations

import os
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


def check_destination(text: str) -> tuple[Path, str]:
    """Return ``(absolute path, problem)``; ``problem`` is "" when the path can be written.

    An existing file is not a problem here: the screen asks before overwriting it.
    """
    stripped = text.strip()
    if not stripped:
        return Path(), "type a file path"
    path = Path(stripped).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    try:
        if path.is_dir():
            return path, f"{path} is a directory: add a file name"
        parent = path.parent
        if not parent.is_dir():
            return path, f"folder {parent} does not exist"
        if not os.access(parent, os.W_OK):
            return path, f"folder {parent} is not writable"
        if path.exists() and not path.is_file():
            return path, f"{path} exists and is not a regular file"
    except OSError as error:
        return path, f"{path}: {error.strerror or error}"
    return path, ""


class SaveOutputScreen(ModalScreen[Path | None]):
    """Returns the absolute path to write, or None when canceled."""

    DEFAULT_CSS = """
    SaveOutputScreen {
        align: center middle;
    }
    SaveOutputScreen #save-dialog {
        width: 80;
        max-width: 96%;
        height: auto;
        border: thick $primary;
        border-title-style: bold;
        background: $surface;
        padding: 1 2 0 2;
    }
    SaveOutputScreen #save-message {
        height: auto;
        margin: 1 0 0 0;
    }
    SaveOutputScreen #save-message.-error {
        color: $text-error;
    }
    SaveOutputScreen #save-message.-warning {
        color: $text-warning;
    }
    SaveOutputScreen #save-buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    SaveOutputScreen #save-buttons Button {
        margin-left: 2;
    }
    """

    BINDINGS = [Binding("escape", "close", "Close", show=False)]

    def __init__(self, default_path: Path) -> None:
        super().__init__()
        self._default_path = default_path
        self._confirm_overwrite: Path | None = None
        self._message = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog") as dialog:
            dialog.border_title = "Save output"
            dialog.border_subtitle = "enter save · esc close"
            yield Label("Save the run's output to:")
            yield Input(str(self._default_path), id="save-path", select_on_focus=False)
            yield Static("", id="save-message", markup=False)
            with Horizontal(id="save-buttons"):
                yield Button("Close", id="save-close")
                yield Button("Save", id="save-go", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#save-path", Input).focus()

    @property
    def message_text(self) -> str:
        return self._message

    def _show(self, text: str, kind: str = "") -> None:
        self._message = text
        message = self.query_one("#save-message", Static)
        message.update(text)
        message.set_class(kind == "error", "-error")
        message.set_class(kind == "warning", "-warning")

    @on(Input.Changed, "#save-path")
    def _path_edited(self) -> None:
        if self._confirm_overwrite is not None:
            self._confirm_overwrite = None
            self.query_one("#save-go", Button).label = "Save"
            self._show("")

    @on(Input.Submitted, "#save-path")
    @on(Button.Pressed, "#save-go")
    def _save_requested(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        path, problem = check_destination(self.query_one("#save-path", Input).value)
        if problem:
            self._show(problem, "error")
            return
        if path.exists() and self._confirm_overwrite != path:
            self._confirm_overwrite = path
            self.query_one("#save-go", Button).label = "Overwrite"
            self._show(f"{path} exists: press enter or Overwrite to replace it.", "warning")
            return
        self.dismiss(path)

    @on(Button.Pressed, "#save-close")
    def action_close(self) -> None:
        self.dismiss(None)
