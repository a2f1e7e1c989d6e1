"""A run's statistics made readable, and its objective series made plottable (Textual-free).

Nextmv statistics (schema v1) nest ``run``, ``result`` (``value`` is the objective),
``result.custom`` and ``series_data`` (``value``: the objective over time as ``{name,
data_points: [{x, y}]}``, ``custom``: more series). ``statistics_rows`` turns any such
document into labelled rows, indented by depth, with full labels (a table cell would cut
``result.custom.activated_vehicles``), a series summarised (``48 points, 0 to 30 s, 6423 →
6201``) rather than ``[48 items]``. ``objective_series`` extracts the series for the plot.

Statistics come from the run, i.e. from anyone: every label and value is sanitized by the
caller's ``clean``; here numbers are checked (finite, not bool), sizes are bounded (rows,
points read, points plotted) and nothing raises on odd shapes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_ROWS = 60
"""Statistics rows shown; the rest is counted in a last row."""
MAX_POINTS_READ = 100_000
"""Points of a series looked at (a hostile run may report millions)."""
PLOT_POINTS = 400
"""Points handed to the plot at most (it has fewer columns than that)."""
_VALUE_WIDTH = 60


@dataclass(frozen=True)
class StatRow:
    depth: int
    label: str
    value: str
    """Empty for a section (a nested object)."""


@dataclass(frozen=True)
class Series:
    name: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    total: int
    """Points in the statistics (the plot may show fewer)."""

    def summary(self) -> str:
        if not self.xs:
            return f"{self.total} points, none numeric"
        first, last = self.ys[0], self.ys[-1]
        return (f"{self.total} points, {number(self.xs[0])} to {number(self.xs[-1])} s, "
                f"{number(first)} → {number(last)}")


def is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def number(value: float) -> str:
    """A statistic's number: integers as such, else up to 10 significant digits (the
    objective reads the same here as in the Objective row)."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def _scalar(value: Any) -> str:
    if is_number(value):
        return number(float(value))
    text = str(value)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def _list_text(value: list[Any]) -> str:
    numbers = [float(v) for v in value[:MAX_POINTS_READ] if is_number(v)]
    if numbers and len(numbers) == min(len(value), MAX_POINTS_READ):
        return f"{len(value)} values, {number(min(numbers))} to {number(max(numbers))}"
    return f"{len(value)} items"


def statistics_rows(stats: Any, limit: int = MAX_ROWS) -> list[StatRow]:
    """Rows for ``stats`` (a dict), depth-first in the document's order; series summarised;
    at most ``limit`` rows, the last one saying how many more there were."""
    rows: list[StatRow] = []
    hidden = 0

    def add(row: StatRow) -> None:
        nonlocal hidden
        if len(rows) < limit:
            rows.append(row)
        else:
            hidden += 1

    def walk(value: dict[Any, Any], depth: int) -> None:
        for key, sub in value.items():
            label = str(key)
            series = _series_of(label, sub)
            if series is not None:
                add(StatRow(depth, label, series.summary()))
            elif isinstance(sub, dict):
                add(StatRow(depth, label, "" if sub else "{}"))
                walk(sub, depth + 1)
            elif isinstance(sub, list):
                add(StatRow(depth, label, _list_text(sub)))
            else:
                add(StatRow(depth, label, _scalar(sub)))

    if isinstance(stats, dict):
        walk(stats, 0)
    if hidden:
        rows.append(StatRow(0, "…", f"{hidden} more"))
    return rows


def _series_of(label: str, value: Any, limit: int = PLOT_POINTS) -> Series | None:
    """A ``{name, data_points}`` object as a series (``None`` for anything else)."""
    if not isinstance(value, dict) or not isinstance(value.get("data_points"), list):
        return None
    points = value["data_points"]
    xs: list[float] = []
    ys: list[float] = []
    for index, point in enumerate(points[:MAX_POINTS_READ]):
        x, y = _point(point, index)
        if x is not None and y is not None:
            xs.append(x)
            ys.append(y)
    name = value.get("name")
    order = sorted(range(len(xs)), key=xs.__getitem__)  # x should rise; make sure
    xs, ys = [xs[i] for i in order], [ys[i] for i in order]
    xs, ys = downsample(xs, ys, limit)
    return Series(str(name) if isinstance(name, str) and name else label, tuple(xs),
                  tuple(ys), len(points))


def _point(point: Any, index: int) -> tuple[float | None, float | None]:
    x: Any
    y: Any
    if isinstance(point, dict):
        x, y = point.get("x", index), point.get("y")
    elif isinstance(point, (list, tuple)) and len(point) == 2:
        x, y = point
    else:
        x, y = index, point
    return (float(x) if is_number(x) else None, float(y) if is_number(y) else None)


def objective_series(stats: Any, limit: int = PLOT_POINTS) -> Series | None:
    """``series_data.value`` (the objective over time) when it has plottable points."""
    data = stats.get("series_data") if isinstance(stats, dict) else None
    value = data.get("value") if isinstance(data, dict) else None
    series = _series_of("value", value, limit)
    return series if series is not None and series.xs else None


def downsample(
    xs: Sequence[float], ys: Sequence[float], limit: int
) -> tuple[list[float], list[float]]:
    """At most ``limit`` points (``limit`` >= 4): per bucket of consecutive points its
    lowest and highest y, in x order, so spikes and the end points survive."""
    if len(xs) <= limit:
        return list(xs), list(ys)
    buckets = max(1, limit // 2)
    size = len(xs) / buckets
    out_x: list[float] = []
    out_y: list[float] = []
    for bucket in range(buckets):
        start, end = int(bucket * size), min(len(xs), int((bucket + 1) * size))
        if start >= end:
            continue
        low = min(range(start, end), key=ys.__getitem__)
        high = max(range(start, end), key=ys.__getitem__)
        for index in sorted({low, high}):
            out_x.append(xs[index])
            out_y.append(ys[index])
    if out_x[-1] != xs[-1] or out_y[-1] != ys[-1]:
        out_x[-1], out_y[-1] = xs[-1], ys[-1]  # the final value is the one that counts
    return out_x, out_y
