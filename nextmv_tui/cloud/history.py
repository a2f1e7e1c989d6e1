"""Run history: which application to list when (a pure, deterministic policy).

Nextmv Cloud lists runs per application only (``GET v1/applications/{app}/runs``, newest
first, 50 per page), so a monitor that shows recent runs of every application must list each
application again and again. This module decides which list request comes next; it sends
nothing itself (``history_fetch.HistoryFetcher`` does). Clock, wall clock and random source
are injected, so tests replay exact schedules.

The policy:
- **Launch**: list the applications, then the first page of every application (oldest
  schedule first, so every application shows something before any goes deeper), then older
  pages until ``max_runs`` runs or ``max_age`` is reached.
- **Refresh**: list an application again every ``active_interval`` s (4) when it has runs in
  progress or activity in the last ``active_window`` s (5 min), else every
  ``idle_interval`` s (8). A refresh reads page after page until it reaches the newest run it
  already knew (minus ``overlap`` s, for runs that become visible late) and the oldest run
  it last saw unfinished, so a run that started and finished between two refreshes appears
  with its final state. ``poke(app)`` (e.g. the queue showed a run of it) lists it at once.
- **Budget**: a token bucket, ``requests_per_minute`` (60) on average with bursts of up to
  ``burst`` (60), so the launch of up to ~30 applications is not held back. With many
  applications the budget, not the intervals, sets the cadence: each application is listed
  about every ``max(interval, n_apps * 60 / requests_per_minute)`` s, active ones about
  twice as often as idle ones (earliest deadline first).
- **Faults**: an application whose listing fails is retried with exponential backoff
  (``error_delay`` doubling up to ``max_error_delay``); a 404 forgets it until the next
  application listing; connection loss, 401/403 and 429 pause every request (429 for its
  ``Retry-After``). Nothing ends the schedule.
- The application list itself is refreshed every ``apps_interval`` s (120).
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

import msgspec

from nextmv_tui.cloud.errors import (
    AuthError,
    BadRequestError,
    NextmvError,
    NotFoundError,
    RateLimitedError,
    TransportError,
)

if TYPE_CHECKING:
    from nextmv_tui.cloud.models import RunSummary

Phase = Literal["launch", "backfill", "refresh"]

MIN_WAIT = 0.001
"""Shortest wait ``next`` returns: a float rounding error must never become a busy loop."""
_EPSILON = 1e-6
DEFAULT_MAX_AGE = 24 * 3600.0
DEFAULT_MAX_RUNS = 100
_AGE = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhd])", re.ASCII)
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_age(text: str) -> float:
    """``90s``, ``30m``, ``24h``, ``7d`` -> seconds (``ValueError`` with a clear reason)."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not an age: use a number and s, m, h or d, e.g. 24h")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not math.isfinite(seconds) or seconds > 366 * 86400:
        raise ValueError(f"{text!r} is too long: at most 366d")
    return seconds


class HistoryOptions(msgspec.Struct, frozen=True):
    """Bounds and cadence of the history; the defaults are the monitor's."""

    max_age: float | None = DEFAULT_MAX_AGE
    """Runs created longer ago than this (seconds) are not listed; None: no age bound."""
    max_runs: int = DEFAULT_MAX_RUNS
    """Most runs listed per application at launch (two pages of 50 on Cloud)."""
    enabled: bool = True
    active_interval: float = 4.0
    idle_interval: float = 8.0
    active_window: float = 300.0
    apps_interval: float = 120.0
    requests_per_minute: float = 60.0
    burst: float = 60.0
    overlap: float = 30.0
    error_delay: float = 5.0
    max_error_delay: float = 300.0
    jitter: float = 0.1
    """Intervals vary by +-10% so monitors started together do not poll in step."""


