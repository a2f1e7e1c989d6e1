"""The SDK's polling schedule as a pure, deterministic object, plus a poll-until-final loop.

Schedule (nextmv 1.13 ``polling.poll``): sleep ``initial_delay``, then after try ``i``
(1-based) sleep ``min(max_delay, delay + backoff * 2**i) + U(0, jitter)``; the jitter is
added after the cap, as the SDK does. ``max_tries`` / ``max_duration`` < 0 mean no limit.
Clock and random source are injected so tests are exact.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import msgspec

from nextmv_tui.cloud.errors import PollTimeoutError
from nextmv_tui.cloud.status import RunStatus


class PollingOptions(msgspec.Struct, frozen=True):
    initial_delay: float = 1.0
    delay: float = 0.1
    backoff: float = 0.9
    jitter: float = 1.0
    max_delay: float = 20.0
    max_tries: int = -1
    max_duration: float = -1.0


class PollSchedule:
    """``delay(i) = min(max_delay, delay + backoff * 2**i) + U(0, jitter)`` for try i >= 1."""

    def __init__(
        self,
        options: PollingOptions | None = None,
        *,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options or PollingOptions()
        self._rng = rng
        self._clock = clock
        self._started: float | None = None

    def initial_delay(self) -> float:
        return max(0.0, self.options.initial_delay)

    def delay_after(self, attempt: int) -> float:
        """Seconds to sleep after try ``attempt`` (1-based)."""
        opts = self.options
        exponent = min(max(attempt, 1), 60)
        base = min(opts.max_delay, opts.delay + opts.backoff * 2.0**exponent)
        return max(0.0, base + opts.jitter * self._rng())

    def start(self) -> None:
        """Start the max-duration clock."""
        self._started = self._clock()

    def elapsed(self) -> float:
        if self._started is None:
            return 0.0
        return self._clock() - self._started

    def tries_exhausted(self, tries: int) -> bool:
        return self.options.max_tries >= 0 and tries >= self.options.max_tries

    def expired(self) -> bool:
        return self.options.max_duration >= 0 and self.elapsed() >= self.options.max_duration


PROMPT_FIRST = 0.25
PROMPT_CAP = 1.0
PROMPT_LONG_CAP = 5.0


def prompt_delay(attempt: int, elapsed: float) -> float:
    """Follow a run so a waiter returns promptly when it ends (``submit --wait``).

    0.25, 0.5, 1, 1, ... s: at most 1 s late for a run of up to a minute (the SDK's
    schedule is up to 21 s late). Longer runs are polled every ``elapsed / 60`` s, at most
    5 s, so an hour-long run costs ~720 requests instead of 3,600.
    """
    cap = min(PROMPT_LONG_CAP, max(PROMPT_CAP, elapsed / 60.0))
    return min(cap, PROMPT_FIRST * 2.0 ** min(max(attempt - 1, 0), 10))


LIVE_LOG_MIN = 0.2
LIVE_LOG_MAX = 10.0


def live_log_delay(hint: float) -> float:
    """The wait before the next live-logs call: the server's ``next_available_in_seconds``,
    kept in [0.2, 10] s (0, a negative or a missing hint would mean a tight loop: 1 s)."""
    if not math.isfinite(hint) or hint <= 0:
        return 1.0
    return min(LIVE_LOG_MAX, max(LIVE_LOG_MIN, hint))


class HasStatus(Protocol):
    @property
    def status(self) -> RunStatus: ...


T = TypeVar("T", bound=HasStatus)


async def poll_until_final(
    fetch: Callable[[], Awaitable[T]],
    options: PollingOptions | None = None,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    stop: Callable[[], bool] | None = None,
    on_update: Callable[[T], None] | None = None,
    rng: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.monotonic,
    delay: Callable[[int, float], float] | None = None,
) -> T | None:
    """Call ``fetch`` on the schedule until its ``status`` is succeeded, failed or canceled.

    Returns the final value, or None when ``stop()`` became true. Raises ``PollTimeoutError``
    when ``max_tries`` or ``max_duration`` runs out; errors from ``fetch`` propagate.
    ``on_update`` sees every fetched value (progress display). ``delay(tries, elapsed)``,
    when given, replaces the schedule's waits (e.g. ``prompt_delay``).
    """
    schedule = PollSchedule(options, rng=rng, clock=clock)
    schedule.start()
    await sleep(schedule.initial_delay())
    tries = 0
    while True:
        if schedule.tries_exhausted(tries):
            raise PollTimeoutError(f"run did not finish after {tries} polls")
        if stop is not None and stop():
            return None
        value = await fetch()
        tries += 1
        if on_update is not None:
            on_update(value)
        if value.status.is_final:
            return value
        if schedule.expired():
            raise PollTimeoutError(
                f"run did not finish within {schedule.options.max_duration:g} s "
                f"(last status: {value.status.value})"
            )
        wait = schedule.delay_after(tries) if delay is None else delay(tries, schedule.elapsed())
        await sleep(wait)
