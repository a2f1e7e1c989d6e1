"""HistoryLink: events merged into the store, problems kept for the problem line, pokes."""

from __future__ import annotations

from datetime import datetime, timezone

from nextmv_tui.cloud.history import HistoryOptions
from nextmv_tui.cloud.history_fetch import AppsListed, HistoryProblem, HistoryReady, RunsListed
from nextmv_tui.cloud.models import QueuedRun, RunSummary
from nextmv_tui.tui.history_link import HistoryLink
from nextmv_tui.tui.state import RunStore

T0 = datetime(2026, 1, 2, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class PokeSpy:
    def __init__(self) -> None:
        self.poked: list[str] = []

    def poke(self, app_id: str) -> None:
        self.poked.append(app_id)


def listed(app_id: str, *run_ids: str) -> RunsListed:
    runs = tuple(RunSummary.model_validate({"id": r, "created_at": T0, "status_v2": "failed",
                                            "application_id": app_id}) for r in run_ids)
    return RunsListed(app_id, runs, "refresh", True)


def test_problems_show_per_application_with_a_countdown_and_clear_on_success() -> None:
    clock = Clock()
    link, store = HistoryLink(HistoryOptions(), clock), RunStore()
    assert link.problem_text() == ""
    link.handle(HistoryProblem("routing", "GET v1/applications/routing/runs: 503", 20.0),
                store, T0)
    assert link.problem_text() == (
        "history: listing routing failed: GET v1/applications/routing/runs: 503 — "
        "retrying in 20 s")
    clock.now += 15
    link.handle(HistoryProblem("knapsack", "boom", 5.0), store, T0)
    assert "retrying in 5 s" in link.problem_text() and "(and 1 more application)" in (
        link.problem_text())
    link.handle(listed("routing", "r1"), store, T0)
    assert "routing" not in link.problem_text() and "knapsack" in link.problem_text()
    assert "r1" in store.rows
    link.handle(HistoryProblem(None, "offline: connection refused", 30.0), store, T0)
    assert link.problem_text() == "history: offline: connection refused — retrying in 30 s"
    link.handle(AppsListed((), (), ("knapsack",)), store, T0)
    assert link.problem_text() == "", "a listing answered; the removed app's problem is gone"
    clock.now += 100
    link.handle(HistoryProblem("x", "y", 1.0), store, T0)
    clock.now += 5
    assert link.problem_text().endswith("retrying now")


def test_ready_and_loading() -> None:
    link = HistoryLink(HistoryOptions())
    assert not link.loading() and not link.started
    link.fetcher = object()  # type: ignore[assignment]
    assert link.loading()
    link.handle(HistoryReady(2, 10, 0.5), RunStore(), T0)
    assert not link.loading() and link.ready is not None


def test_the_queue_pokes_the_applications_it_saw_change() -> None:
    link, store, spy = HistoryLink(HistoryOptions()), RunStore(), PokeSpy()
    link.fetcher = spy  # type: ignore[assignment]
    entries = [QueuedRun.model_validate({"id": f"r{i}", "created_at": T0, "status_v2": "queued",
                                         "application_id": app})
               for i, app in enumerate(("routing", "routing", "knapsack"))]
    link.queue_changed(store.apply_queue(entries, store.begin_poll(), T0), store)
    assert sorted(spy.poked) == ["knapsack", "routing"]
    spy.poked.clear()
    link.queue_changed(store.apply_queue(entries, store.begin_poll(), T0), store)
    assert spy.poked == [], "nothing changed: nothing to list early"


def test_history_off_starts_nothing() -> None:
    link = HistoryLink(HistoryOptions(enabled=False))
    assert not link.start(None, print) and not link.started  # type: ignore[arg-type]
