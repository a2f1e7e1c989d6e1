"""Ask where to save a run's output (or, for several picked runs, into which folder); refuse
paths that cannot work, ask before overwriting."""

from __future__ import annotations

import os
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from nextmv_tui.tui.screens.dialog import DialogScreen, MessageLine


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


def check_folder(text: str) -> tuple[Path, str]:
    """``(absolute folder, problem)`` for saving several outputs into one folder."""
    stripped = text.strip()
    path = Path(stripped or ".").expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    try:
        if not path.is_dir():
            return path, f"folder {path} does not exist"
        if not os.access(path, os.W_OK):
            return path, f"folder {path} is not writable"
    except OSError as error:
        return path, f"{path}: {error.strerror or error}"
    return path, ""


class SaveOutputScreen(DialogScreen[Path | None]):
    """Returns the absolute path to write (a folder when ``count`` runs are saved), or None
    when canceled."""

    BINDINGS = [Binding("escape", "close", "Close", show=False)]
    AUTO_FOCUS = "#save-path"

    def __init__(self, default_path: Path, count: int = 0) -> None:
        super().__init__()
        self._default_path = default_path
        self._count = count
        self._confirm_overwrite: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog", classes="dialog") as dialog:
            dialog.border_title = f"Save {self._count} outputs" if self._count else "Save output"
            dialog.border_subtitle = "enter save · esc close"
            yield Label(
                f"Save the outputs of {self._count} runs into the folder (one file per run):"
                if self._count else "Save the run's output to:"
            )
            yield Input(str(self._default_path), id="save-path", select_on_focus=False)
            yield MessageLine(id="save-message")
            with Horizontal(id="save-buttons", classes="buttons"):
                yield Button("Close", id="save-close")
                yield Button("Save", id="save-go", variant="primary")

    @on(Input.Changed, "#save-path")
    def _path_edited(self) -> None:
        if self._confirm_overwrite is not None:
            self._confirm_overwrite = None
            self.query_one("#save-go", Button).label = "Save"
            self.show_message("")

    @on(Input.Submitted, "#save-path")
    @on(Button.Pressed, "#save-go")
    def _save_requested(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        text = self.query_one("#save-path", Input).value
        if self._count:
            folder, problem = check_folder(text)
            if problem:
                self.show_message(problem, "error")
            else:
                self.dismiss(folder)
            return
        path, problem = check_destination(text)
        if problem:
            self.show_message(problem, "error")
            return
        if path.exists() and self._confirm_overwrite != path:
            self._confirm_overwrite = path
            self.query_one("#save-go", Button).label = "Overwrite"
            self.show_message(f"{path} exists: press enter or Overwrite to replace it.", "warning")
            return
        self.dismiss(path)

    @on(Button.Pressed, "#save-close")
    def action_close(self) -> None:
        self.dismiss(None)
