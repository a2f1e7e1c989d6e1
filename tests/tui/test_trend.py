"""CountTrend: one sample per period, holding the period's peak."""

from __future__ import annotations

from nextmv_tui.tui.trend import CountTrend


def test_samples_hold_the_peak_of_their_period_and_the_window_is_bounded() -> None:
    trend = CountTrend(every=5.0, window=20.0)
    assert not trend.sample(0.0), "the first call opens the first period"
    trend.observe(3, 1)
    trend.observe(9, 0)  # a burst between two samples
    trend.observe(2, 2)
    assert not trend.sample(4.0)
    assert trend.sample(5.0)
    assert list(trend.queued) == [9] and list(trend.running) == [2]
    for second in range(10, 60, 5):
        trend.observe(second, 0)
        assert trend.sample(float(second))
    assert len(trend.queued) == trend.size == 4
    assert list(trend.queued) == [40, 45, 50, 55]


async def test_the_counts_repaint_without_a_new_layout(monkeypatch) -> None:
    """The counts sit in fixed-width cells: a new count repaints its cell and never asks
    Textual to lay the screen out again (it did on every refresh); an unchanged one does
    nothing."""
    from textual.app import App, ComposeResult
    from textual.widget import Widget

    from nextmv_tui.tui.widgets.queue_trend import QueueTrend

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield QueueTrend(id="trend")

    app = Host()
    async with app.run_test(size=(100, 10)) as pilot:
        view = app.query_one(QueueTrend)
        trend = CountTrend(every=5.0, window=20.0)
        view.show(trend, 3, 1)
        await pilot.pause()
        asked: list[tuple[str, bool]] = []
        original = Widget.refresh

        def spy(self: Widget, *regions: object, **kwargs: bool) -> Widget:
            asked.append((type(self).__name__, kwargs.get("layout", False)))
            return original(self, *regions, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Widget, "refresh", spy)
        view.show(trend, 12, 1)
        assert asked and not any(layout for _, layout in asked), asked
        asked.clear()
        view.show(trend, 12, 1)
        assert ("Static", False) not in asked, "an unchanged count is not repainted"
        assert str(view._queued_now.content) == "12"
