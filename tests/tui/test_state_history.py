"""RunStore and the run history: merging list items with queue snapshots and run
information, and keeping the store within the history's bounds plus what the session saw."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from nextmv_tui.cloud.models import Metadata, QueuedRun, RunInformation, RunSummary
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.state import HistoryBounds, RunStore

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def summary(run_id: str, status: str = "succeeded", minutes_ago: float = 1, app: str = "knap",
            objective: Any = None, **kw: Any) -> RunSummary:
    data: dict[str, Any] = {
        "id": run_id, "created_at": T0 - timedelta(minutes=minutes_ago),
        "application_id": app, "status_v2": status, "name": f"n {run_id}",
    }
    if objective is not None:
        data["statistics"] = {"status": "succeeded", "indicators": [
            {"name": "result.value", "value": objective}]}
    data.update(kw)
    return RunSummary.model_validate(data)


def queued(run_id: str, status: str = "queued", app: str = "knap",
           created: datetime = T0) -> QueuedRun:
    return QueuedRun.model_validate({"id": run_id, "created_at": created,
                                     "application_id": app, "status_v2": status})


def test_history_adds_finished_runs_with_results() -> None:
    store = RunStore()
    change = store.apply_history("knap", [
        summary("a", objective=118, duration=2500.0, execution_duration=2000.0,
                batch_experiment_id="bx-1"),
        summary("b", "failed"),
        summary("c", "running", status_changed_at=T0 - timedelta(seconds=20)),
    ], T0)
    assert change.added == ["a", "b", "c"] and not change.finished, "nothing to notify"
    a = store.rows["a"]
    assert (a.objective, a.duration_ms, a.batch_id, a.is_final) == (118.0, 2000.0, "bx-1", True)
    # without status_changed_at (Cloud), a finished run ended at created + duration
    assert a.status_since == a.created_at + timedelta(milliseconds=2500)
    assert store.rows["c"].status_since == T0 - timedelta(seconds=20)
    assert store.rows["c"].duration_ms is None, "only a final run has a final duration"


def test_the_queue_is_the_authority_on_runs_it_lists() -> None:
    store = RunStore()
    store.apply_queue([queued("q", "running")], store.begin_poll(), T0)
    store.apply_history("knap", [summary("q", "queued")], T0)  # an older listing
    assert store.rows["q"].status == RunStatus.RUNNING
    assert store.rows["q"].name == "n q", "what the queue did not say is filled in"
    assert not store.apply_history("knap", [summary("q", "queued")], T0).any
    change = store.apply_history("knap", [summary("q", "succeeded", objective=7)], T0)
    row = store.rows["q"]
    assert row.status == RunStatus.SUCCEEDED and not row.in_queue and row.objective == 7.0
    assert change.finished == ["q"], "a final state from the history notifies like any"
    # a lagging queue snapshot does not bring it back
    store.apply_queue([queued("q", "running")], store.begin_poll(), T0)
    assert store.rows["q"].status == RunStatus.SUCCEEDED


def test_history_only_active_runs_follow_the_listing_and_then_the_queue() -> None:
    store = RunStore()
    token = store.begin_poll()  # a poll in flight when the history answers
    store.apply_history("knap", [summary("h", "queued")], T0)
    store.apply_queue([], token, T0)
    assert store.rows["h"].status_word == "queued", "the older poll could not know it"
    store.apply_history("knap", [summary("h", "running")], T0)
    assert store.rows["h"].status == RunStatus.RUNNING
    store.apply_queue([], store.begin_poll(), T0)
    assert store.rows["h"].status_word == "finishing", "absent from a newer poll: left"
    assert [r.run_id for r in store.pending_final()] == ["h"]


def test_run_information_fills_objective_batch_and_duration() -> None:
    store = RunStore()
    store.apply_queue([queued("r", "running")], store.begin_poll(), T0)
    meta = Metadata.model_validate({
        "created_at": T0, "status_v2": "succeeded", "application_id": "knap",
        "duration": 3000, "execution_duration": 2800, "batch_experiment_id": "bx-9",
        "statistics": {"result": {"value": 42.5}}})
    change = store.apply_info(RunInformation(id="r", metadata=meta), T0)
    row = store.rows["r"]
    assert (row.objective, row.batch_id, row.duration_ms) == (42.5, "bx-9", 2800.0)
    assert change.changed == ["r"] and change.finished == ["r"]


def test_history_is_kept_within_its_bounds_per_application() -> None:
    store = RunStore(bounds=HistoryBounds(max_runs=3, max_age=3600))
    runs = [summary(f"k{i}", minutes_ago=i) for i in range(5)]
    change = store.apply_history("knap", runs, T0)
    assert sorted(change.removed) == ["k3", "k4"], "the oldest beyond max_runs"
    assert sorted(store.rows) == ["k0", "k1", "k2"]
    store.apply_history("rout", [summary("r0", app="rout", minutes_ago=90)], T0)
    assert "r0" not in store.rows, "older than max_age"
    store.apply_history("knap", [summary("k5", minutes_ago=0.5)], T0)
    assert sorted(store.rows) == ["k0", "k1", "k5"], "a new run pushes the oldest out"
    expired = store.expire_history(T0 + timedelta(minutes=59, seconds=15))
    assert sorted(expired.removed) == ["k1"], "aged out of max_age while the app was open"


def test_runs_the_session_saw_outlive_the_history_bounds() -> None:
    store = RunStore(bounds=HistoryBounds(max_runs=1, max_age=None))
    store.apply_queue([queued("seen", "running", created=T0 - timedelta(hours=1))],
                      store.begin_poll(), T0)
    store.apply_info(RunInformation(id="seen", metadata=Metadata.model_validate(
        {"created_at": T0 - timedelta(hours=1), "status_v2": "failed",
         "application_id": "knap"})), T0)
    store.selected = "picked"
    store.apply_history("knap", [summary("picked", minutes_ago=50)], T0)
    change = store.apply_history("knap", [
        summary("seen", "failed", minutes_ago=60), summary("new", minutes_ago=0),
        summary("old", minutes_ago=70)], T0)
    assert change.removed == ["old"]
    assert {"seen", "picked", "new"} <= set(store.rows), "seen finishing, selected: kept"


def test_session_eviction_keeps_runs_the_history_still_holds() -> None:
    store = RunStore(history_limit=1, bounds=HistoryBounds(max_runs=10, max_age=None))
    store.apply_history("knap", [summary("h", "running")], T0)
    store.apply_queue([queued("h", "running"), queued("x", "running")], store.begin_poll(), T0)
    for run_id in ("h", "x"):
        store.apply_info(RunInformation(id=run_id, metadata=Metadata.model_validate(
            {"created_at": T0, "status_v2": "succeeded", "application_id": "knap"})), T0)
    assert "h" in store.rows, "out of the session's 1, still in the history's 10"


def test_the_total_over_all_applications_is_bounded() -> None:
    store = RunStore(bounds=HistoryBounds(max_runs=100, max_age=None, max_total=5))
    for app in ("a", "b", "c"):
        store.apply_history(app, [summary(f"{app}{i}", app=app, minutes_ago=i + ord(app))
                                  for i in range(3)], T0)
    assert len(store.rows) == 5
    assert "c2" not in store.rows and "a0" in store.rows, "the oldest go first"


def test_queue_positions_follow_changes() -> None:
    store = RunStore()
    store.apply_queue([queued("a"), queued("b", "running")], store.begin_poll(), T0)
    assert store.positions == {"a": 1}
    store.apply_history("knap", [summary("h", "queued", minutes_ago=5)], T0)
    assert store.positions == {"h": 1, "a": 2}, "older, same priority: ahead"
    store.apply_queue([queued("b", "running")], store.begin_poll(), T0)
    assert store.positions == {}, "both left the queue: finishing, no position"
