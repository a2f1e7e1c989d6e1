"""Runs beyond the queue: the final state of each run that left it, and every application's
recent history (``cloud/history_fetch.py`` through ``tui/history_link.py``).

A mixin of the app (one concept per module). Workers only fetch and post messages; the
handlers here merge the answers into the store and hand each change to the main screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App

from nextmv_tui.cloud.errors import NotFoundError
from nextmv_tui.tui import collector
from nextmv_tui.tui.messages import FinalStateFailed, FinalStateLoaded, HistoryArrived

if TYPE_CHECKING:
    from nextmv_tui.cloud.client import NextmvClient
    from nextmv_tui.tui.history_link import HistoryLink
    from nextmv_tui.tui.screens.main import MainScreen
    from nextmv_tui.tui.settings import Settings
    from nextmv_tui.tui.state import RunStore


class BeyondQueueMixin(App[int]):
    """Final states and run history of ``NextmvTuiApp``."""

    settings: Settings
    main: MainScreen
    store: RunStore
    history: HistoryLink

    @property
    def client(self) -> NextmvClient:
        raise NotImplementedError

    # --- final state of runs that left the queue ------------------------------------------

    def _fetch_finals(self) -> None:
        pending = self.store.pending_final()
        if pending:
            self.store.fetching(row.run_id for row in pending)
            self._fetch_final_batch([(row.run_id, row.app_id) for row in pending])

    @work(group="final", exit_on_error=False, name="final states")
    async def _fetch_final_batch(self, items: list[tuple[str, str]]) -> None:
        from nextmv_tui.tui.finals import fetch_final_states

        await fetch_final_states(
            self.client, items, lambda info: self.post_message(FinalStateLoaded(info)),
            lambda run_id, exc: self.post_message(FinalStateFailed(run_id, exc)),
        )

    @on(FinalStateLoaded)
    def _final_loaded(self, message: FinalStateLoaded) -> None:
        if message.info.id not in self.store:
            return  # asked before a profile switch
        self.main.apply_change(self.store.apply_info(message.info, self.settings.clock()))

    @on(FinalStateFailed)
    def _final_failed(self, message: FinalStateFailed) -> None:
        if isinstance(message.error, NotFoundError):
            self.main.apply_change(self.store.mark_gone(message.run_id, str(message.error)))
        else:
            self.store.fetch_failed(message.run_id)  # retried after the next poll

    # --- run history: every application's recent runs (cloud/history_fetch.py) ------------

    def _start_history(self) -> None:
        if self.history.started or not self.settings.poll:
            return
        history = self.history
        if history.start(self.settings, lambda e: self.post_message(
                HistoryArrived(e, history.generation))):
            self._run_history()

    def _run_history(self) -> None:
        self.run_worker(self.history.run(), group="history", exit_on_error=False,
                        name="history")

    @on(HistoryArrived)
    def _history_arrived(self, message: HistoryArrived) -> None:
        if message.generation != self.history.generation or not self.history.started:
            return  # sent before a profile switch: another endpoint's runs
        change = self.history.handle(message.event, self.store, self.settings.clock())
        if change is not None:
            self.main.apply_change(change)
            collector.settle(len(change.added))  # frozen for the collector (tui/collector.py)
        self.main.show_connection()
