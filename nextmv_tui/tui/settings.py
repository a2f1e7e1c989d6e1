"""Everything the monitor needs to start, resolved before Textual runs.

One plain record (a ``msgspec.Struct``: cheap to create at launch) so the CLI, the tests,
the benchmarks and the screenshot script build the same app through ``make_app(settings)``.
Clocks and the HTTP transport are injectable: tests use them for determinism (snapshots)
and to inject faults a real server cannot produce; production leaves them at their defaults.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.history import HistoryOptions

if TYPE_CHECKING:
    import httpx

    from nextmv_tui.tui.prefetch import QueuePrefetch

MIN_REFRESH = 0.5
MAX_REFRESH = 60.0
REFRESH_STEPS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0, 60.0)
"""Intervals the ``+``/``-`` keys step through (seconds)."""

BLUR_FACTOR = 5.0
BLUR_MIN_REFRESH = 10.0
"""While the terminal has lost focus the queue is polled at max(interval * 5, 10 s)."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def clamp_refresh(seconds: float) -> float:
    """Keep an interval in [MIN_REFRESH, MAX_REFRESH]; the CLI rejects values outside."""
    return min(MAX_REFRESH, max(MIN_REFRESH, seconds))


def next_refresh(current: float, faster: bool) -> float:
    """The next step of REFRESH_STEPS below (faster) or above (slower) ``current``."""
    if faster:
        smaller = [s for s in REFRESH_STEPS if s < current - 1e-9]
        return smaller[-1] if smaller else REFRESH_STEPS[0]
    larger = [s for s in REFRESH_STEPS if s > current + 1e-9]
    return larger[0] if larger else REFRESH_STEPS[-1]


class Settings(msgspec.Struct):
    """Resolved options of one monitor session."""

    config: ClientConfig
    app_id: str | None = None
    refresh: float = 2.0
    read_only: bool = False
    bell: bool = False
    local: bool = False
    demo: bool = False
    poll: bool = True
    """False only in snapshot tests that pre-populate the store and must not poll."""
    clock: Callable[[], datetime] = _utcnow
    """Wall clock for relative times ("3m ago"); fixed in snapshot tests."""
    monotonic: Callable[[], float] = time.monotonic
    transport: httpx.AsyncBaseTransport | None = None
    """Test hook: an httpx transport for the client (fault injection, fixed data)."""
    request_timeout: float = 10.0
    """Per-request timeout of the monitor's client; the poll loop does its own backoff."""
    prefetch: QueuePrefetch | None = None
    """The first queue request, started by the CLI before the imports (launch time)."""
    max_backoff: float = 30.0
    """Longest wait between queue retries while offline (tests shorten it)."""
    keymap_path: Path | None = None
    """The user's keymap file (the CLI passes the platform config dir's ``keymap.yaml``);
    None: default keys only (tests)."""
    history: HistoryOptions = msgspec.field(default_factory=HistoryOptions)
    """Run history bounds and cadence (``--history``; see cloud/history.py)."""
    screenshot_dir: Path | None = None
    """Where the palette's Screenshot saves SVGs; None: the current folder."""

    @property
    def profile(self) -> str:
        """The profile in use; "-" when the key came from a flag or the environment."""
        if self.config.profile:
            return self.config.profile
        return "default" if "config.yaml" in self.config.source else "-"

    @property
    def endpoint(self) -> str:
        return self.config.endpoint

    def __post_init__(self) -> None:
        self.refresh = clamp_refresh(self.refresh)
