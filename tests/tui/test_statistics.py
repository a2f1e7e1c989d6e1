"""Statistics made readable and series made plottable, including hostile documents."""

from __future__ import annotations

import math

from rich.console import Console

from nextmv_tui.tui.format import statistics_table
from nextmv_tui.tui.statistics import (
    MAX_ROWS,
    PLOT_POINTS,
    StatRow,
    downsample,
    objective_series,
    statistics_rows,
)

ROUTING = {
    "schema": "v1",
    "run": {"duration": 30.2, "iterations": 34782},
    "result": {
        "value": 8774.33, "duration": 30.0,
        "custom": {"activated_vehicles": 3, "unplanned_stops": 0, "max_route_duration": 9.5},
    },
    "series_data": {"value": {"name": "best objective", "data_points": [
        {"x": float(i), "y": 9000.0 - i * 10} for i in range(48)]}},
}


def text_of(renderable: object, width: int = 60) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_rows_have_full_labels_by_depth_and_series_are_summarised() -> None:
    rows = statistics_rows(ROUTING)
    assert StatRow(2, "activated_vehicles", "3") in rows
    assert StatRow(1, "value", "8774.33") in rows
    assert StatRow(0, "result", "") in rows
    series = next(r for r in rows if r.label == "value" and r.depth == 1 and "points" in r.value)
    assert series.value == "48 points, 0 to 47 s, 9000 → 8530"
    shown = text_of(statistics_table(ROUTING))
    assert "activated_vehicles" in shown and "max_route_duration" in shown
    assert "…" not in shown and "[48 items]" not in shown


def test_hostile_statistics_never_raise_and_stay_bounded() -> None:
    hostile = {
        "nan": math.nan, "list": list(range(10**6)), "mixed": [1, "x", None],
        "deep": {"a": {"b": {"c": {"d": "x" * 10_000}}}},
        "series_data": {"value": {"name": 42, "data_points": [
            {"x": "soon", "y": 1}, {"x": 1, "y": math.inf}, {"x": 2, "y": True}, "junk",
            None, {"x": 3}, {"x": 4, "y": 7}, [5, 6]]}},
        **{f"k{i}": i for i in range(200)},
    }
    rows = statistics_rows(hostile)
    assert len(rows) == MAX_ROWS + 1 and rows[-1].label == "…"
    assert any(r.label == "list" and r.value.startswith("1000000 values") for r in rows)
    assert all(len(r.value) <= 80 for r in rows)
    series = objective_series(hostile)
    assert series is not None and series.xs == (4.0, 5.0) and series.ys == (7.0, 6.0)
    assert series.total == 8 and series.name == "value", "a non-string name is not used"
    assert statistics_rows(None) == [] and statistics_rows("text") == []
    assert statistics_rows({"series_data": {"value": {"data_points": []}}})[1].value.startswith(
        "0 points")


def test_objective_series_needs_numeric_points() -> None:
    assert objective_series(ROUTING) is not None
    assert objective_series({"series_data": {"value": {"data_points": [{"x": 1}]}}}) is None
    assert objective_series({"series_data": []}) is None
    assert objective_series({}) is None
    unordered = {"series_data": {"value": {"data_points": [{"x": 2, "y": 1}, {"x": 1, "y": 2}]}}}
    series = objective_series(unordered)
    assert series is not None and series.xs == (1.0, 2.0) and series.ys == (2.0, 1.0)


def test_downsample_is_bounded_keeps_the_extremes_and_the_last_point() -> None:
    xs = [float(i) for i in range(100_000)]
    ys = [float((i * 7919) % 1000) for i in range(100_000)]
    ys[50_000] = -5.0
    small_x, small_y = downsample(xs, ys, PLOT_POINTS)
    assert len(small_x) <= PLOT_POINTS
    assert small_x == sorted(small_x)
    assert -5.0 in small_y and max(small_y) == max(ys)
    assert (small_x[-1], small_y[-1]) == (xs[-1], ys[-1])
    assert downsample([1.0, 2.0], [3.0, 4.0], 10) == ([1.0, 2.0], [3.0, 4.0])
    long = {"series_data": {"value": {"data_points": [{"x": x, "y": y}
                                                      for x, y in zip(xs, ys, strict=True)]}}}
    series = objective_series(long)
    assert series is not None and len(series.xs) <= PLOT_POINTS and series.total == 100_000
