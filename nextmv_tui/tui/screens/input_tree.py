"""The submit dialog's input picker: a directory tree of folders and likely run inputs, under
a line that shows where it is rooted, with a way up to the parent folder.

The tree is mounted after the dialog's first paint (it lists the folder in a thread): the
dialog and its text fields are usable at once, so keys typed while it opens land in a field.
The root is not an input to pick: selecting it neither sets the path (to ``.``) nor
collapses the tree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rich.text import TextType
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DirectoryTree, Label, Static
from textual.widgets.directory_tree import DirEntry
from textual.widgets.tree import TreeNode

from nextmv_tui.tui.format import clean

INPUT_SUFFIXES = (".json", ".txt", ".csv", ".tar.gz", ".tgz")
"""File endings offered in the picker; any path can still be typed in the path field."""

_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})


def is_likely_input(path: Path) -> bool:
    """True for a visible file whose name ends with one of ``INPUT_SUFFIXES``."""
    name = path.name.lower()
    return not name.startswith(".") and name.endswith(INPUT_SUFFIXES)


def display_dir(path: Path) -> str:
    """A folder as a user reads it: absolute, with the home folder as ``~``."""
    text = str(path)
    home = os.path.expanduser("~")
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        text = "~" + text[len(home):]
    return clean(text)


class InputTree(DirectoryTree):
    """Directories plus likely inputs; hidden entries and caches are left out.

    ``filter_paths`` runs in the tree's loader thread, so it only looks at names and
    ``is_dir`` (which never raises here). ``backspace`` re-roots the tree at the parent.
    """

    BINDINGS = [Binding("backspace", "parent", "Parent folder", show=False)]

    @dataclass
    class RootChanged(Message):
        path: Path

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        kept: list[Path] = []
        for path in paths:
            if path.name.startswith(".") or path.name in _SKIPPED_DIRS:
                continue
            if self._safe_is_dir(path) or is_likely_input(path):
                kept.append(path)
        return kept

    def on_mount(self) -> None:
        self.root.set_label(self._root_name())

    def _root_name(self) -> str:
        """The root shows its folder's name; the picker's head line shows the whole path."""
        path = Path(self.path)
        return clean(path.name or str(path))

    def reset_node(
        self, node: TreeNode[DirEntry], label: TextType, data: DirEntry | None = None
    ) -> InputTree:
        # DirectoryTree re-labels the root with str(path) when the path changes.
        return super().reset_node(node, self._root_name() if node is self.root else label, data)

    def _toggle_node(self, node: TreeNode[object]) -> None:  # type: ignore[override]
        # Tree's (private, Textual 8) expand/collapse on select: the root stays open.
        if node is not self.root:
            super()._toggle_node(node)  # type: ignore[arg-type]

    def action_parent(self) -> None:
        here = Path(self.path).expanduser().resolve()
        if here.parent != here:
            self.path = here.parent
            self.post_message(self.RootChanged(here.parent))

    def is_root(self, path: Path) -> bool:
        try:
            return path.resolve() == Path(self.path).expanduser().resolve()
        except OSError:
            return False


class InputPicker(Vertical):
    """Root line (``~/data/inputs``) with a parent button, then the tree (mounted late)."""

    @dataclass
    class Picked(Message):
        path: Path

    def __init__(self, root: Path, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.root_dir = root.expanduser().resolve()
        self.input_tree: InputTree | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="picker-head"):
            yield Button("↑ ..", id="picker-up", compact=True,
                         tooltip="parent folder (backspace in the tree)")
            yield Label(display_dir(self.root_dir), id="picker-root")
        yield Static("listing files…", id="picker-loading")

    def on_mount(self) -> None:
        self.call_after_refresh(self._mount_tree)

    async def _mount_tree(self) -> None:
        self.input_tree = InputTree(self.root_dir, id="submit-tree")
        await self.query_one("#picker-loading").remove()
        await self.mount(self.input_tree)

    @on(Button.Pressed, "#picker-up")
    def _up(self, event: Button.Pressed) -> None:
        event.stop()
        if self.input_tree is not None:
            self.input_tree.action_parent()

    @on(InputTree.RootChanged)
    def _root_changed(self, event: InputTree.RootChanged) -> None:
        self.root_dir = event.path
        self.query_one("#picker-root", Label).update(display_dir(event.path))

    @on(DirectoryTree.FileSelected)
    @on(DirectoryTree.DirectorySelected)
    def _picked(self, event: DirectoryTree.FileSelected | DirectoryTree.DirectorySelected) -> None:
        event.stop()
        if self.input_tree is not None and self.input_tree.is_root(event.path):
            return  # the root is where the tree is, not an input
        self.post_message(self.Picked(event.path))
