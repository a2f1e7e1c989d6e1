"""QueueIndex (incremental queue positions) agrees with queue_positions after any sequence of
changes: runs queued, started, re-prioritised, moved between classes, gone."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.queueing import QueueIndex, queue_positions
from nextmv_tui.tui.state import RunRow

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def make(index: int, rng: random.Random) -> RunRow:
    return RunRow(
        run_id=f"r{index:04d}", app_id="a", status=rng.choice([RunStatus.QUEUED,
                                                                RunStatus.RUNNING]),
        status_since=T0, execution_class=rng.choice(["small", "large", ""]),
        created_at=T0 + timedelta(seconds=rng.randrange(50)),
        priority=rng.choice([None, 1, 3, 6, 9]),
    )


def test_incremental_positions_match_a_full_recount():
    rng = random.Random(14)
    rows = {row.run_id: row for row in (make(i, rng) for i in range(400))}
    index = QueueIndex()
    index.rebuild(rows.values())
    assert dict(index) == queue_positions(rows.values())
    for step in range(300):
        run_id = rng.choice(list(rows))
        row = rows[run_id]
        action = rng.randrange(5)
        if action == 0:
            row.status = RunStatus.RUNNING if row.status == RunStatus.QUEUED else RunStatus.QUEUED
        elif action == 1:
            row.priority = rng.choice([None, 1, 2, 6])
        elif action == 2:
            row.execution_class = rng.choice(["small", "large", "gpu"])
        elif action == 3:
            del rows[run_id]
            index.update(None, run_id)
            continue
        else:
            row.left_queue = not row.left_queue
        index.update(row, run_id)
        if step % 97 == 0:
            expected = queue_positions(rows.values())
            assert {k: index[k] for k in index} == expected
            assert index.waiting_in("small") == sum(
                1 for r in rows.values() if r.run_id in expected and r.execution_class == "small")
    assert {k: index[k] for k in index} == queue_positions(rows.values())
    assert index.get("nope") is None and "nope" not in index
