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