def parse_history(text: str) -> HistoryOptions:
    """The monitor's ``--history`` value: ``AGE[:COUNT]`` (``24h``, ``7d:500``) or ``off``."""
    value = text.strip().lower()
    if value in ("off", "0", "none"):
        return HistoryOptions(enabled=False)
    age_text, sep, count_text = value.partition(":")
    age = parse_age(age_text)
    count = DEFAULT_MAX_RUNS
    if sep:
        digits = count_text.isascii() and count_text.isdigit() and len(count_text) <= 5
        if not digits or not 1 <= int(count_text) <= 10_000:
            raise ValueError(f"{text!r}: the count after ':' must be an integer from 1 to 10000")
        count = int(count_text)
    return HistoryOptions(max_age=age, max_runs=count)


class ListApps(msgspec.Struct, frozen=True):
    """Request: one page of ``GET v1/applications``."""

    page_token: str | None = None


class ListRuns(msgspec.Struct, frozen=True):
    """Request: one page of ``GET v1/applications/{app_id}/runs``."""

    app_id: str
    page_token: str | None
    phase: Phase


HistoryRequest = ListApps | ListRuns


class _Pass(msgspec.Struct):
    """One walk down an application's list (launch+backfill, or one refresh)."""

    phase: Phase
    token: str | None = None
    tokens: set[str] = msgspec.field(default_factory=set)
    count: int = 0
    floor: datetime | None = None
    seen: set[str] = msgspec.field(default_factory=set)
    lowest: datetime | None = None


