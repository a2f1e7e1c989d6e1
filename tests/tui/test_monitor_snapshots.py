"""SVG snapshots of the main screen with deterministic data.

Determinism: a fixed wall clock and monotonic clock (relative times and data age never move)
and the constant ``FixedApi`` transport (see its docstring for why a fake is used here).
Update with ``pytest tests/tui/test_monitor_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import httpx

from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.history import HistoryOptions
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.app import NextmvTuiApp, make_app
from nextmv_tui.tui.settings import Settings
from tests.tui.conftest import wait_until
from tests.tui.fixed_api import NOW, FixedApi

SIZE = (150, 42)


def fixed_app(**kwargs) -> NextmvTuiApp:
    config = ClientConfig(endpoint="https://api.cloud.nextmv.io", api_key="k",
                          profile="production", source="~/.nextmv/config.yaml")
    settings = Settings(
        config=config, refresh=2.0, clock=lambda: NOW, monotonic=lambda: 1000.0,
        transport=httpx.MockTransport(FixedApi()),
        # No age bound: the fixed data's times must not be judged by the real clock.
        history=HistoryOptions(max_age=None), **kwargs,
    )
    return make_app(settings)


async def settled(pilot, app: NextmvTuiApp, run_id: str | None = None) -> None:
    """Both polls done, every final state fetched, the history loaded, the detail pane
    loaded."""
    await wait_until(pilot, lambda: app.queue.polls_completed >= 2 and not app.store.pending_final()
                     and app.store.counts().get("finishing") is None
                     and app.history.ready is not None and "run-1a2b3c4d" in app.store, 15)
    if run_id is not None:
        app.main.select_run(run_id)
    target = run_id or app.store.selected

    def detail_ready() -> bool:
        info = app.main.detail.info
        if info is None or info.id != target:
            return False
        if info.status.is_final:
            return bool(app.main.detail.output_text())
        return info.status != RunStatus.RUNNING or len(app.main.detail._log_lines) >= 3

    await wait_until(pilot, detail_ready, 15)
    await pilot.pause()


def test_main_screen_running_run_with_log(snap_compare):
    app = fixed_app()

    async def run_before(pilot):
        await settled(pilot, app, "run-7h3k2m9p")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_main_screen_failed_run_with_error(snap_compare):
    app = fixed_app()

    async def run_before(pilot):
        await settled(pilot, app, "run-3f5g7h9j")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_main_screen_succeeded_run_output_sorted_and_filtered(snap_compare):
    app = fixed_app(read_only=True)

    async def run_before(pilot):
        await settled(pilot, app, "run-8p0a2s4d")
        app.main.table.set_sort("name", True)
        app.main.filter_bar.cursor_blink = False
        app.main.action_filter()
        app.main.filter_bar.value = "knapsack"
        await wait_until(pilot, lambda: app.main.filter_text == "knapsack", 5)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_main_screen_history_objective_column_and_plotted_series(snap_compare):
    """Runs listed by the history only (hours old), the objective, duration, position and
    batch columns, and the detail pane of a routing run: key results first, statistics
    with full labels, the objective series plotted."""
    app = fixed_app()

    async def run_before(pilot):
        await settled(pilot, app, "run-1a2b3c4d")
        await wait_until(pilot, lambda: app.main.detail.plotted, 5)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 45), run_before=run_before)


def test_main_screen_at_100x30_drops_columns_by_priority(snap_compare):
    app = fixed_app()

    async def run_before(pilot):
        await settled(pilot, app, "run-9x2c5v7n")

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)

