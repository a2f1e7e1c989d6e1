"""What the detail pane fetches next for the run it follows, Textual-free.

Two cadences share the detail pane's one ``Poller``: run information on the SDK's schedule
(``PollSchedule``, capped for a watching person) and, while the run is running, the live
log at the pace the server asks for (``next_available_in_seconds``). Each poll fetches what
is due; ``next_in`` is the delay to the earlier of the two. Once the run is final the pane
fetches the rest of the log and the output, and the poller stops.

The live log's answer carries the run's status too, so while the log shows progress (its
last answer had lines) run information waits at least ``LOG_PROGRESS_INFO``: the end of
the run is seen at the log's pace (the pane fetches the information in the same poll when
the log says the run is final), and a 60 s run costs one log request per second plus a
handful of metadata requests instead of one every 5 s (issue 14).
"""

from __future__ import annotations

import msgspec

from nextmv_tui.cloud.polling import PollingOptions, PollSchedule
from nextmv_tui.cloud.status import RunStatus

DETAIL_POLLING = PollingOptions(initial_delay=0.0, max_delay=5.0, jitter=0.5)
"""The SDK schedule, capped at 5 s: a person is watching this run."""
MIN_LOG_WAIT = 0.5
LOG_RETRY = 2.0
DEBOUNCE = 0.12
LOG_PROGRESS_INFO = 20.0
"""Run information waits at least this long (seconds) while the live log shows progress."""
"""Wait before the first fetch so scrolling through rows does not fire a request per row."""


class Plan(msgspec.Struct, frozen=True):
    """The requests of one poll."""

    info: bool
    logs: bool
    since: str | None
    tailing: bool


class RunFollow(msgspec.Struct):
    run_id: str
    app_id: str
    schedule: PollSchedule = msgspec.field(default_factory=lambda: PollSchedule(DETAIL_POLLING))
    status: RunStatus = RunStatus.NONE
    attempt: int = 0
    info_due: float = 0.0
    info_at: float = 0.0
    """When run information was last fetched (monotonic)."""
    logs_due: float = 0.0
    since: str | None = None
    """The live-log token: the next fetch returns lines after it."""
    tailing: bool = False

    def plan(self, now: float) -> Plan:
        logs = self.status == RunStatus.RUNNING and now >= self.logs_due
        return Plan(now >= self.info_due or not logs, logs, self.since, self.tailing)

    def info_fetched(self, status: RunStatus, now: float) -> None:
        self.status = status
        self.attempt += 1
        self.info_at = now
        self.info_due = now + self.schedule.delay_after(self.attempt)

    def logs_fetched(
        self, token: str | None, next_available: float | None, now: float,
        progressed: bool = False,
    ) -> None:
        """``next_available`` None: the log request failed (retried later, softly).
        ``progressed``: the answer had lines, so the run is alive and its status came with
        them: run information can wait (``LOG_PROGRESS_INFO``)."""
        if next_available is None:
            self.logs_due = now + LOG_RETRY
            return
        self.tailing = True
        self.since = token or self.since
        self.logs_due = now + max(MIN_LOG_WAIT, next_available)
        if progressed and self.status == RunStatus.RUNNING:
            self.info_due = max(self.info_due, self.info_at + LOG_PROGRESS_INFO)

    def next_in(self, now: float) -> float:
        due = self.info_due
        if self.status == RunStatus.RUNNING:
            due = min(due, self.logs_due)
        return max(0.0, due - now)
