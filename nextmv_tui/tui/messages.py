"""Messages workers post to the UI. Workers never touch widgets; handlers own all state.

Each message carries the run ID it is about so a handler can drop answers that arrive for
a run that is no longer selected (a cancelled worker may still have posted one).

Plain classes with an ``__init__``, not dataclasses: this module is imported before the
first frame, and creating a dataclass costs about 0.8 ms of launch (15 of them: 12 ms).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:  # annotations only: the history and submit modules load after first paint
    from nextmv_tui.cloud.history_fetch import HistoryEvent
    from nextmv_tui.cloud.models import RunInformation
    from nextmv_tui.cloud.queue_reader import QueueSnapshot
    from nextmv_tui.cloud.status import RunStatus
    from nextmv_tui.tui.forms import SubmitForm


class QueueLoaded(Message):
    """A queue poll answered. ``token`` orders polls against session-submitted runs;
    ``snapshot`` holds every run ID and the entries that changed since the reader's last
    committed snapshot (``cloud/queue_reader.py``)."""

    def __init__(self, snapshot: QueueSnapshot, token: int) -> None:
        super().__init__()
        self.snapshot, self.token = snapshot, token


class QueuePreviewed(Message):
    """The first queue, read without pydantic (``QueueReader.preview``), to be shown now;
    the same poll validates it and posts ``QueueLoaded`` once ``painted`` is set; or, with
    ``rejected``, that answer did not validate: its rows are withdrawn."""

    def __init__(self, snapshot: QueueSnapshot, token: int, painted: asyncio.Event,
                 rejected: bool = False) -> None:
        super().__init__()
        self.snapshot, self.token, self.painted, self.rejected = (
            snapshot, token, painted, rejected)


class QueueFailed(Message):
    """A queue poll failed; ``error`` is shown as is (NextmvError messages are readable)."""

    def __init__(self, error: Exception, token: int) -> None:
        super().__init__()
        self.error, self.token = error, token


class FinalStateLoaded(Message):
    """The final state of a run that left the queue."""

    def __init__(self, info: RunInformation) -> None:
        super().__init__()
        self.info = info


class FinalStateFailed(Message):
    def __init__(self, run_id: str, error: Exception) -> None:
        super().__init__()
        self.run_id, self.error = run_id, error


class DetailFetched(Message):
    """One poll of the detail pane's run answered (bubbles: the screen updates the store).

    ``info`` is None when only the log was due. The fetch fills in the rest: ``lines``,
    ``reset``, ``log_token``, ``next_log_in`` and ``log_status`` when the live log was read;
    ``output`` and ``statistics`` with the final poll."""

    def __init__(self, run_id: str, info: RunInformation | None = None) -> None:
        super().__init__()
        self.run_id, self.info = run_id, info
        self.lines: list[str] = []
        self.reset = False
        self.log_token: str | None = None
        self.next_log_in: float | None = None
        self.log_status: RunStatus | None = None
        """The status the live log's answer carried (it is final before the queue knows)."""
        self.output: tuple[str, bool] | None = None
        """The output preview: (text, is_json)."""
        self.statistics: dict[str, Any] | None = None
        """The output's ``statistics``: where Cloud apps report them, series and all; run
        metadata carries only flat metrics."""


class DetailFailed(Message):
    """A poll of the detail pane's run failed (shown in the pane's status line)."""

    def __init__(self, run_id: str, error: Exception) -> None:
        super().__init__()
        self.run_id, self.error = run_id, error


class CancelFinished(Message):
    """A cancel request answered. ``bulk``: one of several runs canceled at once (one
    ``BulkFinished`` toast sums them up)."""

    def __init__(self, run_id: str, app_id: str, ok: bool, message: str,
                 bulk: bool = False) -> None:
        super().__init__()
        self.run_id, self.app_id, self.ok, self.message, self.bulk = (
            run_id, app_id, ok, message, bulk)


class BulkFinished(Message):
    """A bulk action (``cancel`` or ``save``) on picked runs ended: which runs it worked
    for, and why not for the others."""

    def __init__(self, action: str, done: list[str], failed: list[tuple[str, str]],
                 where: str = "") -> None:
        super().__init__()
        self.action, self.done, self.failed, self.where = action, done, failed, where


class CloneReady(Message):
    """A run's input and options, ready in the submit form (input under ``work_dir``)."""

    def __init__(self, run_id: str, work_dir: Path, form: SubmitForm) -> None:
        super().__init__()
        self.run_id, self.work_dir, self.form = run_id, work_dir, form


class CloneFailed(Message):
    def __init__(self, run_id: str, work_dir: Path, error: str) -> None:
        super().__init__()
        self.run_id, self.work_dir, self.error = run_id, work_dir, error


class OutputSaved(Message):
    def __init__(self, run_id: str, path: Path | None, error: str = "") -> None:
        super().__init__()
        self.run_id, self.path, self.error = run_id, path, error


class JumpFound(Message):
    """A run asked for by ID (``g``) that was not listed was found on the server."""

    def __init__(self, info: RunInformation) -> None:
        super().__init__()
        self.info = info


class JumpMissed(Message):
    def __init__(self, run_id: str, reason: str) -> None:
        super().__init__()
        self.run_id, self.reason = run_id, reason


class DemoSubmitted(Message):
    """The demo feeder created a run (listed at once, even if it finishes before a poll)."""

    def __init__(self, run_id: str, app_id: str, name: str) -> None:
        super().__init__()
        self.run_id, self.app_id, self.name = run_id, app_id, name


class HistoryArrived(Message):
    """An event of the run history's fetcher (runs listed, a problem, the launch load done).
    ``generation``: which start of the history sent it; events of a fetcher stopped by a
    profile switch are dropped (another account's runs)."""

    def __init__(self, event: HistoryEvent, generation: int = 0) -> None:
        super().__init__()
        self.event, self.generation = event, generation
