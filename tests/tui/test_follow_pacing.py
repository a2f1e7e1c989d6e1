"""The detail pane's pacing (issue 14), Textual-free: run information waits while the live
log shows progress, and the log's own status is what ends the wait."""

from __future__ import annotations

from nextmv_tui.cloud.polling import PollingOptions, PollSchedule
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.follow import LOG_PROGRESS_INFO, MIN_LOG_WAIT, RunFollow

SCHEDULE = PollingOptions(initial_delay=0.0, max_delay=5.0, jitter=0.0)


def follower() -> RunFollow:
    return RunFollow("run-1", "app", schedule=PollSchedule(SCHEDULE, rng=lambda: 0.0))


def follow_for(seconds: float, progressed: bool) -> tuple[RunFollow, int, int, float]:
    """(follower, information polls, log polls, end time) of a run followed ``seconds``."""
    follow = follower()
    follow.info_fetched(RunStatus.RUNNING, 0.0)
    now, info_polls, log_polls = 0.0, 0, 0
    while now < seconds:
        plan = follow.plan(now)
        if plan.info:
            info_polls += 1
            follow.info_fetched(RunStatus.RUNNING, now)
        if plan.logs:
            log_polls += 1
            follow.logs_fetched("t", 1.0, now, progressed=progressed)
        now += follow.next_in(now) or MIN_LOG_WAIT
    return follow, info_polls, log_polls, now


def test_information_waits_while_the_log_progresses():
    assert follower().schedule.delay_after(1) <= 5.0, "the SDK's schedule, capped at 5 s"
    follow, info_polls, log_polls, now = follow_for(60.0, progressed=True)
    assert info_polls <= 60 / LOG_PROGRESS_INFO + 1
    assert log_polls >= 55 and follow.logs_due - now <= 1.0, "the log keeps the server's pace"


def test_information_follows_the_schedule_when_the_log_is_silent():
    _, info_polls, _, _ = follow_for(60.0, progressed=False)
    assert info_polls >= 60 / 5.0 - 1, "no lines: nothing tells the status but metadata"


def test_a_failed_log_request_does_not_delay_information():
    follow = follower()
    follow.info_fetched(RunStatus.RUNNING, 0.0)
    due = follow.info_due
    follow.logs_fetched(None, None, 1.0, progressed=False)
    assert follow.info_due == due
