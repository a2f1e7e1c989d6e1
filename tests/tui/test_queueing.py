"""Queue position: within the execution class, by priority, then age (as the service
schedules: ``store.next_queued`` orders by priority then insertion)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.queueing import queue_positions
from nextmv_tui.tui.state import RunRow

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def waiting(run_id: str, minutes: float, priority: int | None = None, klass: str = "local",
            status: RunStatus = RunStatus.QUEUED, **kw: object) -> RunRow:
    return RunRow(run_id=run_id, app_id="a", status=status, status_since=T0,
                  created_at=T0 + timedelta(minutes=minutes), priority=priority,
                  execution_class=klass, **kw)  # type: ignore[arg-type]


def test_priority_first_then_age_within_each_class() -> None:
    rows = [
        waiting("old-low", 0, 9), waiting("new-high", 5, 1), waiting("mid-default", 1),
        waiting("older-default", 0.5, 6), waiting("big-1", 3, 9, "big"),
        waiting("big-0", 4, 2, "big"),
    ]
    assert queue_positions(rows) == {
        "new-high": 1, "older-default": 2, "mid-default": 3, "old-low": 4,
        "big-0": 1, "big-1": 2,
    }


def test_only_runs_still_waiting_have_a_position() -> None:
    rows = [
        waiting("running", 0, status=RunStatus.RUNNING),
        waiting("done", 0, status=RunStatus.SUCCEEDED),
        waiting("left", 0, left_queue=True),
        waiting("gone", 0, gone=True),
        waiting("next", 1),
    ]
    assert queue_positions(rows) == {"next": 1}


def test_ties_are_broken_by_run_id_so_positions_never_flicker() -> None:
    rows = [waiting("b", 0), waiting("a", 0)]
    assert queue_positions(rows) == {"a": 1, "b": 2}
    assert queue_positions(list(reversed(rows))) == {"a": 1, "b": 2}
