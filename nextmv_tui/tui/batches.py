"""The filter's words and batch experiments' progress, Textual-free.

A filter is free text (a case-insensitive substring of the row's text columns) plus, as any
of its words, ``batch:ID`` (the runs of one batch experiment). ``batch_progress`` counts a
batch's runs by state for the summary line and the detail pane (``bx-42: 7/10 done,
1 failed``); it counts the runs the monitor knows, i.e. within the history's bounds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from nextmv_tui.cloud.status import RunStatus

if TYPE_CHECKING:
    from nextmv_tui.tui.state import RunRow

BATCH_PREFIX = "batch:"


class RunFilter(msgspec.Struct, frozen=True):
    text: str = ""
    """Lower-cased free text, matched as a substring; empty matches every run."""
    batch: str | None = None
    """``batch:ID``: only runs of this batch experiment (case-insensitive)."""

    @property
    def empty(self) -> bool:
        return not self.text and self.batch is None


def parse_filter(raw: str) -> RunFilter:
    """``"batch:bx-42 routing"`` -> batch ``bx-42``, text ``routing``. A bare ``batch:``
    is plain text (the user is still typing)."""
    batch: str | None = None
    words: list[str] = []
    for word in raw.split():
        if word.lower().startswith(BATCH_PREFIX) and len(word) > len(BATCH_PREFIX):
            batch = word[len(BATCH_PREFIX):].lower()
        else:
            words.append(word)
    return RunFilter(" ".join(words).lower(), batch)


class BatchProgress(msgspec.Struct, frozen=True):
    batch_id: str
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    canceled: int = 0
    running: int = 0
    queued: int = 0
    gone: int = 0
    """Deleted on the server: finished, in an unknown state."""

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.canceled + self.gone

    def text(self) -> str:
        """``bx-42: 7/10 done, 1 failed, 2 running`` (zero counts left out)."""
        parts = [f"{self.done}/{self.total} done"]
        for count, word in ((self.failed, "failed"), (self.canceled, "canceled"),
                            (self.running, "running"), (self.queued, "queued")):
            if count:
                parts.append(f"{count} {word}")
        return f"{self.batch_id}: {', '.join(parts)}"


def batch_progress(rows: Iterable[RunRow], batch_id: str) -> BatchProgress | None:
    """Progress of the batch ``batch_id`` (case-insensitive) among ``rows``; None if none
    of them belongs to it."""
    wanted = batch_id.lower()
    counts = dict.fromkeys(
        ("total", "succeeded", "failed", "canceled", "running", "queued", "gone"), 0)
    name = batch_id
    for row in rows:
        if not row.batch_id or row.batch_id.lower() != wanted:
            continue
        name = row.batch_id
        counts["total"] += 1
        if row.gone:
            counts["gone"] += 1
        elif row.left_queue or row.status is RunStatus.RUNNING:
            counts["running"] += 1
        elif row.status.value in counts and row.status is not RunStatus.NONE:
            counts[row.status.value] += 1
    if not counts["total"]:
        return None
    return BatchProgress(name, **counts)
