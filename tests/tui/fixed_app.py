"""The monitor on fixed data (``FixedApi``) with frozen clocks, and how to wait until it has
settled: shared by the snapshot tests and the layout tests that need byte-stable screens."""

from __future__ import annotations

from typing import Any

import httpx

from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.history import HistoryOptions
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.app import NextmvTuiApp, make_app
from nextmv_tui.tui.settings import Settings
from tests.tui.conftest import wait_until
from tests.tui.fixed_api import NOW, FixedApi


def fixed_app(**kwargs: Any) -> NextmvTuiApp:
    config = ClientConfig(endpoint="https://api.cloud.nextmv.io", api_key="k",
                          profile="production", source="~/.nextmv/config.yaml")
    kwargs.setdefault("transport", httpx.MockTransport(FixedApi()))
    # No age bound: the fixed data's times must not be judged by the real clock.
    kwargs.setdefault("history", HistoryOptions(max_age=None))
    settings = Settings(
        config=config, refresh=2.0, clock=lambda: NOW, monotonic=lambda: 1000.0, **kwargs,
    )
    return make_app(settings)


async def settled(pilot: Any, app: NextmvTuiApp, run_id: str | None = None) -> None:
    """Both polls done, every final state fetched, the history loaded, the detail pane
    loaded.

    The second poll is asked for as soon as the first is done (``r``'s path), not awaited
    for the 2 s interval the header shows: the same two answers, without the idle wait."""
    await wait_until(pilot, lambda: app.queue.polls_completed >= 1, 15)
    if app.queue.polls_completed < 2:
        app.poll_now()
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
    # Rows that did not change (a queue position moved up because another run left) are
    # redrawn by the screen's live tick, and the frozen monotonic clock allows only one:
    # draw them now, as the next tick would, so the screen is the settled one.
    app.main.table.refresh_live(app.settings.clock())
    await pilot.pause()
