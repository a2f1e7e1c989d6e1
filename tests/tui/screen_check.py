"""Read the screen as text (what an SVG snapshot shows) and check that known values appear
whole: never split mid-token across lines or cut without ``…``.

A value is checked word by word (a name may wrap at its spaces). At every place a line
starts with at least ``MIN_FRAGMENT`` characters of a word, the word must go on whole, or
stop at ``…`` (truncated on purpose), or go on with other letters (another word sharing a
prefix, like ``run-4b8d`` for ``run-7h3k``), or be covered by a dialog's frame. Stopping at a
space, a column border or the end of the line is a split: ``succee``, ``2026-11-2`` / ``8``,
``run-ay`` / ``cozlpk``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from rich.console import Console

MIN_FRAGMENT = 4
COVERED = frozenset("█▀▄▌▐▊▎▔▁")
"""A dialog's frame: text behind a modal is covered by it, not split."""


def screen_text(app: Any) -> list[str]:
    """The screen as plain lines, rendered like ``App.export_screenshot`` renders the SVG."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False,
                      safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    lines = console.export_text().splitlines()
    if len(lines) > height and not lines[0].strip():
        lines = lines[1:]  # the update over background screens starts with a line feed
    return lines[:height]


def _words(values: Iterable[str]) -> set[str]:
    return {w for v in values for w in v.split() if len(w) >= MIN_FRAGMENT and w[0].isalnum()}


def split_values(lines: list[str], values: Iterable[str]) -> list[str]:
    """Every place a known word is cut mid-token without ``…`` (empty: all whole)."""
    problems: list[str] = []
    for word in sorted(_words(values)):
        head = word[:MIN_FRAGMENT]
        for number, line in enumerate(lines):
            start = line.find(head)
            while start != -1:
                if start == 0 or not line[start - 1].isalnum():
                    problem = _check(line, start, word)
                    if problem:
                        problems.append(f"line {number + 1}: {problem}: {line.strip()!r}")
                start = line.find(head, start + 1)
    return problems


def _check(line: str, start: int, word: str) -> str:
    k = 0
    while k < len(word) and start + k < len(line) and line[start + k] == word[k]:
        k += 1
    if k == len(word):
        return ""
    following = line[start + k] if start + k < len(line) else ""
    if following == "…" or following.isalnum() or following in COVERED:
        return ""
    return f"{word!r} split after {line[start:start + k]!r}"
