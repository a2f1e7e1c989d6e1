"""The footer: the most important keys first, ``?`` and ``q`` always visible.

Textual's ``Footer`` lists bindings in binding-chain order and cuts the line at the right
edge, so at 80 columns help and quit fell off. This bar is one line rendered from the
action table's entries (built by the screen): the pinned entries (rank 0: help, quit) sit at
the right end whatever the width, the others fill the room left in rank order, whole or not
at all. Keys that cannot act now are dimmed (pressing them says why). It re-renders when the
screen's bindings change (availability, keymap) and on resize; a click runs the key.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from rich.text import Text
from textual import events
from textual.widgets import Static

from nextmv_tui.tui.format import fit_by_priority

GAP = "  "


class KeyEntry(msgspec.Struct, frozen=True):
    key: str
    """Textual key name (what a click simulates)."""
    display: str
    """What the user presses, as shown: ``?``, ``space``."""
    label: str
    rank: int
    """0: pinned (always shown); then most important first."""
    dimmed: bool = False


def layout_keys(entries: list[KeyEntry], width: int) -> tuple[list[KeyEntry], list[KeyEntry]]:
    """``(left, pinned)``: the entries that fit in ``width`` cells, ranked, plus the pinned
    ones (shown even if nothing else fits)."""
    ranked = sorted(entries, key=lambda e: e.rank)
    pinned = [e for e in ranked if e.rank == 0]
    others = [e for e in ranked if e.rank > 0]
    sizes = [(0, _width(e)) for e in pinned] + [(e.rank, _width(e)) for e in others]
    kept = set(fit_by_priority(sizes, width, len(GAP)))
    left = [e for i, e in enumerate(others, start=len(pinned)) if i in kept]
    return left, pinned


def _width(entry: KeyEntry) -> int:
    return Text(f"{entry.display} {entry.label}").cell_len


class KeyBar(Static):
    """One line of ``key label`` pairs from ``entries()``."""

    def __init__(self, entries: Callable[[], list[KeyEntry]], *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._entries = entries
        self._spans: list[tuple[int, int, str]] = []
        self._last = ""
        self._signature: tuple[object, ...] = ()
        self.shown: list[KeyEntry] = []
        """The entries on screen now, in order."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda _screen: self.refresh_keys())
        self.refresh_keys()

    def on_resize(self) -> None:
        self.refresh_keys()

    def refresh_keys(self) -> None:
        width = max(1, (self.size.width or 80) - 1)
        left, pinned = layout_keys(self._entries(), width)
        text = Text(" ")
        spans: list[tuple[int, int, str]] = []
        for index, entry in enumerate(left):
            if index:
                text.append(GAP)
            self._append(text, entry, spans)
        right = Text()
        right_spans: list[tuple[int, int, str]] = []
        for index, entry in enumerate(pinned):
            if index:
                right.append(GAP)
            self._append(right, entry, right_spans)
        pad = max(len(GAP) if left else 0, width + 1 - text.cell_len - right.cell_len)
        offset = text.cell_len + pad
        text.append(" " * pad)
        text.append_text(right)
        spans += [(start + offset, end + offset, key) for start, end, key in right_spans]
        self._spans = spans
        self.shown = [*left, *pinned]
        signature = (text.plain, tuple(e.dimmed for e in self.shown))
        if signature != self._signature:  # a key dims or brightens without any text change
            self._signature = signature
            self._last = text.plain
            self.update(text, layout=False)

    @staticmethod
    def _append(text: Text, entry: KeyEntry, spans: list[tuple[int, int, str]]) -> None:
        start = text.cell_len
        style = "dim" if entry.dimmed else ""
        text.append(entry.display, style=f"bold {style}".strip())
        text.append(f" {entry.label}", style=style)
        spans.append((start, text.cell_len, entry.key))

    @property
    def plain(self) -> str:
        return self._last

    async def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                await self.app.run_action(f"simulate_key({key!r})")
                return
