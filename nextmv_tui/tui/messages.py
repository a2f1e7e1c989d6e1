"""Messages workers post to the UI. Workers never touch widgets; handlers own all state.

Each message carries the run ID it is about so a handler can drop answers that arrive for
a run that is no longer selected (a cancelled worker may still have posted one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from nextmv_tui.cloud.models import QueuedRun, RunInformation


@dataclass
class QueueLoaded(Message):
    """A queue poll answered. ``token`` orders polls against session-submitted runs."""

    runs: list[QueuedRun]
    token: int
    latency: float


@dataclass
class QueueFailed(Message):
    """A queue poll failed; ``error`` is shown as is (NextmvError messages are readable)."""

    error: Exception
    token: int


@dataclass
class FinalStateLoaded(Message):
    """The final state of a run that left the queue."""

    info: RunInformation


@dataclass
class FinalStateFailed(Message):
    run_id: str
    error: Exception


@dataclass
class DetailLoaded(Message):
    """Fresh run information for the run shown in the detail pane."""

    info: RunInformation


@dataclass
class DetailFailed(Message):
    run_id: str
    error: Exception
    retry_in: float


@dataclass
class DetailLogs(Message):
    """New live-log lines for the detailed run (``reset`` replaces what is shown)."""

    run_id: str
    lines: list[str]
    reset: bool = False


@dataclass
class DetailOutput(Message):
    """The output preview (pretty JSON, a summary, or why there is none)."""

    run_id: str
    text: str
    is_json: bool


@dataclass
class CancelFinished(Message):
    run_id: str
    app_id: str
    ok: bool
    message: str


@dataclass
class OutputSaved(Message):
    run_id: str
    path: Path | None
    error: str = ""


@dataclass
class JumpFound(Message):
    """A run asked for by ID (``g``) that was not listed was found on the server."""

    info: RunInformation


@dataclass
class JumpMissed(Message):
    run_id: str
    reason: str


@dataclass
class DemoSubmitted(Message):
    """The demo feeder created a run (listed at once, even if it finishes before a poll)."""

    run_id: str
    app_id: str
    name: str
