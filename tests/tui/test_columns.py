"""The column table: dropping by priority when narrow, cells and sort keys of the new
columns (queue position, priority, duration, objective, batch)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.columns import (
    BY_ID,
    CELL_PADDING,
    COLUMN_IDS,
    COLUMNS,
    CellContext,
    fit_columns,
    sort_key,
)
from nextmv_tui.tui.format import format_objective, short_duration
from nextmv_tui.tui.state import RunRow

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
WIDTHS = {c.id: c.width for c in COLUMNS}


def row(run_id: str = "r", status: RunStatus = RunStatus.SUCCEEDED, **kw: object) -> RunRow:
    return RunRow(run_id=run_id, app_id="app", status=status, status_since=T0,
                  created_at=T0 - timedelta(minutes=1), **kw)  # type: ignore[arg-type]


def need(ids: tuple[str, ...]) -> int:
    return sum(WIDTHS[i] + CELL_PADDING for i in ids)


def test_every_column_fits_a_wide_terminal() -> None:
    assert fit_columns(need(COLUMN_IDS), WIDTHS) == COLUMN_IDS


def test_columns_drop_by_priority_keeping_display_order() -> None:
    everything = need(COLUMN_IDS)
    one_less = fit_columns(everything - 1, WIDTHS)
    assert "version" not in one_less and "instance" in one_less, "rightmost of the lowest"
    for width in range(everything, 0, -7):
        shown = fit_columns(width, WIDTHS)
        assert [c for c in COLUMN_IDS if c in shown] == list(shown), "order never changes"
        dropped = [BY_ID[c].priority for c in COLUMN_IDS if c not in shown]
        kept = [BY_ID[c].priority for c in shown if BY_ID[c].priority > 1]
        assert not dropped or not kept or min(dropped) >= max(kept), (
            f"at {width}: a column of a higher priority went before a lower one")
        assert need(shown) <= width or all(BY_ID[c].priority == 1 for c in shown)


def test_the_essentials_stay_however_narrow() -> None:
    assert fit_columns(10, WIDTHS) == ("status", "id")
    assert fit_columns(0, WIDTHS) == ("status", "id")


def test_an_empty_hide_empty_column_is_not_shown() -> None:
    assert "batch" in fit_columns(1000, WIDTHS)
    assert "batch" not in fit_columns(1000, WIDTHS, empty={"batch"})
    assert "name" in fit_columns(1000, WIDTHS, empty={"name"}), "only hide_empty columns"


def test_duration_is_live_while_running_and_the_runs_figure_once_final() -> None:
    running = row(status=RunStatus.RUNNING)
    cell = BY_ID["duration"].cell
    assert cell(running, CellContext(T0 + timedelta(seconds=75), {})) == "1m15s"
    frozen = CellContext(T0 + timedelta(seconds=5), {}, stale=True)  # now = last good poll
    assert cell(running, frozen) == "5s"
    assert cell(row(duration_ms=420.0), CellContext(T0, {})) == "0.42s"
    assert cell(row(duration_ms=12_345.0), CellContext(T0, {})) == "12.3s"
    assert cell(row(status=RunStatus.QUEUED), CellContext(T0, {})) == ""


def test_position_objective_priority_and_batch_cells() -> None:
    queued = row("q", RunStatus.QUEUED, priority=3, batch_id="bx-42")
    ctx = CellContext(T0, {"q": 4})
    assert BY_ID["pos"].cell(queued, ctx) == "#4"
    assert BY_ID["pos"].cell(row("x"), ctx) == ""
    assert BY_ID["priority"].cell(queued, ctx) == "3"
    assert BY_ID["batch"].cell(queued, ctx) == "bx-42"
    assert BY_ID["objective"].cell(row(objective=8774.333), ctx) == "8774.33"
    assert BY_ID["objective"].cell(row(), ctx) == ""


def test_objective_and_duration_texts_stay_short() -> None:
    assert format_objective(118.0) == "118"
    assert format_objective(0.123456) == "0.1235"
    assert format_objective(-1234.5) == "-1234.50"
    assert format_objective(123456789.5) == "1.235e+08"
    assert format_objective(1e300) == "1e+300"
    assert format_objective(float("nan")) == ""
    assert format_objective(None) == ""
    assert all(len(format_objective(v)) <= 12 for v in (1e-300, -1e15, 9.99e11, 123456.789))
    assert short_duration(float("nan")) == "" and short_duration(-1) == ""
    assert short_duration(3725) == "1h02m"


def test_sort_keys_of_the_new_columns() -> None:
    rows = [row("a", objective=5.0), row("b"), row("c", objective=-1.0)]
    assert [r.run_id for r in sorted(rows, key=lambda r: sort_key(r, "objective"))] == [
        "c", "a", "b"], "known objectives ascending, unknown last"
    waiting = [row("late", RunStatus.QUEUED, priority=1),
               row("done"),
               row("early", RunStatus.QUEUED, priority=6)]
    waiting[0].created_at = T0
    order = [r.run_id for r in sorted(waiting, key=lambda r: sort_key(r, "pos"))]
    assert order == ["late", "early", "done"], "priority before age; others after"
    timed = [row("slow", duration_ms=9000.0), row("run", RunStatus.RUNNING),
             row("fast", duration_ms=10.0)]
    assert [r.run_id for r in sorted(timed, key=lambda r: sort_key(r, "duration"))] == [
        "fast", "slow", "run"]
    assert sort_key(row("z"), "no such column") == sort_key(row("z"), "status")
