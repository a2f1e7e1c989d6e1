"""The SDK's polling schedule as a pure, deterministic object. CONTRACT SKELETON."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PollingOptions:
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
        raise NotImplementedError

    def delay_after(self, attempt: int) -> float:
        raise NotImplementedError
