"""The filter's ``batch:ID`` word and a batch experiment's progress summary."""

from __future__ import annotations

from datetime import datetime, timezone

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.batches import RunFilter, batch_progress, parse_filter
from nextmv_tui.tui.state import RunRow, RunStore

T0 = datetime(2026, 1, 2, tzinfo=timezone.utc)


def run(run_id: str, status: RunStatus, batch: str = "bx-42", **kw: object) -> RunRow:
    return RunRow(run_id=run_id, app_id="routing", status=status, status_since=T0,
                  batch_id=batch, name=f"name {run_id}", **kw)  # type: ignore[arg-type]


def test_parse_filter() -> None:
    assert parse_filter("") == RunFilter()
    assert parse_filter("  Routing ") == RunFilter("routing")
    assert parse_filter("batch:BX-42") == RunFilter("", "bx-42")
    assert parse_filter("depot batch:bx-42 north") == RunFilter("depot north", "bx-42")
    assert parse_filter("batch:") == RunFilter("batch:"), "still typing: plain text"


def test_batch_progress_counts_by_state() -> None:
    rows = [run(f"s{i}", RunStatus.SUCCEEDED) for i in range(6)]
    rows += [run("f", RunStatus.FAILED), run("r", RunStatus.RUNNING),
             run("q1", RunStatus.QUEUED), run("q2", RunStatus.QUEUED),
             run("other", RunStatus.FAILED, batch="bx-7"), run("none", RunStatus.FAILED, "")]
    progress = batch_progress(rows, "BX-42")
    assert progress is not None
    assert progress.text() == "bx-42: 7/10 done, 1 failed, 1 running, 2 queued"
    assert batch_progress(rows, "nope") is None
    finishing = run("l", RunStatus.RUNNING, left_queue=True)
    gone = run("g", RunStatus.RUNNING, gone=True)
    summary = batch_progress([finishing, gone], "bx-42")
    assert summary is not None and summary.text() == "bx-42: 1/2 done, 1 running"


def test_the_store_filters_by_batch_and_text() -> None:
    store = RunStore()
    for item in (run("a", RunStatus.SUCCEEDED), run("b", RunStatus.FAILED, batch="bx-7"),
                 run("c", RunStatus.QUEUED, batch="")):
        store.rows[item.run_id] = item
    assert [r.run_id for r in store.visible("batch:bx-42")] == ["a"]
    assert [r.run_id for r in store.visible("batch:bx-7 name")] == ["b"]
    assert [r.run_id for r in store.visible("bx-")] == ["a", "b"], "the batch ID is text too"
    assert [r.run_id for r in store.visible("")] == ["a", "b", "c"]
