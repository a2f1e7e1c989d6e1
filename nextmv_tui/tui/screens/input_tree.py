"""A directory tree that shows only folders and files that are likely run inputs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.widgets import DirectoryTree

INPUT_SUFFIXES = (".json", ".txt", ".csv", ".tar.gz", ".tgz")
"""File endings offered in the picker; any path can still be typed in the path field."""

_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})


def is_likely_input(path: Path) -> bool:
    """True for a visible file whose name ends with one of ``INPUT_SUFFIXES``."""
    name = path.name.lower()
    return not name.startswith(".") and name.endswith(INPUT_SUFFIXES)


class InputTree(DirectoryTree):
    """Directories plus likely inputs; hidden entries and caches are left out.

    ``filter_paths`` runs in the tree's loader thread, so it only looks at names and
    ``is_dir`` (which never raises here).
    """

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        kept: list[Path] = []
        for path in paths:
            if path.name.startswith(".") or path.name in _SKIPPED_DIRS:
                continue
            if self._safe_is_dir(path) or is_likely_input(path):
                kept.append(path)
        return kept
