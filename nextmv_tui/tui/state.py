"""RunStore: what the monitor knows about runs, independent of Textual.

Queue snapshots are diffed by run ID into added / changed / left-the-queue sets so the table
can be updated incrementally. Runs that leave the queue stay in the store until their final
state is known and then as finished runs, so a user sees that a run finished and how. The
run history (``apply_history``: each application's recent runs, listed by the history
fetcher) adds runs the queue never showed. What is kept is bounded twice, and a finished
run stays while either bound keeps it:

- runs this session saw in the queue, submitted or opened: the latest ``history_limit``
  (500) to finish;
- runs the history listed: per application the newest ``HistoryBounds.max_runs`` created
  within ``max_age`` (the fetcher's own bounds, so a long session does not grow without
  end), and at most ``max_total`` over all applications.

Rows use slots and hold plain values (no models), so 50,000 of them stay small. The
selected run is tracked by ID, never by row index, because rows move under the cursor on
every refresh, sort and filter.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from nextmv_tui.cloud.history import DEFAULT_MAX_AGE, DEFAULT_MAX_RUNS
from nextmv_tui.cloud.queue_reader import QueueEntry, QueueSnapshot
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.batches import RunFilter, parse_filter
from nextmv_tui.tui.queueing import QueueIndex, timestamp

if TYPE_CHECKING:
    from nextmv_tui.cloud.models import RunInformation, RunSummary

HISTORY_LIMIT = 500
BULK = 1000
COUNT_ORDER = ("running", "queued", "finishing", "succeeded", "failed", "canceled", "none",
               "unknown", "gone")
"""More runs added at once than this (and than are known): positions rebuilt, not filed."""


class HistoryBounds(msgspec.Struct, frozen=True):
    """What the run history keeps (``cloud.history.HistoryOptions``'s bounds)."""

    max_runs: int = DEFAULT_MAX_RUNS
    """Finished runs kept per application (the newest)."""
    max_age: float | None = DEFAULT_MAX_AGE
    """Finished runs created longer ago than this (seconds) are dropped; None: no bound."""
    max_total: int = 50_000
    """Finished history runs kept over all applications (the newest)."""


def _snapshot_of(runs: Sequence[QueueEntry]) -> QueueSnapshot:
    """Parsed entries as a snapshot in which every entry counts as new or changed."""
    entries: dict[str, QueueEntry] = {}
    for entry in runs:
        entries.setdefault(entry.id, entry)
    return QueueSnapshot(list(entries), entries)


def _since(summary: RunSummary) -> datetime | None:
    """When a listed run entered its status: the server's time, else (a finished run on
    Cloud, whose list items have none) its creation plus its duration."""
    if summary.status_changed_at is not None:
        return summary.status_changed_at
    if summary.status_v2.is_final and summary.duration:
        return summary.created_at + timedelta(milliseconds=summary.duration)
    return summary.created_at if summary.status_v2.is_final else None


def _summary_fields(row: RunRow, summary: RunSummary) -> None:
    """Objective, batch and duration from a run list item (never erased by a gap)."""
    objective = summary.objective
    if objective is not None:
        row.objective = objective
    row.batch_id = summary.batch_experiment_id or row.batch_id
    if summary.status_v2.is_final:
        duration = summary.execution_duration or summary.duration
        row.duration_ms = duration if duration is not None else row.duration_ms


class RunRow(msgspec.Struct):
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
    added_token: int = 0
    rev: int = 0
    objective: float | None = None
    """``statistics.result.value`` once known (run list indicators or run information)."""
    batch_id: str = ""
    duration_ms: float | None = None
    """A finished run's execution time (its duration when the server gives no other)."""
    in_history: bool = False
    """Listed by the run history: kept while its bounds keep it."""

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
                self.version_id, self.execution_class, self.user, self.batch_id,
            )
        ).lower()


def _shown(row: RunRow) -> tuple[object, ...]:
    """What a merge may change that the table or the detail pane shows."""
    return (
        row.status, row.status_since, row.name, row.error, row.left_queue, row.in_queue,
        row.instance_id, row.version_id, row.execution_class, row.user, row.priority,
        row.objective, row.batch_id, row.duration_ms,
    )


