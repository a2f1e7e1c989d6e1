"""The detail pane's pacing (issue 14), Textual-free: run information waits while the live
log shows progress, and the log's own status is what ends the wait."""

from __future__ import annotations

from nextmv_tui.cloud.polling import PollingOptions, PollSchedule
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.follow import LOG_PROGRESS_INFO, MIN_LOG_WAIT, RunFollow

SCHEDULE = PollingOptions(initial_delay=0.0, max_delay=5.0, jitter=0.0)


def follower() -> RunFollow:
    return RunFollow("run-1", "app", schedule=PollSchedule(SCHEDULE, rng=lambda: 0.0))


def test_information_waits_while_the_log_progresses():
    follow = follower()
    follow.info_fetched(RunStatus.RUNNING, 0.0)
    assert follow.info_due <= 5.0, "the SDK's schedule, capped at 5 s"
    now, info_polls = 0.0, 0
    while now < 60.0:
        plan = follow.plan(now)
        if plan.info:
            info_polls += 1
            follow.info_fetched(RunStatus.RUNNING, now)
        if plan.logs:
            follow.logs_fetched("t", 1.0, now, progressed=True)
        now += follow.next_in(now) or MIN_LOG_WAIT
    assert info_polls <= 60 / LOG_PROGRESS_INFO + 1
    assert follow.logs_due - now <= 1.0, "the log keeps the server's pace"


def test_information_follows_the_schedule_when_the_log_is_silent():
    follow = follower()
    follow.info_fetched(RunStatus.RUNNING, 0.0)
    now, info_polls = 0.0, 0
    while now < 60.0:
        plan = follow.plan(now)
        if plan.info:
            info_polls += 1
            follow.info_fetched(RunStatus.RUNNING, now)
        if plan.logs:
            follow.logs_fetched("t", 1.0, now, progressed=False)
        now += follow.next_in(now) or MIN_LOG_WAIT
    assert info_polls >= 60 / 5.0 - 1, "no lines: nothing tells the status but metadata"


def test_a_failed_log_request_does_not_delay_information():
    follow = follower()
    follow.info_fetched(RunStatus.RUNNING, 0.0)
    due = follow.info_due
    follow.logs_fetched(None, None, 1.0, progressed=False)
    assert follow.info_due == due
