"""The monitor's side of the run history (``cloud/history_fetch.py``), Textual-free.

The app runs ``HistoryLink.start(...)``'s coroutine in a worker (``exit_on_error=False``)
once the first queue answer is in, so the history never delays the first rows; the fetcher
emits events, the app posts them as messages, and its handler calls ``handle``, which merges
runs into the ``RunStore`` and keeps the problems for the problem line. The fetcher gets a
client of its own with no retries: its policy backs off per application, and a long client
retry would hold a worker for nothing. ``poke`` passes the queue's news on (a run of app X
appeared or changed state: list X now).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from nextmv_tui.cloud.history import HistoryOptions
from nextmv_tui.tui.state import Change, HistoryBounds, RunStore

if TYPE_CHECKING:  # the fetcher's module loads with the first history fetch, after first paint
    from nextmv_tui.cloud.client import NextmvClient
    from nextmv_tui.cloud.history_fetch import HistoryEvent, HistoryFetcher, HistoryReady
    from nextmv_tui.tui.settings import Settings


def bounds_of(options: HistoryOptions) -> HistoryBounds:
    """What the store keeps of the history: what the fetcher was asked to list."""
    return HistoryBounds(max_runs=options.max_runs, max_age=options.max_age)


class _Problem(msgspec.Struct):
    message: str
    retry_at: float


class HistoryLink:
    """The fetcher, its client, and the history's problems and progress."""

    def __init__(self, options: HistoryOptions, monotonic: Callable[[], float] = time.monotonic
                 ) -> None:
        self.options = options
        self._monotonic = monotonic
        self.fetcher: HistoryFetcher | None = None
        self._client: NextmvClient | None = None
        self._problems: dict[str | None, _Problem] = {}
        self.ready: HistoryReady | None = None
        self.runs_listed = 0
        self._emit: Callable[[HistoryEvent], object] = lambda _event: None
        self.generation = 0
        """Counts ``start`` calls: an event carries the generation that sent it."""

    @property
    def started(self) -> bool:
        return self.fetcher is not None

    def start(self, settings: Settings, emit: Callable[[HistoryEvent], object]) -> bool:
        """Make the fetcher (``emit``: e.g. post a message); False when the history is
        off. ``run()`` is then the loop to run in a worker."""
        if self.fetcher is not None or not self.options.enabled:
            return False
        from nextmv_tui.cloud.client import NextmvClient
        from nextmv_tui.cloud.history_fetch import HistoryFetcher
        from nextmv_tui.cloud.retry import NO_RETRY

        self._client = NextmvClient(settings.config, timeout=settings.request_timeout,
                                    retry=NO_RETRY, transport=settings.transport)
        self.fetcher = HistoryFetcher(self._client, self.options)
        self._emit = emit
        self.generation += 1
        return True

    def detach(self) -> NextmvClient | None:
        """Forget the fetcher and what it found (a profile switch: another endpoint or
        account); the next ``start`` begins afresh. Returns the old client to close."""
        client, self._client = self._client, None
        self.fetcher = None
        self._problems.clear()
        self.ready = None
        self.runs_listed = 0
        return client

    def run(self) -> Coroutine[Any, Any, None]:
        """The fetch loop; cancel its worker to pause, run it again to carry on."""
        assert self.fetcher is not None, "start() first"

        def forward(event: HistoryEvent) -> None:
            self._emit(event)

        return self.fetcher.run(forward)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def poke(self, app_ids: Iterable[str]) -> None:
        """The queue saw activity of these applications: list them now."""
        if self.fetcher is None:
            return
        for app_id in set(app_ids):
            if app_id:
                self.fetcher.poke(app_id)

    def queue_changed(self, change: Change, store: RunStore) -> None:
        """A queue snapshot added or changed these runs: their applications are active."""
        if self.fetcher is not None and change.any:
            self.poke(row.app_id for run_id in (*change.added, *change.changed)
                      if (row := store.get(run_id)) is not None)

    def handle(self, event: HistoryEvent, store: RunStore, now: datetime) -> Change | None:
        """Merge ``event`` into ``store`` (a change for the table) or note it."""
        from nextmv_tui.cloud.history_fetch import (
            AppsListed,
            HistoryProblem,
            HistoryReady,
            RunsListed,
        )

        if isinstance(event, RunsListed):
            self._problems.pop(event.app_id, None)
            self._problems.pop(None, None)
            self.runs_listed += len(event.runs)
            return store.apply_history(event.app_id, event.runs, now) if event.runs else None
        if isinstance(event, HistoryProblem):
            retry_at = self._monotonic() + max(0.0, event.retry_in)
            self._problems[event.app_id] = _Problem(event.message, retry_at)
        elif isinstance(event, AppsListed):
            self._problems.pop(None, None)
            for app_id in event.removed:
                self._problems.pop(app_id, None)
        elif isinstance(event, HistoryReady):
            self.ready = event
        return None

    def problem_text(self) -> str:
        """One line for the problem line, or "" (``history: listing routing failed: ...,
        retrying in 20 s``)."""
        if not self._problems:
            return ""
        now = self._monotonic()
        key = None if None in self._problems else next(iter(self._problems))
        problem = self._problems[key]
        wait = max(0, round(problem.retry_at - now))
        retry = f"retrying in {wait} s" if wait else "retrying now"
        if key is None:
            return f"history: {problem.message} — {retry}"
        others = len(self._problems) - 1
        more = f" (and {others} more application{'s' if others > 1 else ''})" if others else ""
        return f"history: listing {key} failed{more}: {problem.message} — {retry}"

    def loading(self) -> bool:
        """The launch load is still under way."""
        return self.fetcher is not None and self.ready is None
