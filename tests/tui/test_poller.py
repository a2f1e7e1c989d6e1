"""The polling state machine alone, with an injected clock: every transition of the table in
ARCHITECTURE.md, and every key pressed while a poll is in flight (where "refreshing stops
for good" lived: a 0-second timer). The invariant checked throughout: a decision is never a
timer of less than MIN_DELAY; "poll now" is always the ``now`` action."""

from __future__ import annotations

import pytest

from nextmv_tui.tui.poller import CANCEL, KEEP, MIN_DELAY, NOW, Decision, Poller, PollerConfig


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(interval: float = 2.0, **config) -> tuple[Poller, Clock]:
    clock = Clock()
    return Poller(PollerConfig(interval, **config), clock=clock, rng=lambda: 0.0), clock


def wait(delay: float) -> Decision:
    return Decision("wait", delay)


def valid(decision: Decision) -> Decision:
    assert decision.action != "wait" or decision.delay >= MIN_DELAY, decision
    return decision


def in_flight(poller: Poller) -> None:
    assert valid(poller.start()) == NOW
    assert poller.poll_started()


def test_start_poll_success_waits_one_interval() -> None:
    poller, _ = make()
    assert poller.start() == NOW and poller.phase == "due"
    assert poller.start() == KEEP, "started once"
    assert poller.poll_started() and poller.phase == "in_flight"
    assert not poller.poll_started(), "a second fire of the same 'now' starts nothing"
    assert poller.poll_succeeded() == wait(2.0)
    assert (poller.phase, poller.connection, poller.polls_completed) == ("waiting", "online", 1)
    assert poller.poll_started(), "the timer fired"


def test_start_with_a_delay_and_a_late_timer() -> None:
    poller, _ = make()
    assert poller.start(0.12) == wait(0.12)
    assert poller.poll_started()
    assert poller.poll_succeeded(next_in=0.5) == wait(0.5), "next_in overrides the interval"
    assert poller.pause() == CANCEL
    assert not poller.poll_started(), "a timer firing after a cancel starts nothing"


@pytest.mark.parametrize("key", ["refresh_now", "toggle_pause_twice", "faster", "slower",
                                 "focus_lost", "focus_regained", "pause", "resume"])
def test_every_key_while_a_poll_is_in_flight_keeps_polling(key: str) -> None:
    """Each key mid-poll: no decision at all while in flight, and after the poll the loop
    goes on (``now`` or a real timer), except a pause that is still in force."""
    poller, clock = make()
    in_flight(poller)
    if key == "toggle_pause_twice":
        decisions = [poller.toggle_pause(), poller.toggle_pause()]
    elif key == "faster":
        decisions = [poller.set_interval(1.0)]
    elif key == "slower":
        decisions = [poller.set_interval(3.0)]
    elif key == "focus_regained":
        decisions = [poller.focus_lost(), poller.focus_regained()]
    else:
        decisions = [getattr(poller, key)()]
    assert all(valid(d) == KEEP for d in decisions), decisions
    clock.now += 0.3
    after = valid(poller.poll_succeeded())
    if key == "pause":
        assert after == CANCEL and poller.phase == "idle"
        assert poller.resume() == NOW, "resume polls at once"
    elif key == "refresh_now":
        assert after == NOW, "the refresh asked for mid-poll runs right after it"
    else:
        assert after.action == "wait" and after.delay > 0
    assert poller.phase in ("due", "waiting", "idle")


def test_refresh_now_from_every_phase() -> None:
    poller, _ = make()
    assert poller.refresh_now() == NOW, "idle -> due"
    assert poller.refresh_now() == KEEP, "due: already asked for"
    assert poller.poll_started()
    assert poller.refresh_now() == KEEP and poller.again
    assert poller.refresh_now() == KEEP, "twice mid-poll is one poll after it"
    assert poller.poll_succeeded() == NOW and not poller.again
    assert poller.poll_started()
    assert poller.poll_succeeded() == wait(2.0)
    assert poller.refresh_now() == NOW, "waiting -> due (the timer is replaced)"


def test_pause_and_resume() -> None:
    poller, _ = make()
    in_flight(poller)
    poller.poll_succeeded()
    assert poller.pause() == CANCEL and poller.phase == "idle" and poller.paused
    assert poller.pause() == KEEP
    assert poller.refresh_now() == NOW, "r works while paused"
    assert poller.poll_started()
    assert poller.poll_succeeded() == CANCEL, "one poll, then paused again"
    assert poller.resume() == NOW and not poller.paused
    assert poller.resume() == KEEP


