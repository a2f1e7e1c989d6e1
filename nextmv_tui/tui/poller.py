"""The polling state machine, Textual-free: events in, the next delay and the connection out.

Both the queue panel and the detail pane's follower poll through one ``Poller`` each. The
owner feeds it events (timer fired, poll succeeded or failed, a key, focus) and turns each
returned ``Decision`` into exactly one thing: ``now`` -> ``call_later(poll)``, ``wait`` ->
a one-shot timer of ``delay`` > 0 s, ``cancel`` -> stop the armed timer, ``keep`` -> nothing.
A "now" is never a 0-second timer (Textual 8's Timer divides by its interval: it would die
silently and polling would stop for good).

Phases: ``idle`` (nothing armed: paused, stopped or not started), ``waiting`` (a timer is
armed until ``due_at``), ``due`` (a poll was asked for and is about to start), ``in_flight``.
At most one poll is in flight; a refresh asked for meanwhile runs right after it (``again``).
The transition table is in ARCHITECTURE.md; tests/tui/test_poller.py covers every row.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Literal

import msgspec

Phase = Literal["idle", "waiting", "due", "in_flight"]
ConnectionState = Literal["connecting", "online", "offline", "error", "limited", "auth", "tls"]
"""``error``: the server answers, but badly (5xx, malformed JSON); ``offline``: no answer."""
FailureKind = Literal["offline", "error", "limited", "auth", "tls"]
"""``limited``: a 429 (the server is up and says to slow down: never "server error")."""

MIN_DELAY = 0.01
"""Shorter waits are decided as "now" (never arm a timer of ~0 s)."""
MAX_EXPONENT = 6


class Decision(msgspec.Struct, frozen=True):
    """What the owner must do with its timer."""

    action: Literal["now", "wait", "cancel", "keep"]
    delay: float = 0.0


NOW = Decision("now")
KEEP = Decision("keep")
CANCEL = Decision("cancel")


class PollerConfig(msgspec.Struct, frozen=True):
    interval: float
    """Seconds between polls when healthy (changed live by faster/slower)."""
    max_backoff: float = 30.0
    """Longest wait between retries of a failing poll (Retry-After may double it)."""
    hard_failure_retry: float = 30.0
    """Wait after an auth or TLS failure: retrying sooner cannot fix them."""
    blur_factor: float = 5.0
    blur_min: float = 10.0
    """While the terminal is unfocused a delay d becomes max(d * blur_factor, blur_min)."""
    jitter: float = 0.0
    """Up to this fraction of a retry delay is added at random (spreads reconnects)."""


class Poller:
    """One poll loop's state; every event method returns the ``Decision`` to apply."""

    def __init__(
        self,
        config: PollerConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.interval = config.interval
        self._clock = clock
        self._rng = rng
        self.phase: Phase = "idle"
        self.connection: ConnectionState = "connecting"
        self.failures = 0
        self.polls_completed = 0
        self.last_ok: float | None = None
        """Clock time of the last successful poll (how old the data is)."""
        self.failing_since: float | None = None
        self.due_at: float | None = None
        self.paused = False
        self.blurred = False
        self.stopped = False
        self.again = False
        self._last_done: float | None = None
        self._next_in: float | None = None

    # --- queries ----------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self.connection in ("online", "connecting")

    def effective(self, delay: float) -> float:
        """``delay`` stretched while the terminal is unfocused."""
        if not self.blurred:
            return delay
        return max(delay * self.config.blur_factor, self.config.blur_min)

    def effective_interval(self) -> float:
        return self.effective(self.interval)

    def data_age(self) -> float | None:
        return None if self.last_ok is None else max(0.0, self._clock() - self.last_ok)

    def is_stale(self) -> bool:
        """Data exists but cannot be trusted as current: a failing link or overdue polls."""
        age = self.data_age()
        if age is None:
            return False
        if self.connection != "online":
            return True
        return age > 3 * self.effective(self._next_in or self.interval) + 5

    def retry_in(self) -> float | None:
        """Seconds until the next retry while failing (the header's countdown)."""
        if self.healthy or self.due_at is None or self.phase != "waiting":
            return None
        return max(0.0, self.due_at - self._clock())

    # --- events: the poll itself ------------------------------------------------------------

    def start(self, delay: float = 0.0) -> Decision:
        """Begin polling (first poll after ``delay``)."""
        if self.phase != "idle" or self.stopped:
            return KEEP
        return self._arm(delay)

    def poll_started(self) -> bool:
        """The timer or ``call_later`` fired: True if the owner must start the poll now."""
        if self.phase not in ("due", "waiting"):
            return False  # a late timer, or a second "now" for the same poll
        self.phase = "in_flight"
        self.due_at = None
        return True

    def poll_succeeded(self, next_in: float | None = None) -> Decision:
        """Data arrived. ``next_in`` overrides the interval once (e.g. the server's pacing)."""
        now = self._clock()
        self.connection = "online"
        self.failures = 0
        self.failing_since = None
        self.last_ok = self._last_done = now
        self.polls_completed += 1
        self._next_in = next_in
        if self.phase != "in_flight":
            return KEEP
        if self.paused and not self.again:
            self.phase = "idle"
            return CANCEL
        return self._after_poll(self.effective(self.interval if next_in is None else next_in))

    def poll_failed(self, kind: FailureKind, retry_after: float | None = None) -> Decision:
        """The poll failed. Retried with backoff even while paused: pausing stops refreshes,
        not the recovery of a dead link."""
        now = self._clock()
        self.failures += 1
        self.failing_since = self.failing_since or now
        self.connection = kind
        if self.phase != "in_flight":
            return KEEP
        return self._after_poll(self._backoff(kind, retry_after))

    def _backoff(self, kind: FailureKind, retry_after: float | None) -> float:
        config = self.config
        if kind in ("auth", "tls"):
            return config.hard_failure_retry
        exponent = min(self.failures - 1, MAX_EXPONENT)
        delay = min(config.max_backoff, self.interval * 2**exponent)
        if retry_after:
            delay = max(delay, min(retry_after, 2 * config.max_backoff))
        return float(delay * (1.0 + config.jitter * self._rng()))

    def _after_poll(self, delay: float) -> Decision:
        if self.stopped:
            self.phase = "idle"
            return CANCEL
        if self.again:
            self.again = False
            return self._arm(0.0)
        return self._arm(delay)

    def _arm(self, delay: float) -> Decision:
        if delay < MIN_DELAY:
            self.phase = "due"
            self.due_at = None
            return NOW
        self.phase = "waiting"
        self.due_at = self._clock() + delay
        return Decision("wait", delay)

    # --- events: the user and the terminal --------------------------------------------------

    def refresh_now(self) -> Decision:
        """``r``: poll at once, or right after the poll in flight."""
        if self.stopped or self.phase == "due":
            return KEEP
        if self.phase == "in_flight":
            self.again = True
            return KEEP
        return self._arm(0.0)

    def pause(self) -> Decision:
        self.paused = True
        if self.phase == "waiting" and self.healthy:
            self.phase = "idle"
            self.due_at = None
            return CANCEL
        return KEEP  # in flight: goes idle when it ends; failing: recovery goes on

    def resume(self) -> Decision:
        self.paused = False
        if self.phase == "idle" and not self.stopped:
            return self._arm(0.0)
        return KEEP

    def toggle_pause(self) -> Decision:
        return self.resume() if self.paused else self.pause()

    def set_interval(self, seconds: float) -> Decision:
        """``+``/``-``: a waiting healthy poll is re-armed on the new interval."""
        self.interval = seconds
        return self._rearm()

    def focus_lost(self) -> Decision:
        if self.blurred:
            return KEEP
        self.blurred = True
        return self._rearm()

    def focus_regained(self) -> Decision:
        if not self.blurred:
            return KEEP
        self.blurred = False
        return self._rearm()

    def stop(self) -> Decision:
        """No more polls (the followed run is final). A poll in flight is let finish."""
        self.stopped = True
        self.again = False
        if self.phase == "in_flight":
            return KEEP
        self.phase = "idle"
        self.due_at = None
        return CANCEL

    def _rearm(self) -> Decision:
        """Recompute the due time of a waiting healthy poll from the last poll's end."""
        if self.phase != "waiting" or not self.healthy or self._last_done is None:
            return KEEP
        delay = self.interval if self._next_in is None else self._next_in
        remaining = self._last_done + self.effective(delay) - self._clock()
        return self._arm(remaining)
