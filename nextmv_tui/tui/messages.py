"""Messages workers post to the UI. Workers never touch widgets; handlers own all state.

Each message carries the run ID it is about so a handler can drop answers that arrive for
a run that is no longer selected (a cancelled worker may still have posted one).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:  # annotations only: the history and submit modules load after first paint
    from nextmv_tui.cloud.history_fetch import HistoryEvent
    from nextmv_tui.cloud.models import RunInformation
    from nextmv_tui.cloud.queue_reader import QueueSnapshot
    from nextmv_tui.cloud.status import RunStatus
    from nextmv_tui.tui.forms import SubmitForm


@dataclass
class QueueLoaded(Message):
    """A queue poll answered. ``token`` orders polls against session-submitted runs;
    ``snapshot`` holds every run ID and the entries that changed since the reader's last
    committed snapshot (``cloud/queue_reader.py``)."""

    snapshot: QueueSnapshot
    token: int


class QueuePreviewed(Message):
    """The first queue, read without pydantic (``QueueReader.preview``), to be shown now;
    the same poll validates it and posts ``QueueLoaded`` once ``painted`` is set; or, with
    ``rejected``, that answer did not validate: its rows are withdrawn. (A plain class: a
    dataclass costs about 0.5 ms of launch to create.)"""

    def __init__(self, snapshot: QueueSnapshot, token: int, painted: asyncio.Event,
                 rejected: bool = False) -> None:
        super().__init__()
        self.snapshot, self.token, self.painted, self.rejected = (
            snapshot, token, painted, rejected)


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
class DetailFetched(Message):
    """One poll of the detail pane's run answered (bubbles: the screen updates the store).

    ``info`` is None when only the log was due; ``log_token``/``next_log_in`` are set when
    the live log was read; ``output`` (text, is_json) comes with the final poll."""

    run_id: str
    info: RunInformation | None = None
    lines: list[str] = field(default_factory=list)
    reset: bool = False
    log_token: str | None = None
    next_log_in: float | None = None
    log_status: RunStatus | None = None
    """The status the live log's answer carried (it is final before the queue knows)."""
    output: tuple[str, bool] | None = None
    statistics: dict[str, Any] | None = None
    """The output's ``statistics`` (final poll): where Cloud apps report them, series and all;
    run metadata carries only flat metrics."""


@dataclass
class DetailFailed(Message):
    """A poll of the detail pane's run failed (shown in the pane's status line)."""

    run_id: str
    error: Exception


@dataclass
class CancelFinished(Message):
    run_id: str
    app_id: str
    ok: bool
    message: str
    bulk: bool = False
    """One of several runs canceled at once: one ``BulkFinished`` toast sums them up."""


@dataclass
class BulkFinished(Message):
    """A bulk action on picked runs ended: which runs it worked for, and why not for others."""

    action: str
    """``cancel`` or ``save``."""
    done: list[str]
    failed: list[tuple[str, str]]
    where: str = ""


@dataclass
class CloneReady(Message):
    """A run's input and options, ready in the submit form (input under ``work_dir``)."""

    run_id: str
    work_dir: Path
    form: SubmitForm


@dataclass
class CloneFailed(Message):
    run_id: str
    work_dir: Path
    error: str


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


@dataclass
class HistoryArrived(Message):
    """An event of the run history's fetcher (runs listed, a problem, the launch load done)."""

    event: HistoryEvent
    generation: int = 0
    """Which start of the history sent it: events of a fetcher stopped by a profile switch
    are dropped (another account's runs)."""
