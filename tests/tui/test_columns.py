"""Columns and sort modes as data (``tui/columns.py``) and why-not reasons
(``tui/availability.py``): pure, no terminal."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from nextmv_tui.cloud.models import objective_of
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui import actions
from nextmv_tui.tui.availability import NEEDS, Context, is_hidden, why_not
from nextmv_tui.tui.columns import (
    BY_KEY,
    COLUMNS,
    SORT_MODES,
    CellContext,
    cell_text,
    header_sort,
    next_sort,
    sort_key,
    sort_mode,
)
from nextmv_tui.tui.format import format_objective, short_duration
from nextmv_tui.tui.state import RunRow

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def row(run_id: str, status: str = "queued", *, created: float = 0, since: float = 0,
        **fields: object) -> RunRow:
    return RunRow(
        run_id=run_id, app_id=str(fields.pop("app_id", "knapsack")),
        status=RunStatus(status), status_since=NOW - timedelta(minutes=since),
        created_at=NOW - timedelta(minutes=created), **fields,  # type: ignore[arg-type]
    )


def ordered(mode_id: str, rows: list[RunRow], reverse: bool = False) -> list[str]:
    mode = sort_mode(mode_id)
    return [r.run_id for r in sorted(rows, key=lambda r: sort_key(mode, r, NOW, reverse))]


def test_every_column_declares_a_priority_and_widths() -> None:
    assert [c.key for c in COLUMNS][:2] == ["status", "id"]
    for column in COLUMNS:
        assert column.priority >= 0 and 0 < column.min_width <= column.max_width, column.key
    always = {c.key for c in COLUMNS if c.priority == 0}
    assert always == {"status", "id"}
    assert BY_KEY["created"].ticking and BY_KEY["in_state"].ticking


def test_status_cell_marks_picked_watched_and_unsure_rows() -> None:
    r = row("a", "running", picked=True, marked=True)
    assert cell_text(BY_KEY["status"], r, CellContext(NOW)) == "✓▶ running*"
    assert cell_text(BY_KEY["status"], r, CellContext(NOW, stale=True)) == "✓▶ running*?"
    plain = row("b", "succeeded")
    assert cell_text(BY_KEY["status"], plain, CellContext(NOW, stale=True)) == " ✔ succeeded"


def test_cells_are_cut_with_an_ellipsis_at_their_maximum_width() -> None:
    long_name = row("a", name="a very long run name that goes on and on")
    text = cell_text(BY_KEY["name"], long_name, CellContext(NOW))
    assert len(text) == BY_KEY["name"].max_width and text.endswith("…")
    hostile = row("b", name="\x1b]2;owned\x07")
    assert "\x1b" not in cell_text(BY_KEY["name"], hostile, CellContext(NOW))


def test_the_sort_cycle_is_short_and_in_users_words() -> None:
    labels = [mode.label for mode in SORT_MODES]
    assert labels == ["active first", "newest first", "next to run", "longest first",
                      "objective", "application"]
    ids = [mode.id for mode in SORT_MODES]
    assert [next_sort(i) for i in ids] == [*ids[1:], ids[0]]
    assert next_sort("column:name") == "active", "from a header sort back to the cycle"
    assert "in_state" not in labels and "id" not in ids


def test_header_clicks_map_to_modes_or_to_the_columns_text() -> None:
    assert header_sort("status") == "active"
    assert header_sort("created") == "newest"
    assert header_sort("app") == "application"
    assert header_sort("name") == "column:name"
    assert sort_mode("column:name").label == "name"
    assert sort_mode("no-such-mode").id == "active"


def test_active_first_then_queue_order_then_most_recently_finished() -> None:
    rows = [
        row("q-low", priority=9, created=10), row("q-high-new", priority=1, created=1),
        row("q-high-old", priority=1, created=5), row("run", "running", created=3),
        row("done-old", "succeeded", since=30), row("done-new", "failed", since=2),
    ]
    assert ordered("active", rows) == [
        "run", "q-high-old", "q-high-new", "q-low", "done-new", "done-old",
    ]


def test_newest_first_and_its_reverse() -> None:
    rows = [row("old", created=30), row("new", created=1), row("mid", created=10)]
    assert ordered("newest", rows) == ["new", "mid", "old"]
    assert ordered("newest", rows, reverse=True) == ["old", "mid", "new"]


def test_next_to_run_follows_the_services_order() -> None:
    rows = [
        row("done", "succeeded", created=50), row("running", "running", created=40),
        row("p9-old", priority=9, created=30), row("p1-new", priority=1, created=1),
        row("p1-old", priority=1, created=20),
    ]
    assert ordered("position", rows) == ["p1-old", "p1-new", "p9-old", "running", "done"]


def test_longest_first_counts_running_runs_to_now_and_queued_last() -> None:
    rows = [
        row("short", "succeeded", created=10, since=9),      # 1 min
        row("long", "failed", created=60, since=20),         # 40 min
        row("running", "running", created=15, since=14),     # 15 min so far
        row("queued", created=100),                          # not started: last
    ]
    assert ordered("duration", rows) == ["long", "running", "short", "queued"]
    assert ordered("duration", rows, reverse=True) == ["short", "running", "long", "queued"]


@pytest.mark.parametrize("reverse", [False, True])
def test_objective_unknown_sorts_last_in_both_directions(reverse: bool) -> None:
    rows = [row("none-1"), row("low", objective=1.5), row("none-2"), row("high", objective=9.0)]
    order = ordered("objective", rows, reverse)
    assert order[:2] == (["high", "low"] if reverse else ["low", "high"])
    assert set(order[2:]) == {"none-1", "none-2"}


def test_application_then_newest() -> None:
    rows = [row("r-old", app_id="routing", created=9), row("k", app_id="Knapsack", created=5),
            row("r-new", app_id="routing", created=1)]
    assert ordered("application", rows) == ["k", "r-new", "r-old"]
    assert ordered("application", rows, reverse=True) == ["r-old", "r-new", "k"]


def test_objective_of_reads_result_value_only_when_a_finite_number() -> None:
    assert objective_of({"result": {"value": 118}}) == 118.0
    assert objective_of({"result": {"value": "118"}}) is None
    assert objective_of({"result": {"value": True}}) is None
    assert objective_of({"result": {"value": float("nan")}}) is None
    assert objective_of(None) is None and objective_of({"result": 3}) is None


# --- why an action cannot act ------------------------------------------------------------


def ctx(selected: RunRow | None = None, picked: tuple[RunRow, ...] = (), **kw: object) -> Context:
    return Context(read_only=bool(kw.get("read_only", False)), selected=selected,
                   picked=picked, has_rows=bool(kw.get("has_rows", True)))


def reason(action: str, context: Context) -> str | None:
    return why_not(action, actions.BY_ID[action].needs, context)


def test_every_need_of_the_action_table_exists() -> None:
    for action in actions.ACTIONS:
        assert set(action.needs) <= set(NEEDS), action.id


def test_cancel_reasons() -> None:
    done = row("a", "succeeded")
    assert reason("cancel_run", ctx(done)) == "run already succeeded: nothing to cancel"
    assert reason("cancel_run", ctx(row("b", "running"))) is None
    gone = row("c", "running", gone=True)
    assert reason("cancel_run", ctx(gone)) == "run no longer exists: nothing to cancel"
    assert reason("cancel_run", ctx(None)) == "no run selected — use ↑/↓ to choose one"
    assert reason("cancel_run", ctx(None, has_rows=False)) == "no runs yet — press s to submit one"
    ro = reason("cancel_run", ctx(row("d", "running"), read_only=True))
    assert ro == "read-only mode: canceling is disabled (started with --read-only)"
    assert is_hidden(ro) and not is_hidden(reason("cancel_run", ctx(done)))


def test_bulk_reasons_look_at_the_picked_runs_not_the_selected_one() -> None:
    finished = (row("a", "succeeded"), row("b", "failed"))
    running = row("c", "running")
    assert reason("cancel_run", ctx(running, finished)) == (
        "none of the 2 picked runs is queued or running: nothing to cancel"
    )
    assert reason("cancel_run", ctx(None, (*finished, running))) is None
    assert reason("save_output", ctx(None, (row("x", "failed"), row("y", "running")))) == (
        "none of the 2 picked runs succeeded: no output to save"
    )
    assert reason("copy_run_id", ctx(None, finished)) is None


def test_save_output_reasons() -> None:
    assert reason("save_output", ctx(row("a", "failed"))) == "run failed: it has no output to save"
    assert reason("save_output", ctx(row("a", "running"))) == (
        "run is running: its output can be saved once it has succeeded"
    )
    assert reason("save_output", ctx(row("a", "succeeded"))) is None


def test_submit_clone_mark_pick_reasons() -> None:
    assert reason("submit", ctx(None)) is None
    assert reason("submit", ctx(None, read_only=True)).startswith("read-only mode: submitting")
    assert reason("clone", ctx(row("a", "succeeded", gone=True))) == (
        "run no longer exists on the server: its input is gone"
    )
    assert reason("mark", ctx(row("a", "succeeded"))) == (
        "run already succeeded: nothing to wait for"
    )
    assert reason("mark", ctx(row("a", "succeeded", marked=True))) is None, "can unmark"
    assert reason("pick", ctx(None)) == "no run selected — use ↑/↓ to choose one"
    assert reason("zoom", ctx(None)) is None and reason("jump", ctx(None)) is None


# --- the history's columns: queue position, priority, duration, objective, batch --------------

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def done(run_id: str = "r", status: RunStatus = RunStatus.SUCCEEDED, **kw: object) -> RunRow:
    return RunRow(run_id=run_id, app_id="app", status=status, status_since=T0,
                  created_at=T0 - timedelta(minutes=1), **kw)  # type: ignore[arg-type]


def test_duration_is_live_while_running_and_the_runs_figure_once_final() -> None:
    running = done(status=RunStatus.RUNNING)
    cell = BY_KEY["duration"].cell
    assert cell(running, CellContext(T0 + timedelta(seconds=75))) == "1m15s"
    frozen = CellContext(T0 + timedelta(seconds=5), stale=True)  # now = last good poll
    assert cell(running, frozen) == "5s"
    assert cell(done(duration_ms=420.0), CellContext(T0)) == "0.42s"
    assert cell(done(duration_ms=12_345.0), CellContext(T0)) == "12.3s"
    assert cell(done(status=RunStatus.QUEUED), CellContext(T0)) == ""


def test_position_objective_priority_and_batch_cells() -> None:
    queued = done("q", RunStatus.QUEUED, priority=3, batch_id="bx-42")
    ctx = CellContext(T0, positions={"q": 4})
    assert BY_KEY["pos"].cell(queued, ctx) == "#4"
    assert BY_KEY["pos"].cell(done("x"), ctx) == ""
    assert BY_KEY["priority"].cell(queued, ctx) == "3"
    assert BY_KEY["batch"].cell(queued, ctx) == "bx-42"
    assert BY_KEY["objective"].cell(done(objective=8774.333), ctx) == "8774.33"
    assert BY_KEY["objective"].cell(done(), ctx) == ""
    assert BY_KEY["batch"].hide_empty and not BY_KEY["name"].hide_empty


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


def test_next_to_run_and_longest_first_use_the_schedule_and_the_runs_figures() -> None:
    waiting = [done("late", RunStatus.QUEUED, priority=1),
               done("done"),
               done("early", RunStatus.QUEUED, priority=6)]
    waiting[0].created_at = T0
    order = [r.run_id for r in sorted(waiting, key=lambda r: sort_key(
        sort_mode("position"), r, T0, False))]
    assert order == ["late", "early", "done"], "priority before age; others after"
    timed = [done("slow", duration_ms=9000.0), done("waiting", RunStatus.QUEUED),
             done("fast", duration_ms=10.0)]
    for reverse in (False, True):
        order = [r.run_id for r in sorted(timed, key=lambda r: sort_key(
            sort_mode("duration"), r, T0, reverse))]
        assert order[-1] == "waiting", "no duration yet: last both ways"
    assert [r.run_id for r in sorted(timed, key=lambda r: sort_key(
        sort_mode("duration"), r, T0, False))][:2] == ["slow", "fast"]