class _App(msgspec.Struct):
    app_id: str
    due: float
    walk: _Pass
    initial_done: bool = False
    in_flight: bool = False
    failures: int = 0
    newest: datetime | None = None
    open_runs: dict[str, datetime] = msgspec.field(default_factory=dict)
    """Runs last seen queued or running: a refresh reads down to the oldest of them."""
    last_activity: datetime | None = None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class HistoryPolicy:
    """Decides the next list request; told what every request returned."""

    def __init__(
        self,
        options: HistoryOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = _utcnow,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.options = options or HistoryOptions()
        self._clock = clock
        self._wall = wall
        self._rng = rng
        self._apps: dict[str, _App] = {}
        self._apps_due = clock()
        self._apps_walk = _Pass("launch")
        self._apps_pending: dict[str, None] = {}
        self._apps_in_flight = False
        self._apps_listed = False
        self._apps_failures = 0
        self._paused_until = 0.0
        self._global_failures = 0
        self._tokens = self.options.burst
        self._refilled = clock()

    # --- queries --------------------------------------------------------------------------

    @property
    def app_ids(self) -> list[str]:
        return list(self._apps)

    @property
    def launch_done(self) -> bool:
        """Applications listed and every one loaded (or failed at least once)."""
        return self._apps_listed and all(
            app.initial_done or app.failures for app in self._apps.values()
        )

    def initial_done(self, app_id: str) -> bool:
        """The application's launch load (bounded by age and count) is complete."""
        app = self._apps.get(app_id)
        return app is not None and app.initial_done

    def age_floor(self) -> datetime | None:
        if self.options.max_age is None:
            return None
        return self._wall() - timedelta(seconds=self.options.max_age)

    def is_active(self, app_id: str) -> bool:
        app = self._apps.get(app_id)
        if app is None:
            return False
        if app.open_runs:
            return True
        recent = self._wall() - timedelta(seconds=self.options.active_window)
        return app.last_activity is not None and app.last_activity >= recent

    def interval(self, app_id: str) -> float:
        """The refresh interval the application gets now (before jitter and budget)."""
        opts = self.options
        return opts.active_interval if self.is_active(app_id) else opts.idle_interval

    # --- decisions ------------------------------------------------------------------------

    def next(self) -> HistoryRequest | float:
        """The request to send now, or how many seconds to wait before asking again."""
        now = self._clock()
        if now < self._paused_until:
            return max(self._paused_until - now, MIN_WAIT)
        candidates: list[tuple[float, int, str]] = []
        if not self._apps_in_flight:
            candidates.append((self._apps_due, 0, ""))
        rank = {"launch": 1, "refresh": 2, "backfill": 3}
        for app in self._apps.values():
            if not app.in_flight:
                candidates.append((app.due, rank[app.walk.phase], app.app_id))
        if not candidates:
            return 1.0
        due, _, app_id = min(candidates)
        if due > now + _EPSILON:
            return max(due - now, MIN_WAIT)
        self._refill(now)
        if self._tokens < 1.0 - _EPSILON:
            return max((1.0 - self._tokens) * 60.0 / self.options.requests_per_minute, MIN_WAIT)
        self._tokens = max(0.0, self._tokens - 1.0)
        if not app_id:
            self._apps_in_flight = True
            return ListApps(self._apps_walk.token)
        app = self._apps[app_id]
        app.in_flight = True
        return ListRuns(app_id, app.walk.token, app.walk.phase)

    def _refill(self, now: float) -> None:
        rate = self.options.requests_per_minute / 60.0
        self._tokens = min(self.options.burst, self._tokens + (now - self._refilled) * rate)
        self._refilled = now

    def poke(self, app_id: str) -> None:
        """Something happened in this application (e.g. the queue shows a new run of it):
        list it now and count it as active. Unknown IDs are listed with the next app list."""
        app = self._apps.get(app_id)
        if app is None:
            self._apps_due = min(self._apps_due, self._clock())
            return
        app.last_activity = self._wall()
        if app.initial_done and app.walk.token is None:
            app.due = min(app.due, self._clock())

    # --- results: applications ------------------------------------------------------------

    def apps_listed(
        self, request: ListApps, app_ids: Sequence[str], next_token: str | None
    ) -> tuple[list[str], list[str]] | None:
        """A page of applications arrived. At the end of the listing returns (added,
        removed) application IDs; None while more pages follow."""
        self._apps_in_flight = False
        self._ok()
        self._apps_failures = 0
        walk = self._apps_walk
        self._apps_pending.update(dict.fromkeys(app_ids))
        if next_token and next_token not in walk.tokens:
            walk.tokens.add(next_token)
            walk.token = next_token
            self._apps_due = self._clock()
            return None
        listed, self._apps_pending = list(self._apps_pending), {}
        self._apps_walk = _Pass("refresh")
        self._apps_due = self._clock() + self._jittered(self.options.apps_interval)
        self._apps_listed = True
        added = [a for a in listed if a not in self._apps]
        removed = [a for a in self._apps if a not in listed]
        now = self._clock()
        for app_id in added:
            self._apps[app_id] = _App(app_id, due=now, walk=_Pass("launch"))
        for app_id in removed:
            del self._apps[app_id]
        return added, removed

    # --- results: runs --------------------------------------------------------------------

    def runs_listed(
        self, request: ListRuns, runs: Sequence[RunSummary], next_token: str | None
    ) -> list[RunSummary]:
        """A page of runs arrived: returns those within the bounds, schedules what follows."""
        app = self._apps.get(request.app_id)
        if app is None:  # forgotten meanwhile (the application left the list)
            return []
        app.in_flight = False
        app.failures = 0
        self._ok()
        walk = app.walk
        floor = self.age_floor()
        kept = [run for run in runs if floor is None or run.created_at >= floor]
        if walk.phase != "refresh":
            kept = kept[: max(0, self.options.max_runs - walk.count)]
        walk.count += len(kept)
        self._track(app, runs)
        if self._continue(walk, runs, next_token, floor):
            assert next_token is not None
            walk.tokens.add(next_token)
            walk.token = next_token
            if walk.phase == "launch":
                walk.phase = "backfill"
            app.due = self._clock()
            return kept
        self._end_pass(app)
        return kept

    def _continue(
        self,
        walk: _Pass,
        runs: Sequence[RunSummary],
        next_token: str | None,
        floor: datetime | None,
    ) -> bool:
        """Whether the walk goes on to the next page."""
        if not next_token or next_token in walk.tokens or not runs:
            return False
        oldest = min(run.created_at for run in runs)
        if floor is not None and oldest < floor:
            return False
        if walk.count >= self.options.max_runs:
            return False
        return walk.phase != "refresh" or walk.floor is None or oldest >= walk.floor

    def _track(self, app: _App, runs: Sequence[RunSummary]) -> None:
        """Newest run, runs in progress, activity."""
        walk = app.walk
        for run in runs:
            walk.seen.add(run.id)
            if walk.lowest is None or run.created_at < walk.lowest:
                walk.lowest = run.created_at
            if app.newest is None or run.created_at > app.newest:
                if app.newest is not None:
                    app.last_activity = self._wall()  # a new run since the last look
                app.newest = run.created_at
            was_open = run.id in app.open_runs
            if run.status_v2.is_final:
                if was_open:
                    app.open_runs.pop(run.id)
                    app.last_activity = self._wall()
            elif run.status_v2.is_cancelable:
                app.open_runs[run.id] = run.created_at
            self._note_activity(app, run)

    def _note_activity(self, app: _App, run: RunSummary) -> None:
        for moment in (run.created_at, run.status_changed_at):
            if moment is not None and (app.last_activity is None or moment > app.last_activity):
                app.last_activity = moment

    def _end_pass(self, app: _App) -> None:
        walk = app.walk
        if walk.lowest is not None:
            # Unfinished runs this pass reached past but did not see are gone (deleted).
            for run_id, created in list(app.open_runs.items()):
                if created >= walk.lowest and run_id not in walk.seen:
                    del app.open_runs[run_id]
        floor = self.age_floor()
        if floor is not None:
            app.open_runs = {k: v for k, v in app.open_runs.items() if v >= floor}
        app.initial_done = True
        app.walk = _Pass("refresh", floor=self._refresh_floor(app))
        app.due = self._clock() + self._jittered(self.interval(app.app_id))

    def _refresh_floor(self, app: _App) -> datetime | None:
        """A refresh reads down to the newest known run (minus the overlap) and the oldest
        run last seen unfinished."""
        marks: list[datetime] = list(app.open_runs.values())
        if app.newest is not None:
            marks.append(app.newest - timedelta(seconds=self.options.overlap))
        return min(marks) if marks else None

    def abandoned(self, request: HistoryRequest) -> None:
        """A request was cancelled before its answer came (the fetcher stopped): it may be
        sent again, e.g. when the same fetcher runs again."""
        if isinstance(request, ListApps):
            self._apps_in_flight = False
            return
        app = self._apps.get(request.app_id)
        if app is not None:
            app.in_flight = False

    # --- failures -------------------------------------------------------------------------

    def failed(self, request: HistoryRequest, error: NextmvError) -> float:
        """A request failed: reschedule it; returns the delay before it is tried again."""
        now = self._clock()
        if isinstance(error, (TransportError, AuthError, RateLimitedError)):
            self._global_failures += 1
            delay = self._backoff(self._global_failures)
            if isinstance(error, RateLimitedError) and error.retry_after is not None:
                delay = min(self.options.max_error_delay, max(error.retry_after, 1.0))
            self._paused_until = now + delay
        else:
            delay = 0.0
        if isinstance(request, ListApps):
            self._apps_in_flight = False
            self._apps_failures += 1
            delay = max(delay, self._backoff(self._apps_failures))
            self._apps_due = now + delay
            return delay
        app = self._apps.get(request.app_id)
        if app is None:
            return delay
        app.in_flight = False
        app.failures += 1
        if isinstance(error, NotFoundError):
            del self._apps[request.app_id]  # listed again if the next app list has it
            return delay
        if isinstance(error, BadRequestError):
            app.walk = _Pass(app.walk.phase if not app.initial_done else "refresh",
                             floor=app.walk.floor)  # the token may be stale: start over
        delay = max(delay, self._backoff(app.failures))
        app.due = now + delay
        return delay

    def _ok(self) -> None:
        self._global_failures = 0

    def _backoff(self, failures: int) -> float:
        opts = self.options
        base = opts.error_delay * 2.0 ** min(max(failures - 1, 0), 20)
        return self._jittered(min(opts.max_error_delay, base))

    def _jittered(self, seconds: float) -> float:
        return seconds * (1.0 + self.options.jitter * (2.0 * self._rng() - 1.0))

