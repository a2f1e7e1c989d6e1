"""TableModel: the table's order kept run by run agrees with sorting everything again, after
any mix of changes, additions, removals and filter misses; widths grow from changed rows."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.state import RunRow
from nextmv_tui.tui.table_model import TableModel

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
STATUSES = [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.SUCCEEDED]


def key(row: RunRow) -> tuple[object, ...]:
    return (row.status.value, row.name, row.run_id)


def cells(row: RunRow) -> tuple[str, ...]:
    return (row.status.value, row.run_id, row.name)


def shown(row: RunRow) -> bool:
    return "x" not in row.name


def expected(rows: dict[str, RunRow], reverse: bool) -> list[str]:
    wanted = sorted((r for r in rows.values() if shown(r)), key=key, reverse=reverse)
    return [r.run_id for r in wanted]


def test_incremental_order_matches_a_full_sort():
    rng = random.Random(9)
    for reverse in (False, True):
        rows = {f"r{i:04d}": RunRow(f"r{i:04d}", "a", rng.choice(STATUSES), T0,
                                    name=rng.choice("abcx"))
                for i in range(300)}
        model = TableModel(key, shown, cells, 3, reverse=reverse)
        model.rebuild(list(rows.values()))
        assert model.ids() == expected(rows, reverse)
        for _ in range(40):
            touched = rng.sample(sorted(rows), 15)
            for run_id in touched[:10]:
                rows[run_id].status = rng.choice(STATUSES)
                rows[run_id].name = rng.choice("abcx")
            for run_id in touched[10:13]:
                del rows[run_id]
            new = [f"n{rng.randrange(10**6):07d}" for _ in range(2)]
            for run_id in new:
                rows[run_id] = RunRow(run_id, "a", RunStatus.QUEUED, T0, name="b")
            model.update([*touched, *new], rows)
            order = expected(rows, reverse)
            assert model.ids() == order
            assert len(model) == len(order)
            for index in (0, len(order) // 2, len(order) - 1):
                assert model.key_at(index) == order[index]
                assert model.index_of(order[index]) == index
        assert model.index_of("missing") is None and model.key_at(len(order)) is None


def test_widths_grow_from_changed_rows_and_reset_on_rebuild():
    rows = {"r1": RunRow("r1", "a", RunStatus.QUEUED, T0, name="short")}
    model = TableModel(key, shown, cells, 3)
    model.rebuild(list(rows.values()))
    assert model.widths == [6, 2, 5]
    rows["r1"].name = "a much longer name"
    model.widths_changed = False
    model.update(["r1"], rows)
    assert model.widths[2] == len("a much longer name") and model.widths_changed
    rows["r1"].name = "tiny"
    model.rebuild(list(rows.values()))
    assert model.widths[2] == 4
