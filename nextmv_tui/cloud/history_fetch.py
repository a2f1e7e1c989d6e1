"""HistoryFetcher: sends the requests ``history.HistoryPolicy`` asks for and reports batches.

Made for a background worker: ``await fetcher.run(emit)`` runs until it is cancelled and
calls ``emit(event)`` (synchronously, e.g. a Textual ``post_message``) with:

- ``AppsListed``: the applications (after each complete listing), with what was added or
  removed since the last one;
- ``RunsListed``: runs of one application that are new or changed since they were last
  reported (at launch: one batch per page of its newest runs within the bounds, the last
  one with ``initial_done``; later: only what changed, nothing when nothing did);
- ``HistoryProblem``: a request failed; it is retried on the policy's schedule;
- ``HistoryReady``: once, when every application's launch load is done.

Fault-tolerant: no error of a request ends the loop (an application that 404s or 5xxs is
skipped and retried later). Cancel-safe: cancelling the task that awaits ``run`` cancels the
worker tasks and the request in flight; nothing else needs closing (the client is the
caller's), and ``run`` may be awaited again later (e.g. after a pause) to carry on. Requests
go out ``concurrency`` at a time (default 2), never two for one application, always within
the policy's request budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from nextmv_tui.cloud.errors import NextmvError
from nextmv_tui.cloud.history import (
    HistoryOptions,
    HistoryPolicy,
    HistoryRequest,
    ListApps,
    ListRuns,
    Phase,
)
from nextmv_tui.cloud.models import Application, ApplicationList, RunList, RunSummary

MAX_REMEMBERED = 50_000
"""Runs whose last reported state is remembered (to report changes only); oldest forgotten."""


class HistoryClient(Protocol):
    """What the fetcher needs of ``NextmvClient``."""

    async def list_applications_page(self, page_token: str | None = None) -> ApplicationList: ...

    async def list_runs(self, app_id: str, page_token: str | None = None) -> RunList: ...


@dataclass(frozen=True)
class AppsListed:
    apps: tuple[Application, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class RunsListed:
    app_id: str
    runs: tuple[RunSummary, ...]
    """New or changed since last reported, newest first."""
    phase: Phase
    initial_done: bool
    """This application's launch load (bounded by age and count) is complete."""


@dataclass(frozen=True)
class HistoryProblem:
    app_id: str | None
    """None when the application list (or every request) failed."""
    message: str
    retry_in: float


@dataclass(frozen=True)
class HistoryReady:
    apps: int
    runs: int
    seconds: float
    """Since ``run`` started."""


HistoryEvent = AppsListed | RunsListed | HistoryProblem | HistoryReady


def _fingerprint(run: RunSummary) -> Any:
    """What a report depends on; the live duration of an unfinished run is left out."""
    if run.status_v2.is_final:
        return run.model_dump()
    return run.model_dump(exclude={"duration", "execution_duration"})


class HistoryFetcher:
    def __init__(
        self,
        client: HistoryClient,
        options: HistoryOptions | None = None,
        *,
        policy: HistoryPolicy | None = None,
        concurrency: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.policy = policy or HistoryPolicy(options, clock=clock)
        self.requests = 0
        """Requests sent so far (benchmarks and tests read it)."""
        self._concurrency = max(1, concurrency)
        self._clock = clock
        self._wake = asyncio.Event()
        self._known: dict[str, Any] = {}
        self._apps_pages: list[Application] = []
        self._ready_sent = False
        self._started = 0.0

    def poke(self, app_id: str) -> None:
        """Activity seen elsewhere (e.g. a new run of ``app_id`` in the queue): list it now."""
        self.policy.poke(app_id)
        self._wake.set()

    async def run(self, emit: Callable[[HistoryEvent], None]) -> None:
        """Fetch until cancelled (returns at once when the history is disabled)."""
        if not self.policy.options.enabled:
            return
        self._started = self._clock()
        workers = [
            asyncio.ensure_future(self._work(emit)) for _ in range(self._concurrency)
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def events(self) -> AsyncIterator[HistoryEvent]:
        """``run`` as an async iterator. Close it to stop the fetching at once:
        ``async with contextlib.aclosing(fetcher.events()) as events: async for e in events``
        (a plain ``break`` leaves the generator to the garbage collector)."""
        queue: asyncio.Queue[HistoryEvent] = asyncio.Queue()
        task = asyncio.ensure_future(self.run(queue.put_nowait))
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    task.result()  # run() ended: re-raise its error, if any
                    return
                yield getter.result()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # --- the loop ---------------------------------------------------------------------------

    async def _work(self, emit: Callable[[HistoryEvent], None]) -> None:
        while True:
            self._wake.clear()
            decision = self.policy.next()
            if isinstance(decision, float):
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=max(decision, 0.001))
                continue
            await self._send(decision, emit)
            self._wake.set()  # a continuation may be due now: let idle workers look

    async def _send(self, request: HistoryRequest, emit: Callable[[HistoryEvent], None]) -> None:
        self.requests += 1
        try:
            if isinstance(request, ListApps):
                apps = await self.client.list_applications_page(request.page_token)
                self._on_apps(request, apps, emit)
            else:
                page = await self.client.list_runs(request.app_id, request.page_token)
                self._on_runs(request, page, emit)
        except asyncio.CancelledError:
            self.policy.abandoned(request)
            raise
        except NextmvError as exc:
            self._on_error(request, exc, emit)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # never end the loop
            self._on_error(request, NextmvError(f"{type(exc).__name__}: {exc}"), emit)
        self._maybe_ready(emit)

    def _on_apps(
        self, request: ListApps, page: ApplicationList, emit: Callable[[HistoryEvent], None]
    ) -> None:
        if request.page_token is None:
            self._apps_pages = []
        self._apps_pages.extend(page.items)
        outcome = self.policy.apps_listed(
            request, [app.id for app in page.items], page.next_page_token
        )
        if outcome is None:
            return
        added, removed = outcome
        apps = {app.id: app for app in self._apps_pages}
        self._apps_pages = []
        if removed:
            gone = set(removed)
            self._known = {k: v for k, v in self._known.items() if v[0] not in gone}
        emit(AppsListed(tuple(apps.values()), tuple(added), tuple(removed)))

    def _on_runs(
        self, request: ListRuns, page: RunList, emit: Callable[[HistoryEvent], None]
    ) -> None:
        kept = self.policy.runs_listed(request, page.runs, page.next_page_token)
        fresh = []
        for run in kept:
            mark = (request.app_id, _fingerprint(run))
            if self._known.get(run.id) != mark:
                self._known[run.id] = mark
                fresh.append(run)
        while len(self._known) > MAX_REMEMBERED:
            self._known.pop(next(iter(self._known)))
        done = self.policy.initial_done(request.app_id)
        if fresh or request.phase == "launch":
            emit(RunsListed(request.app_id, tuple(fresh), request.phase, done))

    def _on_error(
        self, request: HistoryRequest, error: NextmvError, emit: Callable[[HistoryEvent], None]
    ) -> None:
        delay = self.policy.failed(request, error)
        app_id = request.app_id if isinstance(request, ListRuns) else None
        message = " ".join(str(error).split())
        emit(HistoryProblem(app_id, message, delay))

    def _maybe_ready(self, emit: Callable[[HistoryEvent], None]) -> None:
        if self._ready_sent or not self.policy.launch_done:
            return
        self._ready_sent = True
        seconds = self._clock() - self._started
        emit(HistoryReady(len(self.policy.app_ids), len(self._known), seconds))
