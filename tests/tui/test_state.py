"""RunStore: queue diffing by run ID, final states, bounded history, selection, sorting."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from nextmv_tui.cloud.models import Metadata, QueuedRun, RunInformation
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.columns import sort_key, sort_mode
from nextmv_tui.tui.format import format_age
from nextmv_tui.tui.state import RunStore

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def queued(run_id: str, status: str = "queued", **kw: object) -> QueuedRun:
    data: dict[str, object] = {
        "id": run_id, "created_at": T0, "application_id": kw.pop("app", "knapsack"),
        "status_v2": status, "name": f"name {run_id}",
    }
    data.update(kw)
    return QueuedRun.model_validate(data)


def info(run_id: str, status: str, **meta: object) -> RunInformation:
    m: dict[str, object] = {"created_at": T0, "status_v2": status, "application_id": "knapsack"}
    m.update(meta)
    return RunInformation(id=run_id, metadata=Metadata.model_validate(m))


def test_diff_by_id_added_changed_left() -> None:
    store = RunStore()
    t1 = store.begin_poll()
    c1 = store.apply_queue([queued("a"), queued("b")], t1, T0)
    assert c1.added == ["a", "b"] and not c1.changed and not c1.left

    t2 = store.begin_poll()
    c2 = store.apply_queue([queued("a", "running"), queued("c")], t2, T0 + timedelta(seconds=2))
    assert c2.added == ["c"]
    assert set(c2.changed) == {"a", "b"}
    assert c2.left == ["b"]
    assert store.rows["b"].status_word == "finishing"
    assert [r.run_id for r in store.pending_final()] == ["b"]
    # the time in state restarts when the status changes (no server timestamp here)
    assert store.rows["a"].status_since == T0 + timedelta(seconds=2)

    t3 = store.begin_poll()
    c3 = store.apply_queue([queued("a", "running"), queued("c")], t3, T0 + timedelta(seconds=4))
    assert not c3.any, "an unchanged snapshot changes nothing"


def test_status_changed_at_from_server_wins_over_first_seen() -> None:
    store = RunStore()
    since = T0 - timedelta(minutes=5)
    store.apply_queue([queued("a", "running", status_changed_at=since)], store.begin_poll(), T0)
    assert store.rows["a"].status_since == since


def test_final_state_kept_and_not_regressed_by_lagging_snapshot() -> None:
    store = RunStore()
    store.apply_queue([queued("a", "running")], store.begin_poll(), T0)
    store.apply_queue([], store.begin_poll(), T0)
    change = store.apply_info(info("a", "failed", error="boom"), T0)
    assert change.finished == ["a"]
    row = store.rows["a"]
    assert row.status == RunStatus.FAILED and row.error == "boom" and row.is_final
    assert not store.pending_final()
    # a stale snapshot that still lists it as running does not resurrect it
    store.apply_queue([queued("a", "running")], store.begin_poll(), T0)
    assert store.rows["a"].status == RunStatus.FAILED


def test_history_is_bounded_and_evicts_oldest_finished() -> None:
    store = RunStore(history_limit=3)
    ids = [f"r{i}" for i in range(5)]
    store.apply_queue([queued(i, "running") for i in ids], store.begin_poll(), T0)
    store.selected = "r0"
    removed: list[str] = []
    for run_id in ids:
        removed += store.apply_info(info(run_id, "succeeded"), T0).removed
    assert removed == ["r0", "r1"]
    assert set(store.rows) == {"r2", "r3", "r4"}
    assert store.selected is None, "an evicted selection is dropped"


def test_submitted_run_not_marked_left_by_a_poll_started_before_it() -> None:
    store = RunStore()
    token = store.begin_poll()  # poll in flight...
    store.add_submitted("new", "knapsack", "mine", T0)  # ...when the user submits
    change = store.apply_queue([], token, T0)  # the old snapshot cannot know it
    assert "new" not in change.left and store.rows["new"].status == RunStatus.QUEUED
    later = store.apply_queue([], store.begin_poll(), T0)
    assert later.left == ["new"], "a later snapshot without it means it finished"


def test_unknown_status_and_gone_runs() -> None:
    store = RunStore()
    store.apply_queue([queued("a", "exploded")], store.begin_poll(), T0)
    assert store.rows["a"].status == RunStatus.UNKNOWN
    store.apply_queue([], store.begin_poll(), T0)
    store.fetching(["a"])
    change = store.mark_gone("a", "404: run a not found")
    assert change.finished == ["a"] and store.rows["a"].status_word == "gone"


def test_cancel_then_server_final_state_corrects_it() -> None:
    store = RunStore()
    store.apply_queue([queued("a", "running")], store.begin_poll(), T0)
    assert store.set_canceled("a", T0).finished == ["a"]
    assert store.rows["a"].status == RunStatus.CANCELED
    store.apply_info(info("a", "succeeded"), T0)
    status: RunStatus = store.rows["a"].status
    assert status == RunStatus.SUCCEEDED, "the server's final word wins"


def test_counts_filter_and_marks() -> None:
    store = RunStore()
    store.apply_queue(
        [queued("a", "running"), queued("b"), queued("c", app="routing", user_email="x@y.z")],
        store.begin_poll(), T0,
    )
    assert store.counts() == {"running": 1, "queued": 2}
    assert [r.run_id for r in store.visible("ROUTING")] == ["c"]
    assert [r.run_id for r in store.visible("x@y")] == ["c"]
    assert [r.run_id for r in store.visible("running")] == ["a"]
    assert len(store.visible("")) == 3
    assert store.toggle_mark("b") is True and store.rows["b"].marked
    assert store.toggle_mark("b") is False


def test_status_sort_puts_running_then_queue_order_then_recent_finished() -> None:
    store = RunStore()
    runs = [
        queued("q-low", queuing_priority=9, created_at=T0),
        queued("q-high-new", queuing_priority=1, created_at=T0 + timedelta(seconds=5)),
        queued("q-high-old", queuing_priority=1, created_at=T0),
        queued("run", "running"),
        queued("done-old", "running"),
        queued("done-new", "running"),
    ]
    store.apply_queue(runs, store.begin_poll(), T0)
    store.apply_info(info("done-old", "succeeded", status_changed_at=T0), T0)
    store.apply_info(
        info("done-new", "failed", status_changed_at=T0 + timedelta(seconds=9)), T0
    )
    order = sorted(store.rows.values(),
                   key=lambda r: sort_key(sort_mode("active"), r, T0, reverse=False))
    assert [r.run_id for r in order] == [
        "run", "q-high-old", "q-high-new", "q-low", "done-new", "done-old",
    ]
    by_name = sorted(store.rows.values(),
                     key=lambda r: sort_key(sort_mode("column:name"), r, T0, reverse=False))
    assert by_name[0].run_id == "done-new"


def test_format_age() -> None:
    assert format_age(-3) == "0s"
    assert format_age(59) == "59s"
    assert format_age(61) == "1m01s"
    assert format_age(25 * 60 + 7) == "25m"
    assert format_age(3600 + 5 * 60) == "1h05m"
    assert format_age(2 * 86400 + 3 * 3600) == "2d03h"


def test_a_large_snapshot_is_merged_in_steps_and_only_changed_entries_are_touched():
    """apply_queue_steps yields after every ``step`` entries (the app yields to the event
    loop there); a snapshot whose entries are known carries none and merges nothing."""
    from datetime import datetime, timezone

    from nextmv_tui.cloud.queue_reader import QueueReader
    from nextmv_tui.tui.state import RunStore

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    body = json.dumps({"runs": [
        {"id": f"r{i:05d}", "created_at": "2026-01-01T00:00:00Z", "status_v2": "queued",
         "application_id": "a"} for i in range(1000)]}).encode()
    reader, store = QueueReader(), RunStore()
    snapshot = reader.read(body)
    steps = list(store.apply_queue_steps(snapshot, store.begin_poll(), now, step=250))
    assert len(steps) == 4 + 4 + 1, ("four steps of 250 entries, four re-filing their "
                                      "queue positions, then the finished change")
    assert len(steps[-1].added) == 1000 and len(store) == 1000
    reader.commit(snapshot)
    again = reader.read(body)
    assert again.entries == {}
    steps = list(store.apply_queue_steps(again, store.begin_poll(), now, step=250))
    assert len(steps) == 1 and not steps[-1].any, "nothing to merge, nothing left"
    gone = json.dumps({"runs": []}).encode()
    change = store.apply_queue(reader.read(gone), store.begin_poll(), now)
    assert len(change.left) == 1000, "every run left, found without walking the rows"


def test_counts_kept_run_by_run_agree_with_a_recount():
    from collections import Counter
    from datetime import datetime, timezone

    from nextmv_tui.cloud.queue_reader import QueueReader
    from nextmv_tui.tui.state import COUNT_ORDER, RunStore

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def body(statuses: dict[int, str]) -> bytes:
        return json.dumps({"runs": [
            {"id": f"r{i:04d}", "created_at": "2026-01-01T00:00:00Z", "status_v2": status,
             "application_id": "a"} for i, status in statuses.items()]}).encode()

    def recount(store: RunStore) -> dict[str, int]:
        raw = Counter(row.status_word for row in store.rows.values())
        return {word: raw[word] for word in COUNT_ORDER if raw.get(word)}

    reader, store = QueueReader(), RunStore()
    rounds = [{i: "queued" for i in range(1500)},
              {i: ("running" if i % 3 else "queued") for i in range(1200)},
              {i: "running" for i in range(0, 1200, 2)}]
    for statuses in rounds:
        snapshot = reader.read(body(statuses))
        store.apply_queue(snapshot, store.begin_poll(), now)
        reader.commit(snapshot)
        assert store.counts() == recount(store)
    store.set_canceled("r0000", now)
    store.add_submitted("new-1", "a", "n", now)
    assert store.counts() == recount(store)
    store.reset()
    assert store.counts() == {}


def test_positions_and_counts_are_refiled_in_steps_and_agree_with_one_pass():
    """A refresh that changes 366 runs (266 start running, 100 leave) re-files their queue
    positions and counts 100 at a time (``_touch_steps``), after merging the 266 changed
    entries 100 at a time, and ends the same as applying the snapshot at once."""
    from nextmv_tui.cloud.queue_reader import QueueReader

    def body(statuses: dict[int, str]) -> bytes:
        return json.dumps({"runs": [
            {"id": f"r{i:04d}", "created_at": f"2026-01-01T00:{i // 60 % 60:02d}:"
             f"{i % 60:02d}Z", "status_v2": status, "application_id": "a"}
            for i, status in statuses.items()]}).encode()

    first = body({i: "queued" for i in range(900)})
    second = body({i: ("running" if i % 3 == 0 else "queued") for i in range(100, 900)})
    stores = []
    for step in (100, 0):
        reader, store = QueueReader(), RunStore()
        snapshot = reader.read(first)
        store.apply_queue(snapshot, store.begin_poll(), T0)
        reader.commit(snapshot)
        steps = list(store.apply_queue_steps(reader.read(second), store.begin_poll(), T0,
                                             step=step))
        change = steps[-1]
        assert len(change.changed) == 266 + 100 and len(change.left) == 100
        if step:
            assert len(steps) == 2 + 3 + 1, "266 merged, 366 re-filed, then the change"
        stores.append(store)
    sliced, whole = stores
    assert sliced.counts() == whole.counts()
    assert dict(sliced.positions.items()) == dict(whole.positions.items())
    assert sorted(r.run_id for r in sliced.pending_final()) == [f"r{i:04d}" for i in range(100)]


def test_pending_final_follows_runs_that_left_until_their_final_state():
    store = RunStore()
    store.apply_queue([queued("a"), queued("b"), queued("c")], store.begin_poll(), T0)
    store.apply_queue([queued("b")], store.begin_poll(), T0)
    assert sorted(r.run_id for r in store.pending_final()) == ["a", "c"]
    store.fetching(["a"])
    assert [r.run_id for r in store.pending_final()] == ["c"], "being fetched"
    store.apply_info(info("a", "succeeded"), T0)
    store.fetch_failed("c")
    assert [r.run_id for r in store.pending_final()] == ["c"], "retried after a failure"
    store.apply_queue([queued("b"), queued("c")], store.begin_poll(), T0)
    assert store.pending_final() == [], "c is back in the queue"
    store.apply_queue([], store.begin_poll(), T0)
    assert sorted(r.run_id for r in store.pending_final()) == ["b", "c"], "left again"
    store.reset()
    assert store.pending_final() == []