def test_failures_back_off_and_recover_even_while_paused() -> None:
    poller, clock = make(interval=1.0, max_backoff=5.0)
    in_flight(poller)
    assert poller.poll_failed("offline") == wait(1.0)
    assert poller.connection == "offline" and poller.failing_since == clock.now
    assert poller.pause() == KEEP, "pausing does not stop the recovery of a dead link"
    for expected in (2.0, 4.0, 5.0, 5.0):
        assert poller.poll_started()
        clock.now += 1
        assert poller.poll_failed("error") == wait(expected)
    assert poller.retry_in() == 5.0
    clock.now += 2
    assert poller.retry_in() == 3.0
    assert poller.poll_started()
    assert poller.poll_succeeded() == CANCEL, "back online while paused: idle"
    assert (poller.failures, poller.failing_since, poller.connection) == (0, None, "online")


def test_retry_after_auth_and_tls() -> None:
    poller, _ = make(interval=1.0, max_backoff=4.0, hard_failure_retry=30.0)
    in_flight(poller)
    assert poller.poll_failed("error", retry_after=6.0) == wait(6.0), "Retry-After honoured"
    poller.poll_started()
    assert poller.poll_failed("error", retry_after=60.0) == wait(8.0), "capped at 2x max"
    poller.poll_started()
    assert poller.poll_failed("auth") == wait(30.0)
    poller.poll_started()
    assert poller.poll_failed("tls") == wait(30.0) and poller.connection == "tls"


def test_jitter_lengthens_retries_only() -> None:
    clock = Clock()
    poller = Poller(PollerConfig(1.0, jitter=0.5), clock=clock, rng=lambda: 1.0)
    in_flight(poller)
    assert poller.poll_failed("offline") == wait(1.5)
    poller.poll_started()
    assert poller.poll_succeeded() == wait(1.0)


def test_interval_and_focus_rearm_from_the_last_poll() -> None:
    poller, clock = make(interval=2.0, blur_factor=5.0, blur_min=10.0)
    in_flight(poller)
    poller.poll_succeeded()
    clock.now += 0.5
    assert poller.set_interval(5.0) == wait(4.5)
    assert poller.set_interval(0.5) == NOW, "already overdue on the new interval"
    poller.poll_started()
    poller.poll_succeeded()
    assert poller.focus_lost() == wait(10.0) and poller.effective_interval() == 10.0
    assert poller.focus_lost() == KEEP
    clock.now += 3
    assert poller.focus_regained() == NOW, "regaining focus polls data older than the interval"
    assert poller.focus_regained() == KEEP


def test_focus_and_interval_do_not_touch_a_retry() -> None:
    poller, _ = make()
    in_flight(poller)
    poller.poll_failed("offline")
    assert poller.focus_lost() == KEEP
    assert poller.set_interval(1.0) == KEEP
    assert poller.phase == "waiting"


def test_stop_ends_the_loop() -> None:
    poller, _ = make()
    in_flight(poller)
    poller.refresh_now()
    assert poller.stop() == KEEP, "the poll in flight may finish"
    assert poller.poll_succeeded() == CANCEL and poller.phase == "idle"
    for event in (poller.refresh_now, poller.resume, poller.start):
        assert event() == KEEP
    waiting, _ = make()
    in_flight(waiting)
    waiting.poll_succeeded()
    assert waiting.stop() == CANCEL


def test_stale_and_data_age() -> None:
    poller, clock = make(interval=2.0)
    assert poller.data_age() is None and not poller.is_stale()
    in_flight(poller)
    poller.poll_succeeded()
    clock.now += 11
    assert poller.data_age() == 11 and not poller.is_stale()
    clock.now += 1
    assert poller.is_stale(), "more than 3 intervals + 5 s without a poll"
    poller.poll_started()
    poller.poll_succeeded()
    assert not poller.is_stale()
    poller.poll_started()
    poller.poll_failed("offline")
    assert poller.is_stale(), "a failing link makes the data stale at once"


def test_results_that_arrive_when_no_poll_is_in_flight_change_no_timer() -> None:
    poller, _ = make()
    assert poller.poll_succeeded() == KEEP and poller.connection == "online"
    assert poller.poll_failed("offline") == KEEP and poller.phase == "idle"
