"""The objective plot on hostile and odd series: it never crashes the app, stays bounded,
follows the theme and sanitizes its title."""

from __future__ import annotations

import math

from textual.app import App, ComposeResult

from nextmv_tui.tui.statistics import Series, objective_series
from nextmv_tui.tui.widgets.objective_plot import ObjectivePlot, plottable


class PlotApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ObjectivePlot(id="plot")


def series(xs: list[float], ys: list[float], name: str = "best") -> Series:
    return Series(name, tuple(xs), tuple(ys), len(xs))


HOSTILE = [
    series([0.0], [5.0]),  # one point
    series([0.0, 1.0], [3.0, 3.0]),  # flat
    series([0.0, 1.0, 2.0], [1e308, -1e308, 0.0]),  # plotext's ticks overflow here
    series([0.0, 1e-320], [1e-320, 2e-320]),  # subnormal
    series([0.0, 1.0], [math.nan, math.inf]),  # nothing plottable
    series([float(i) for i in range(400)], [float(i % 7) for i in range(400)]),
    series([0.0, 1.0], [1.0, 2.0], "\x1b]2;PWNED\x07 [bold]x[/]"),
]


async def test_hostile_series_never_crash_and_titles_are_sanitized():
    app = PlotApp()
    async with app.run_test(size=(60, 20)) as pilot:
        plot = app.query_one(ObjectivePlot)
        for item in HOSTILE:
            plot.show(item)
            await pilot.pause()
            screen = app.export_screenshot()
            assert "\x1b]2;" not in screen and "\x07" not in screen
        assert "␛]2;PWNED␇" in app.export_screenshot(), "the title is shown, inert"
        plot.show(None)
        await pilot.pause()
        await pilot.resize_terminal(4, 3)  # too small to draw: a line of text, no crash
        plot.show(HOSTILE[0])
        await pilot.pause()


async def test_the_plot_follows_the_theme():
    app = PlotApp()
    async with app.run_test(size=(60, 20)) as pilot:
        plot = app.query_one(ObjectivePlot)
        plot.show(series([0.0, 1.0, 2.0], [3.0, 2.0, 1.0]))
        await pilot.pause()
        dark = app.export_screenshot()
        app.theme = "textual-light"
        await pilot.pause()
        assert app.export_screenshot() != dark


def test_plottable_drops_what_plotext_cannot_scale():
    xs, ys = plottable(series([0.0, 1.0, 2.0, 3.0], [1e308, 5.0, 1e-300, -2.0]))
    assert (xs, ys) == ([1.0, 2.0, 3.0], [5.0, 0.0, -2.0])


def test_a_series_from_statistics_is_bounded_before_it_reaches_the_plot():
    points = [{"x": i, "y": (i * 37) % 101} for i in range(200_000)]
    found = objective_series({"series_data": {"value": {"data_points": points}}})
    assert found is not None and len(found.xs) <= 400 and found.total == 200_000