class Change(msgspec.Struct):
    """The effect of one update on the store, for the table and notifications."""

    added: list[str] = msgspec.field(default_factory=list)
    changed: list[str] = msgspec.field(default_factory=list)
    removed: list[str] = msgspec.field(default_factory=list)
    left: list[str] = msgspec.field(default_factory=list)
    """Runs that just left the queue: fetch their final state once."""
    finished: list[str] = msgspec.field(default_factory=list)
    """Runs that just became final (notify if marked or submitted here)."""
    reparse: list[str] = msgspec.field(default_factory=list)
    """Queue entries reported unchanged for runs the store no longer has: the queue reader
    must parse them again next time (``QueueReader.forget``)."""

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)


class RunStore:
    """Runs by ID plus the selected run ID and the bounded finished runs."""

    def __init__(
        self, history_limit: int = HISTORY_LIMIT, bounds: HistoryBounds | None = None
    ) -> None:
        self.rows: dict[str, RunRow] = {}
        self.selected: str | None = None
        self.history_limit = history_limit
        self.bounds = bounds or HistoryBounds()
        self._finished: OrderedDict[str, None] = OrderedDict()
        """Finished runs this session saw (the queue, a submit, the detail pane)."""
        self._history: dict[str, dict[str, None]] = {}
        """Run IDs the history listed, per application."""
        self._token = 0
        self._epoch = 0
        self._picked: dict[str, None] = {}
        self._fetching: set[str] = set()
        self._left: dict[str, None] = {}
        """Runs seen leaving the queue whose final state may still be unknown (in order)."""
        self._positions = QueueIndex()
        self._words: dict[str, str] = {}
        """Each run's status word as counted (``counts``)."""
        self._word_counts: Counter[str] = Counter()
        self._listed: AbstractSet[str] = frozenset()
        """Run IDs of the last queue snapshot applied."""
        self._unlisted: set[str] = set()
        """Active runs added outside the queue (submitted, history, run information): the
        next snapshots decide whether they left it."""

    def _touched(self, change: Change) -> Change:
        """Keep the queue positions and counts current for the runs ``change`` names (run
        by run: at 50,000 runs nothing here may walk every row on each refresh)."""
        for _ in self._touch_steps(change, 0):
            pass
        return change

    def _touch_steps(self, change: Change, step: int) -> Iterator[Change]:
        """``_touched`` yielding every ``step`` runs (0: never): re-filing the 2,500 runs
        of a 5 % refresh at 50,000 is tens of milliseconds, too long for one slice. Between
        steps a run not re-filed yet shows its previous position and count."""
        for run_id in change.added:
            row = self.rows.get(run_id)
            if row is not None and not row.in_queue and not row.is_final:
                self._unlisted.add(run_id)  # may turn out to have left the queue
        if not change.any:
            return
        index, rows = self._positions, self.rows
        if len(change.added) > BULK and len(change.added) > len(index):
            index.rebuild(rows.values())  # e.g. the first 50,000: one sort per class
            self._count_all()
            return
        words, counts = self._words, self._word_counts
        count = 0
        for ids in (change.added, change.changed, change.removed):
            for run_id in ids:
                row = rows.get(run_id)
                index.update(row, run_id)
                word = row.status_word if row is not None else None
                old = words.pop(run_id, None)
                if old is not None:
                    counts[old] -= 1
                if word is not None:
                    words[run_id] = word
                    counts[word] += 1
                count += 1
                if step and count % step == 0:
                    yield change

    def _count_all(self) -> None:
        self._words = {run_id: row.status_word for run_id, row in self.rows.items()}
        self._word_counts = Counter(self._words.values())

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

    def apply_queue(
        self, snapshot: QueueSnapshot | Sequence[QueueEntry], token: int, now: datetime
    ) -> Change:
        """Diff a queue snapshot (taken by poll ``token``) into the store, all at once."""
        *_, change = self.apply_queue_steps(snapshot, token, now, step=0)
        return change

    def apply_queue_steps(
        self,
        snapshot: QueueSnapshot | Sequence[QueueEntry],
        token: int,
        now: datetime,
        step: int = 250,
    ) -> Iterator[Change]:
        """Diff a queue snapshot (taken by poll ``token``) into the store, ``step`` entries
        at a time (0: all at once): yields the same ``Change`` after each step, complete
        after the last. The store is consistent between steps (each row is merged whole;
        queue positions and counts are re-filed ``step`` runs at a time after the merge,
        and lag behind until then), so the caller may yield to the event loop there.

        A ``QueueSnapshot`` lists every run ID but carries entries only for runs that are
        new or changed since the reader's last committed snapshot: the others are skipped
        without a look (the common case: 95 % of 50,000 runs per refresh). Which runs left
        the queue is found with set operations on the previous snapshot's IDs, not by
        looking at every row."""
        if not isinstance(snapshot, QueueSnapshot):
            snapshot = _snapshot_of(snapshot)
        change = Change()
        rows = self.rows
        for count, (run_id, entry) in enumerate(snapshot.entries.items(), 1):
            row = rows.get(run_id)
            if row is None:
                row = self._row_from_queue(entry, now)
                row.added_token = token
                rows[run_id] = row
                change.added.append(run_id)
            elif self._merge_queue_entry(row, entry, now):
                change.changed.append(run_id)
            if step and count % step == 0:
                yield change
        seen = snapshot.id_set
        if len(snapshot.entries) < len(seen):
            change.reparse = list(seen - rows.keys())
        self._unlisted -= seen
        for run_id in (self._listed - seen) | self._unlisted:
            row = rows.get(run_id)
            if row is None or row.is_final or row.left_queue:
                self._unlisted.discard(run_id)
                continue
            # Absent from this snapshot: it left the queue, unless it was submitted after the
            # poll started (the snapshot could not know it yet).
            if row.in_queue or row.added_token < token:
                row.in_queue = False
                row.left_queue = True
                self._left[run_id] = None
                row.rev += 1
                change.changed.append(run_id)
                change.left.append(run_id)
                self._unlisted.discard(run_id)
        self._listed = seen
        yield from self._touch_steps(change, step)
        yield change

    def _row_from_queue(self, entry: QueueEntry, now: datetime) -> RunRow:
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

    def _merge_queue_entry(self, row: RunRow, entry: QueueEntry, now: datetime) -> bool:
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
        """Merge run information; a final status moves the run into the finished runs."""
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
        before = _shown(row)
        self._merge_info(row, info)
        status = meta.status_v2
        if not was_final:
            if status.is_final:
                row.left_queue = False
                row.in_queue = False
            self._set_status(row, status, meta.status_changed_at, now)
        elif status.is_final and status != row.status and not row.gone:
            # e.g. shown canceled on the cancel answer, but the run had already finished
            self._set_status(row, status, meta.status_changed_at, now)
        if before != _shown(row) and info.id not in change.added:
            row.rev += 1
            change.changed.append(info.id)
        if row.is_final and not was_final:
            change.finished.append(info.id)
            change.removed.extend(self._remember_finished(info.id))
        self._fetching.discard(info.id)
        return self._touched(change)

    @staticmethod
    def _merge_info(row: RunRow, info: RunInformation) -> None:
        meta = info.metadata
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
        row.batch_id = meta.batch_experiment_id or row.batch_id
        objective = meta.objective
        if objective is not None:
            row.objective = objective
        if meta.status_v2.is_final:
            row.duration_ms = meta.execution_duration or meta.duration or row.duration_ms

    # --- run history (each application's recent runs) -------------------------------------

    def apply_history(
        self, app_id: str, runs: Sequence[RunSummary], now: datetime
    ) -> Change:
        """Merge runs of ``app_id`` listed by the history fetcher, then trim to the
        history's bounds.

        The queue stays the authority on runs it lists: a listing (which may be older than
        the last snapshot) only changes their status to a final one."""
        change = Change()
        listed = self._history.setdefault(app_id, {})
        for summary in runs:
            row = self.rows.get(summary.id)
            if row is None:
                row = self._row_from_summary(summary, now)
                row.app_id = row.app_id or app_id
                self.rows[summary.id] = row
                change.added.append(summary.id)
            elif self._merge_summary(row, summary, now, change):
                row.rev += 1
                change.changed.append(summary.id)
            if not row.in_history and row.app_id == app_id:
                row.in_history = True
                listed[row.run_id] = None
        change.removed.extend(self._trim_history(app_id, now))
        change.removed.extend(self._trim_total())
        return self._touched(change)

    def _row_from_summary(self, summary: RunSummary, now: datetime) -> RunRow:
        row = RunRow(
            run_id=summary.id, app_id=summary.application_id, status=summary.status_v2,
            status_since=_since(summary) or now, name=summary.name,
            instance_id=summary.application_instance_id,
            version_id=summary.application_version_id,
            execution_class=summary.execution_class, user=summary.user_email,
            created_at=summary.created_at, priority=summary.queuing_priority,
            added_token=self._token,
        )
        _summary_fields(row, summary)
        return row

    def _merge_summary(
        self, row: RunRow, summary: RunSummary, now: datetime, change: Change
    ) -> bool:
        before = _shown(row)
        row.name = row.name or summary.name
        row.user = row.user or summary.user_email
        row.execution_class = row.execution_class or summary.execution_class
        row.priority = row.priority or summary.queuing_priority
        _summary_fields(row, summary)
        status = summary.status_v2
        if row.is_final:
            if status.is_final and status != row.status and not row.gone:
                self._set_status(row, status, _since(summary), now)
        elif status.is_final:
            row.in_queue = row.left_queue = False
            self._set_status(row, status, _since(summary), now)
            change.finished.append(row.run_id)
            self._fetching.discard(row.run_id)
        elif not row.in_queue and not row.left_queue:
            self._set_status(row, status, summary.status_changed_at, now)
        return before != _shown(row)

    def _trim_history(self, app_id: str, now: datetime) -> list[str]:
        """Keep the app's newest ``max_runs`` finished history runs within ``max_age``."""
        listed = self._history.get(app_id)
        if not listed:
            return []
        bounds = self.bounds
        oldest = now - timedelta(seconds=bounds.max_age) if bounds.max_age else None
        finished = [row for run_id in listed if (row := self.rows.get(run_id)) is not None
                    and row.is_final]
        if len(finished) <= bounds.max_runs and (
            oldest is None or all(r.created_at is None or r.created_at >= oldest
                                  for r in finished)
        ):
            return []
        finished.sort(key=lambda r: timestamp(r.created_at), reverse=True)
        dropped = [r for index, r in enumerate(finished) if index >= bounds.max_runs
                   or (oldest is not None and r.created_at is not None
                       and r.created_at < oldest)]
        return self._forget_history(dropped)

    def _trim_total(self) -> list[str]:
        """At most ``max_total`` finished history runs over every application."""
        count = sum(len(ids) for ids in self._history.values())
        if count <= self.bounds.max_total:
            return []
        finished = [row for ids in self._history.values() for run_id in ids
                    if (row := self.rows.get(run_id)) is not None and row.is_final]
        finished.sort(key=lambda r: timestamp(r.created_at), reverse=True)
        return self._forget_history(finished[self.bounds.max_total:])

    def expire_history(self, now: datetime) -> Change:
        """Drop history runs that aged out of ``max_age`` (called now and then)."""
        change = Change()
        for app_id in list(self._history):
            change.removed.extend(self._trim_history(app_id, now))
        return self._touched(change)

    def _forget_history(self, rows: Iterable[RunRow]) -> list[str]:
        """Out of the history's bounds: removed unless the session keeps them (seen
        finishing, selected or marked)."""
        removed: list[str] = []
        for row in rows:
            row.in_history = False
            listed = self._history.get(row.app_id)
            if listed is not None:
                listed.pop(row.run_id, None)
            if (row.run_id in self._finished or row.run_id == self.selected or row.marked
                    or row.picked):
                continue
            del self.rows[row.run_id]
            removed.append(row.run_id)
        return removed

    def withdraw(self, snapshot: QueueSnapshot) -> Change:
        """Forget the rows a queue preview added (``QueueReader.preview``) when its answer
        then failed validation: the screen shows what it would have shown without it."""
        change = Change()
        for run_id in snapshot.ids:
            row = self.rows.get(run_id)
            if row is None or not row.in_queue or row.submitted or row.in_history:
                continue
            self._drop(run_id)
            change.removed.append(run_id)
        self._listed = self._listed - set(change.removed)
        return self._touched(change)

    def mark_gone(self, run_id: str, reason: str) -> Change:
        """The server no longer knows a run that left the queue: keep it, say so."""
        change = Change()
        row = self.rows.get(run_id)
        self._fetching.discard(run_id)
        if row is None or row.is_final:
            return self._touched(change)
        row.gone = True
        row.left_queue = False
        row.error = reason
        row.rev += 1
        change.changed.append(run_id)
        change.finished.append(run_id)
        change.removed.extend(self._remember_finished(run_id))
        return self._touched(change)

    def _remember_finished(self, run_id: str) -> list[str]:
        self._finished[run_id] = None
        self._finished.move_to_end(run_id)
        evicted: list[str] = []
        while len(self._finished) > self.history_limit:
            old, _ = self._finished.popitem(last=False)
            row = self.rows.get(old)
            if row is not None and row.in_history:
                continue  # still within the run history's bounds
            self._drop(old)
            evicted.append(old)
        return evicted

    def _drop(self, run_id: str) -> None:
        """Forget a run's row, its pick and, if it was selected, the selection."""
        self.rows.pop(run_id, None)
        self._picked.pop(run_id, None)
        if self.selected == run_id:
            self.selected = None

    def pending_final(self) -> list[RunRow]:
        """Runs that left the queue whose final state is not known nor being fetched.

        Looked up among the runs seen leaving (``_left``), not by walking every row: this
        runs on the event loop after every refresh, and the walk was a pass over all
        50,000 rows each time."""
        pending: list[RunRow] = []
        for run_id in list(self._left):
            row = self.rows.get(run_id)
            if row is None or not row.left_queue or row.is_final:
                del self._left[run_id]  # settled (or gone from the store)
            elif run_id not in self._fetching:
                pending.append(row)
        return pending

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
        return self._touched(change)

    def set_canceled(self, run_id: str, now: datetime) -> Change:
        """Cancel accepted by the server: show it at once (the next fetch confirms)."""
        change = Change()
        row = self.rows.get(run_id)
        if row is None or row.is_final:
            return self._touched(change)
        row.in_queue = False
        row.left_queue = False
        self._set_status(row, RunStatus.CANCELED, None, now)
        row.rev += 1
        change.changed.append(run_id)
        change.finished.append(run_id)
        change.removed.extend(self._remember_finished(run_id))
        return self._touched(change)

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
        self._history.clear()
        self._fetching.clear()
        self._left.clear()
        self._picked.clear()
        self._positions = QueueIndex()
        self._words, self._word_counts = {}, Counter()
        self._listed, self._unlisted = frozenset(), set()
        self._epoch = self._token

    def is_current(self, token: int) -> bool:
        """False for a poll started before the last ``reset``."""
        return token > self._epoch

    # --- views ------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Runs per status word, in a stable display order, zero counts omitted (kept run
        by run in ``_touched``)."""
        raw = self._word_counts
        return {word: raw[word] for word in COUNT_ORDER if raw.get(word)}

    @property
    def positions(self) -> Mapping[str, int]:
        """Queue position of every waiting run (``queueing.QueueIndex``, kept current run
        by run)."""
        return self._positions

    def waiting_in(self, execution_class: str) -> int:
        """How many runs wait in ``execution_class``."""
        return self._positions.waiting_in(execution_class)

    @staticmethod
    def matches_filter(row: RunRow, wanted: RunFilter) -> bool:
        if wanted.batch is not None and row.batch_id.lower() != wanted.batch:
            return False
        return not wanted.text or wanted.text in row.search_text()

    def matches(self, row: RunRow, text: str) -> bool:
        """Case-insensitive substring match across the text columns, and ``batch:ID``;
        empty matches all."""
        return self.matches_filter(row, parse_filter(text))

    def visible(self, text: str) -> list[RunRow]:
        wanted = parse_filter(text)
        if wanted.empty:
            return list(self.rows.values())
        return [row for row in self.rows.values() if self.matches_filter(row, wanted)]
