"""Sparklines of queued and running counts over the last minutes (Textual's Sparkline).

Fed by the screen from a ``trend.CountTrend``; styled in ``app.tcss`` with theme variables.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from nextmv_tui.tui.trend import CountTrend


class QueueTrend(Horizontal):
    """``queued ▁▂▅▇ 12  running ▃▃▅ 2``: the last five minutes, then the count now."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._queued_line = Sparkline([0], id="trend-queued")
        self._running_line = Sparkline([0], id="trend-running")
        self._queued_now = Static("", classes="trend-count")
        self._running_now = Static("", classes="trend-count")
        self._pending: tuple[list[int], list[int], int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static("queued", classes="trend-label")
        yield self._queued_line
        yield self._queued_now
        yield Static("running", classes="trend-label")
        yield self._running_line
        yield self._running_now

    def on_mount(self) -> None:
        if self._pending is not None:
            self._apply(*self._pending)

    def show(self, trend: CountTrend, queued: int, running: int) -> None:
        """Redraw from ``trend`` plus the current counts (the newest bar). The window is
        padded with zeros until it has filled, so a bar is always the same span of time
        (Sparkline stretches whatever data it has over its width)."""
        pad = [0] * (trend.size - len(trend.queued))
        self._pending = ([*pad, *trend.queued, queued], [*pad, *trend.running, running],
                         queued, running)
        if self.is_mounted:
            self._apply(*self._pending)

    def _apply(self, queued: list[int], running: list[int], now_q: int, now_r: int) -> None:
        self._queued_line.data = queued
        self._running_line.data = running
        _set_count(self._queued_now, str(now_q))
        _set_count(self._running_now, str(now_r))


def _set_count(label: Static, text: str) -> None:
    """A count is one line in a fixed-width cell (``.trend-count``): repaint it when it
    changed, never re-lay the screen out (``update``'s default did, on every refresh)."""
    if label.content != text:
        label.update(text, layout=False)
