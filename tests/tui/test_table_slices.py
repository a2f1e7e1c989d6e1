"""The queue table applies a large change in slices that yield to the event loop (issue 14),
asserted without timing: N x SLICE touched runs take N slices, other tasks run between
them, a key pressed in the middle moves the cursor, and the cursor stays on its run."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

from textual.app import App, ComposeResult

import nextmv_tui.tui
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.state import RunRow
from nextmv_tui.tui.widgets.queue_table import SLICE, QueueTable
from tests.tui.conftest import wait_until

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def make_rows(count: int) -> dict[str, RunRow]:
    return {
        f"run-{i:06d}": RunRow(f"run-{i:06d}", "app", RunStatus.QUEUED, T0,
                               created_at=T0 + timedelta(seconds=i), name=f"n{i}")
        for i in range(count)
    }


class TableApp(App[None]):
    CSS_PATH = str(Path(nextmv_tui.tui.__file__).with_name("app.tcss"))

    def __init__(self) -> None:
        super().__init__()
        self.synced = 0

    def compose(self) -> ComposeResult:
        yield QueueTable(id="queue")

    def on_queue_table_synced(self) -> None:
        self.synced += 1


async def test_a_large_change_is_applied_in_slices_that_yield():
    app = TableApp()
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.query_one(QueueTable)
        rows = make_rows(3 * SLICE)
        assert table.sync(rows, (), T0) is False, "first fill of 3 x SLICE runs: sliced"
        await wait_until(pilot, lambda: app.synced == 1, 10)
        assert table.slices == 3 and table.row_count == 3 * SLICE
        # every run changes: 3 slices again, and the loop runs between them
        ticks: list[int] = []

        async def ticker() -> None:
            while app.synced < 2:
                ticks.append(table.slices)
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        for row in rows.values():
            row.status = RunStatus.RUNNING
        assert table.sync(rows, list(rows), T0) is False
        await wait_until(pilot, lambda: app.synced == 2, 10)
        await task
        assert table.slices == 3
        assert {0, 1, 2} <= set(ticks), "another task ran before, between and after slices"


async def test_small_changes_are_applied_at_once():
    app = TableApp()
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.query_one(QueueTable)
        rows = make_rows(SLICE)
        assert table.sync(rows, (), T0) is True
        rows["run-000003"].status = RunStatus.RUNNING
        assert table.sync(rows, ["run-000003"], T0) is True
        assert table.get_row_index("run-000003") == 0, "running sorts first, at once"
        await pilot.pause()
        assert app.synced == 0


async def test_keys_move_the_cursor_during_a_sliced_sync_and_it_stays_on_its_run():
    app = TableApp()
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.query_one(QueueTable)
        table.focus()
        rows = make_rows(4 * SLICE)
        table.sync(rows, (), T0)
        await wait_until(pilot, lambda: app.synced == 1, 10)
        table.select_run("run-000010")
        # older runs start running: they move above the cursor's run, in slices
        for index in range(0, 4 * SLICE, 2):
            rows[f"run-{index:06d}"].status = RunStatus.RUNNING
        assert table.sync(rows, list(rows), T0) is False
        await pilot.press("down")
        await wait_until(pilot, lambda: app.synced == 2, 10)
        chosen = table.key_at_cursor()
        assert chosen is not None and chosen != "run-000010", "the key was not lost"
        assert table.get_row_index(chosen) == table.cursor_row


async def test_a_first_fill_of_thousands_of_runs_is_frozen_for_the_collector():
    """The sort keys a first fill makes live for the session: once the sliced fill is over
    they are frozen (``collector.settle``), so full collections stop walking them; a fill
    of a few hundred runs freezes nothing."""
    import gc

    from nextmv_tui.tui.collector import BULK

    app = TableApp()
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            table = app.query_one(QueueTable)
            gc.unfreeze()
            table.sync(make_rows(BULK + SLICE), (), T0)
            await wait_until(pilot, lambda: app.synced == 1, 10)
            assert gc.get_freeze_count() > 0
        gc.unfreeze()
        small = TableApp()
        async with small.run_test(size=(160, 40)) as pilot:
            small.query_one(QueueTable).sync(make_rows(2 * SLICE), (), T0)
            await wait_until(pilot, lambda: small.synced == 1, 10)
            assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
