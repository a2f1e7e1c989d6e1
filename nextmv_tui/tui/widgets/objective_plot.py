"""The objective over time of the selected run, plotted (textual-plotext on plotext).

Shown by the detail pane when the run's statistics carry ``series_data.value`` (Nextmv's
objective series). Bounded: the series arrives at most ``statistics.PLOT_POINTS`` long and
is thinned again to two points per column here; hostile data cannot crash it: values are
checked finite before they get here, values plotext cannot scale (beyond ``LIMIT``) are
left out, the title is sanitized, and a failure to draw shows a line of text instead.
Theme-aware: the background follows the app's theme (textual-plotext's "auto" theme) and
the line takes the theme's accent colour.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot

from nextmv_tui.tui.format import clean
from nextmv_tui.tui.statistics import Series, downsample

LIMIT = 1e15
"""Largest magnitude plotted: plotext's tick arithmetic overflows near 1e308."""
TINY = 1e-200
"""Smaller magnitudes are plotted as 0 (subnormal numbers overflow plotext too)."""


def plottable(series: Series) -> tuple[list[float], list[float]]:
    """The points plotext can draw (finite, within LIMIT; tiny values as 0)."""
    xs: list[float] = []
    ys: list[float] = []
    for x, y in zip(series.xs, series.ys, strict=False):
        if not (math.isfinite(x) and math.isfinite(y)) or abs(x) > LIMIT or abs(y) > LIMIT:
            continue
        xs.append(0.0 if abs(x) < TINY else x)
        ys.append(0.0 if abs(y) < TINY else y)
    return xs, ys


class ObjectivePlot(PlotextPlot):
    """A line plot of one ``Series``; ``show(None)`` clears it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._series: Series | None = None
        self._drawn: tuple[int, int, str] | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())

    @property
    def series(self) -> Series | None:
        return self._series

    def show(self, series: Series | None) -> None:
        if series == self._series:
            return
        self._series = series
        self._drawn = None
        self.refresh()

    def _redraw(self) -> None:
        self._drawn = None
        self.refresh()

    def _draw(self) -> None:
        """Hand the series to plotext for the current size and theme (once per change)."""
        width, height = self.size.width, self.size.height
        key = (width, height, self.app.theme)
        if key == self._drawn:
            return
        self._drawn = key
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        series = self._series
        if series is None:
            return
        xs, ys = plottable(series)
        xs, ys = downsample(xs, ys, max(4, 2 * width))
        if not xs:
            return
        accent = Color.parse(self.app.theme_variables.get("accent", "cyan")).rgb
        plt.plot(xs, ys, marker="braille", color=accent)
        plt.title(clean(series.name)[:40])
        plt.xlabel("seconds")

    def render(self) -> RenderResult:
        if self._series is None:
            return Text("")
        try:
            self._draw()
            return super().render()
        except Exception:  # plotext on odd data or a tiny size: say so, never crash
            return Text("(objective series cannot be plotted)", style="dim")
