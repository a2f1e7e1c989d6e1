"""HTTP retry policy: exponential backoff with jitter, capped, honouring ``Retry-After``.

The policy only computes waits; the client decides *what* may be retried (GETs and the
presigned PUT on any transient failure, create-run only when the connection never opened).
``sleep`` and ``rng`` are injectable so tests never wait.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

import msgspec

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Statuses a retryable request is sent again on."""


class RetryPolicy(msgspec.Struct, frozen=True):
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    """A server asking to wait longer than this gets a RateLimitedError instead of a wait."""
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        """Wait after failed attempt ``n`` (1-based): ``base * 2**(n-1)`` + jitter, capped."""
        exponent = min(max(attempt - 1, 0), 30)
        return min(self.max_delay, self.base_delay * 2.0**exponent + self.jitter * self.rng())

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The server's ``Retry-After`` when given (never negative), else the backoff."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return self.backoff(attempt)


NO_RETRY = RetryPolicy(max_attempts=1)
"""For callers that want a single attempt (e.g. a TUI refresh that reschedules itself)."""


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent/bad."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        from email.utils import parsedate_to_datetime  # rare: not paid at launch

        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(0.0, seconds)
