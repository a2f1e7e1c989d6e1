"""Queued and running counts over the last minutes, for the summary line's sparklines.

Textual-free. ``observe`` is called whenever the counts may have changed (every store
change and every second); ``sample`` closes a period of ``every`` seconds with the highest
counts seen in it, so a burst that came and went between two samples still shows.
"""

from __future__ import annotations

from collections import deque

SAMPLE_EVERY = 5.0
WINDOW = 300.0
"""Five minutes of history, one bar per ``SAMPLE_EVERY`` seconds."""


class CountTrend:
    def __init__(self, every: float = SAMPLE_EVERY, window: float = WINDOW) -> None:
        self.every = every
        self.size = max(2, round(window / every))
        """Samples in a full window."""
        self.queued: deque[int] = deque(maxlen=self.size)
        self.running: deque[int] = deque(maxlen=self.size)
        self._period_start: float | None = None
        self._peak = (0, 0)

    def observe(self, queued: int, running: int) -> None:
        """Counts now; the period's peak is what its sample shows."""
        self._peak = (max(self._peak[0], queued), max(self._peak[1], running))

    def sample(self, now: float) -> bool:
        """Close the period if ``every`` seconds passed (monotonic ``now``); True if a
        sample was added. The first call opens the first period."""
        if self._period_start is None:
            self._period_start = now
            return False
        if now - self._period_start < self.every - 1e-6:
            return False
        self.queued.append(self._peak[0])
        self.running.append(self._peak[1])
        self._period_start = now
        self._peak = (0, 0)
        return True
