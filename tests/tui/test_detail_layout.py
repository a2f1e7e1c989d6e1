"""The detail pane's information block re-lays out when its number of lines changes, and
only then (the per-second tick re-renders ages in place)."""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import App, ComposeResult

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.models import RunStatus
from nextmv_tui.tui.format import DetailExtras
from nextmv_tui.tui.state import RunRow
from nextmv_tui.tui.widgets.run_detail import RunDetail
from tests.tui.screen_check import screen_text

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def no_client() -> NextmvClient:
    raise AssertionError("the paused pane must not fetch")


def shown(app: App[None]) -> str:
    return "\n".join(screen_text(app))


class DetailApp(App[None]):
    def __init__(self, extras: dict[str, str]) -> None:
        super().__init__()
        self.extras = extras

    def compose(self) -> ComposeResult:
        yield RunDetail(no_client, clock=lambda: NOW, monotonic=lambda: 0.0,
                        extras=lambda _row: DetailExtras(**self.extras))


async def test_a_line_that_appears_on_a_tick_is_laid_out_not_clipped():
    extras: dict[str, str] = {}
    app = DetailApp(extras)
    async with app.run_test(size=(100, 30)) as pilot:
        detail = app.query_one(RunDetail)
        detail.control("pause")  # no fetch: the row alone is shown
        detail.follow(RunRow("run-1", "app", RunStatus.QUEUED, NOW))
        await pilot.pause()
        view = app.query_one("#detail-info")
        before = view.size.height
        assert before > 0 and "Position" not in shown(app)

        extras["position"] = "#1 of 2 in class local"  # the queue learned its place
        detail.tick(queue_stale=False)
        await pilot.pause()
        assert view.size.height == before + 1, "the new line must get a row of its own"
        assert "#1 of 2 in class local" in shown(app)

        extras["batch"] = "bx-1: 0/3 done"
        detail.tick(queue_stale=False)
        await pilot.pause()
        assert view.size.height == before + 2
        assert "bx-1: 0/3 done" in shown(app)
