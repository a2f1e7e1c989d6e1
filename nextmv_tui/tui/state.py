"""RunStore: what the monitor knows about runs, independent of Textual.

Queue snapshots are diffed by run ID into added / changed / left-the-queue sets so the table
can be updated incrementally. Runs that leave the queue stay in the store until their final
state is known and then as history (bounded: the latest ``history_limit`` finished runs), so
a user sees that a run finished and how. The selected run is tracked by ID, never by row
index, because rows move under the cursor on every refresh, sort and filter.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from nextmv_tui.cloud.models import QueuedRun, RunInformation
from nextmv_tui.cloud.status import RunStatus

HISTORY_LIMIT = 500

def objective_of(statistics: object) -> float | None:
    """``statistics.result.value`` when it is a finite number: the run's objective."""
    result = statistics.get("result") if isinstance(statistics, dict) else None
    value = result.get("value") if isinstance(result, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _fingerprint(entry: QueuedRun) -> tuple[object, ...]:
    return (
        entry.status_v2, entry.status_changed_at, entry.name, entry.application_id,
        entry.application_instance_id, entry.application_version_id, entry.execution_class,
        entry.user_email, entry.created_at, entry.queuing_priority,
    )


@dataclass
class RunRow:
    """One run as the monitor shows it."""

    run_id: str
    app_id: str
    status: RunStatus
    status_since: datetime
    """When the run entered ``status``: the server's ``status_changed_at`` when it sends
    one, else the first time this session saw the run in that state."""
    name: str = ""
    instance_id: str = ""
    version_id: str = ""
    execution_class: str = ""
    user: str = ""
    created_at: datetime | None = None
    priority: int | None = None
    in_queue: bool = False
    """Present in the latest queue snapshot."""
    left_queue: bool = False
    """Left the queue and its final state has not been fetched yet."""
    gone: bool = False
    """Left the queue and the server no longer knows it (deleted)."""
    error: str = ""
    submitted: bool = False
    marked: bool = False
    """Watched with m: a toast when it finishes."""
    picked: bool = False
    """Picked with space: bulk actions (cancel, copy IDs, save outputs) act on picked runs."""
    objective: float | None = None
    """The statistics' ``result.value`` once known (None sorts last)."""
    added_token: int = 0
    rev: int = 0
    fingerprint: tuple[object, ...] = ()
    """The last queue entry's fields: an identical entry is skipped without merging."""

    @property
    def is_final(self) -> bool:
        return self.status.is_final or self.gone

    @property
    def is_active(self) -> bool:
        """Queued or running as far as we know (cancel is offered only for these)."""
        return self.status.is_cancelable and not self.left_queue and not self.gone

    @property
    def status_word(self) -> str:
        if self.gone:
            return "gone"
        if self.left_queue:
            return "finishing"
        return self.status.value

    def search_text(self) -> str:
        return " ".join(
            (
                self.status_word, self.run_id, self.name, self.app_id, self.instance_id,
                self.version_id, self.execution_class, self.user,
            )
        ).lower()


@dataclass
class Change:
    """The effect of one update on the store, for the table and notifications."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    """Runs that just left the queue: fetch their final state once."""
    finished: list[str] = field(default_factory=list)
    """Runs that just became final (notify if marked or submitted here)."""

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)


class RunStore:
    """Runs by ID plus the selected run ID and the bounded finished-run history."""

    def __init__(self, history_limit: int = HISTORY_LIMIT) -> None:
        self.rows: dict[str, RunRow] = {}
        self.selected: str | None = None
        self.history_limit = history_limit
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._token = 0
        self._epoch = 0
        self._fetching: set[str] = set()
        self._picked: dict[str, None] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self.rows

    def get(self, run_id: str | None) -> RunRow | None:
        return self.rows.get(run_id) if run_id else None

    # --- queue snapshots ------------------------------------------------------------------

    def begin_poll(self) -> int:
        """Token of a poll about to start: runs submitted after it may be absent from it."""
        self._token += 1
        return self._token

    def apply_queue(self, runs: Sequence[QueuedRun], token: int, now: datetime) -> Change:
        """Diff a queue snapshot (taken by poll ``token``) into the store."""
        change = Change()
        seen: set[str] = set()
        for entry in runs:
            if entry.id in seen:
                continue
            seen.add(entry.id)
            row = self.rows.get(entry.id)
            fingerprint = _fingerprint(entry)
            if row is None:
                row = self._row_from_queue(entry, now)
                row.added_token = token
                row.fingerprint = fingerprint
                self.rows[entry.id] = row
                change.added.append(entry.id)
                continue
            if row.fingerprint == fingerprint and row.in_queue and not row.left_queue:
                continue  # the common case at 10k runs: nothing about it changed
            row.fingerprint = fingerprint
            if self._merge_queue_entry(row, entry, now):
                change.changed.append(entry.id)
        for row in self.rows.values():
            if row.run_id in seen or row.is_final or row.left_queue:
                continue
            # Absent from this snapshot: it left the queue, unless it was submitted after the
            # poll started (the snapshot could not know it yet).
            if row.in_queue or row.added_token < token:
                row.in_queue = False
                row.left_queue = True
                row.rev += 1
                change.changed.append(row.run_id)
                change.left.append(row.run_id)
        return change

    def _row_from_queue(self, entry: QueuedRun, now: datetime) -> RunRow:
        return RunRow(
            run_id=entry.id,
            app_id=entry.application_id,
            status=entry.status_v2,
            status_since=entry.status_changed_at or now,
            name=entry.name,
            instance_id=entry.application_instance_id,
            version_id=entry.application_version_id,
            execution_class=entry.execution_class,
            user=entry.user_email,
            created_at=entry.created_at,
            priority=entry.queuing_priority,
            in_queue=True,
        )

    def _merge_queue_entry(self, row: RunRow, entry: QueuedRun, now: datetime) -> bool:
        before = (
            row.status, row.status_since, row.name, row.app_id, row.instance_id, row.version_id,
            row.execution_class, row.user, row.created_at, row.priority, row.in_queue,
            row.left_queue,
        )
        row.in_queue = True
        row.name = entry.name or row.name
        row.app_id = entry.application_id or row.app_id
        row.instance_id = entry.application_instance_id or row.instance_id
        row.version_id = entry.application_version_id or row.version_id
        row.execution_class = entry.execution_class or row.execution_class
        row.user = entry.user_email or row.user
        row.created_at = entry.created_at
        row.priority = entry.queuing_priority if entry.queuing_priority else row.priority
        if not row.is_final:
            # A final state learned from run information wins over a lagging snapshot.
            row.left_queue = False
            self._set_status(row, entry.status_v2, entry.status_changed_at, now)
        after = (
            row.status, row.status_since, row.name, row.app_id, row.instance_id, row.version_id,
            row.execution_class, row.user, row.created_at, row.priority, row.in_queue,
            row.left_queue,
        )
        if before != after:
            row.rev += 1
            return True
        return False

    @staticmethod
    def _set_status(
        row: RunRow, status: RunStatus, changed_at: datetime | None, now: datetime
    ) -> None:
        if changed_at is not None:
            row.status_since = changed_at
        elif status != row.status:
            row.status_since = now
        row.status = status

    # --- run information (final states, detail pane) --------------------------------------

    def apply_info(self, info: RunInformation, now: datetime) -> Change:
        """Merge run information; a final status moves the run into the history."""
        change = Change()
        meta = info.metadata
        row = self.rows.get(info.id)
        if row is None:
            row = RunRow(
                run_id=info.id, app_id=meta.application_id, status=meta.status_v2,
                status_since=meta.status_changed_at or now, created_at=meta.created_at,
                added_token=self._token,
            )
            self.rows[info.id] = row
            change.added.append(info.id)
        was_final = row.is_final
        before = (
            row.status, row.status_since, row.name, row.error, row.left_queue,
            row.instance_id, row.version_id, row.execution_class, row.user,
        )
        row.name = info.name or row.name
        row.user = info.user_email or row.user
        row.app_id = meta.application_id or row.app_id
        row.instance_id = meta.application_instance_id or row.instance_id
        row.version_id = meta.application_version_id or row.version_id
        row.execution_class = meta.execution_class or row.execution_class
        row.created_at = row.created_at or meta.created_at
        if meta.queuing_priority:
            row.priority = meta.queuing_priority
        row.error = meta.error
        objective = objective_of(meta.statistics)
        if objective is not None:
            row.objective = objective
        status = meta.status_v2
        if not was_final:
            if status.is_final:
                row.left_queue = False
                row.in_queue = False
            self._set_status(row, status, meta.status_changed_at, now)
        elif status.is_final and status != row.status and not row.gone:
            # e.g. shown canceled on the cancel answer, but the run had already finished
            self._set_status(row, status, meta.status_changed_at, now)
        after = (
            row.status, row.status_since, row.name, row.error, row.left_queue,
            row.instance_id, row.version_id, row.execution_class, row.user,
        )
        if before != after and info.id not in change.added:
            row.rev += 1
            change.changed.append(info.id)
        if row.is_final and not was_final:
            change.finished.append(info.id)
            change.removed.extend(self._remember_finished(info.id))
        self._fetching.discard(info.id)
        return change

    def mark_gone(self, run_id: str, reason: str) -> Change:
        """The server no longer knows a run that left the queue: keep it, say so."""
        change = Change()
        row = self.rows.get(run_id)
        self._fetching.discard(run_id)
        if row is None or row.is_final:
            return change
        row.gone = True
        row.left_queue = False
        row.error = reason
        row.rev += 1
        change.changed.append(run_id)
        change.finished.append(run_id)
        change.removed.extend(self._remember_finished(run_id))
        return change

    def _remember_finished(self, run_id: str) -> list[str]:
        self._finished[run_id] = None
        self._finished.move_to_end(run_id)
        evicted: list[str] = []
        while len(self._finished) > self.history_limit:
            old, _ = self._finished.popitem(last=False)
            self.rows.pop(old, None)
            self._picked.pop(old, None)
            if self.selected == old:
                self.selected = None
            evicted.append(old)
        return evicted

    def pending_final(self) -> list[RunRow]:
        """Runs that left the queue whose final state is not known nor being fetched."""
        return [
            row for row in self.rows.values()
            if row.left_queue and not row.is_final and row.run_id not in self._fetching
        ]

    def fetching(self, run_ids: Iterable[str]) -> None:
        self._fetching.update(run_ids)

    def fetch_failed(self, run_id: str) -> None:
        """A final-state fetch failed transiently: it is pending again (next poll retries)."""
        self._fetching.discard(run_id)

    # --- session actions ------------------------------------------------------------------

    def add_submitted(
        self,
        run_id: str,
        app_id: str,
        name: str,
        now: datetime,
        *,
        instance_id: str = "",
        by_user: bool = True,
    ) -> Change:
        """A run submitted in this session: listed at once as queued, before any poll.

        ``by_user`` runs (not the demo feeder's) get a notification when they finish."""
        change = Change()
        row = self.rows.get(run_id)
        if row is None:
            row = RunRow(
                run_id=run_id, app_id=app_id, status=RunStatus.QUEUED, status_since=now,
                name=name, instance_id=instance_id, created_at=now, added_token=self._token,
            )
            self.rows[run_id] = row
            change.added.append(run_id)
        row.submitted = row.submitted or by_user
        return change

    def set_canceled(self, run_id: str, now: datetime) -> Change:
        """Cancel accepted by the server: show it at once (the next fetch confirms)."""
        change = Change()
        row = self.rows.get(run_id)
        if row is None or row.is_final:
            return change
        row.in_queue = False
        row.left_queue = False
        self._set_status(row, RunStatus.CANCELED, None, now)
        row.rev += 1
        change.changed.append(run_id)
        change.finished.append(run_id)
        change.removed.extend(self._remember_finished(run_id))
        return change

    def toggle_mark(self, run_id: str) -> bool:
        row = self.rows.get(run_id)
        if row is None:
            return False
        row.marked = not row.marked
        row.rev += 1
        return row.marked

    def toggle_pick(self, run_id: str) -> bool:
        """Pick or unpick a run for the bulk actions; True when it is now picked."""
        row = self.rows.get(run_id)
        if row is None:
            return False
        row.picked = not row.picked
        row.rev += 1
        if row.picked:
            self._picked[run_id] = None
        else:
            self._picked.pop(run_id, None)
        return row.picked

    @property
    def picked_count(self) -> int:
        return len(self._picked)

    def picked(self) -> list[RunRow]:
        """The picked runs, in the order they were picked."""
        return [self.rows[run_id] for run_id in self._picked if run_id in self.rows]

    def clear_picks(self) -> list[str]:
        """Unpick every run; returns the run IDs that changed."""
        changed = list(self._picked)
        for run_id in changed:
            row = self.rows.get(run_id)
            if row is not None:
                row.picked = False
                row.rev += 1
        self._picked.clear()
        return changed

    def reset(self) -> None:
        """Forget every run (another account or endpoint): answers to polls started before
        this call are ignored (``is_current``)."""
        self.rows.clear()
        self.selected = None
        self._finished.clear()
        self._fetching.clear()
        self._picked.clear()
        self._epoch = self._token

    def is_current(self, token: int) -> bool:
        """False for a poll started before the last ``reset``."""
        return token > self._epoch

    # --- views ------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Runs per status word, in a stable display order, zero counts omitted."""
        order = ("running", "queued", "finishing", "succeeded", "failed", "canceled",
                 "none", "unknown", "gone")
        raw = Counter(
            "gone" if row.gone else "finishing" if row.left_queue else row.status.value
            for row in self.rows.values()
        )
        return {word: raw[word] for word in order if raw.get(word)}

    def matches(self, row: RunRow, text: str) -> bool:
        """Case-insensitive substring match across the text columns; empty matches all."""
        needle = text.strip().lower()
        return not needle or needle in row.search_text()

    def visible(self, text: str) -> list[RunRow]:
        return [row for row in self.rows.values() if self.matches(row, text)]
