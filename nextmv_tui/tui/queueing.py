"""Queue position: which run starts next, computed the way the service schedules.

Within an execution class, queued runs start by priority (1 first; the default is 6) and
then by age (oldest first), so position 1 of a class is the next run to start when one of
its slots frees up. Pure and Textual-free: the store calls it after each queue change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sortedcontainers import SortedList

from nextmv_tui.cloud.status import RunStatus

if TYPE_CHECKING:
    from nextmv_tui.tui.state import RunRow

DEFAULT_PRIORITY = 6
"""What the service (and Nextmv Cloud) assume for a run that asked for no priority."""
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def timestamp(value: datetime | None) -> float:
    """Seconds since the epoch (naive datetimes are UTC); 0 for None."""
    if value is None:
        return 0.0
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - _EPOCH).total_seconds()


def is_waiting(row: RunRow) -> bool:
    """Queued as far as the monitor knows (a run that left the queue is not)."""
    return row.status is RunStatus.QUEUED and not row.left_queue and not row.gone


def schedule_key(row: RunRow) -> tuple[int, float, str]:
    """Order within an execution class: priority, then age, then ID (a total order)."""
    return (row.priority or DEFAULT_PRIORITY, timestamp(row.created_at), row.run_id)


def queue_positions(rows: Iterable[RunRow]) -> dict[str, int]:
    """Position (1 = next to start) of every waiting run within its execution class."""
    classes: dict[str, list[tuple[int, float, str]]] = {}
    for row in rows:
        if is_waiting(row):
            classes.setdefault(row.execution_class, []).append(schedule_key(row))
    positions: dict[str, int] = {}
    for entries in classes.values():
        entries.sort()
        for index, (_, _, run_id) in enumerate(entries, 1):
            positions[run_id] = index
    return positions


class QueueIndex(Mapping[str, int]):
    """Queue positions kept up to date run by run: per execution class, the sorted schedule
    keys of its waiting runs; a position is a binary search (``bisect``).

    ``queue_positions`` re-sorts every waiting run: at 50,000 queued runs that is about
    100 ms per refresh on the event loop (issue 14). Here a refresh costs a removal and an
    insertion per run that changed (``update``, O(log n) in a ``SortedList``), and a lookup
    is O(log n). Reads as the ``{run ID: position}`` mapping ``queue_positions`` returns.
    """

    def __init__(self) -> None:
        self._classes: dict[str, SortedList] = {}
        self._where: dict[str, tuple[str, tuple[int, float, str]]] = {}
        """run ID -> (execution class, schedule key) of every waiting run."""

    def update(self, row: RunRow | None, run_id: str) -> None:
        """Re-file ``run_id`` (``row`` None: the run is gone)."""
        wanted = (row.execution_class, schedule_key(row)) if row and is_waiting(row) else None
        current = self._where.get(run_id)
        if current == wanted:
            return
        if current is not None:
            self._classes[current[0]].remove(current[1])
            del self._where[run_id]
        if wanted is not None:
            entries = self._classes.get(wanted[0])
            if entries is None:
                entries = self._classes[wanted[0]] = SortedList()
            entries.add(wanted[1])
            self._where[run_id] = wanted

    def rebuild(self, rows: Iterable[RunRow]) -> None:
        """Every run again (one sort per class: cheaper than filing many one by one)."""
        classes: dict[str, list[tuple[int, float, str]]] = {}
        self._where.clear()
        for row in rows:
            if is_waiting(row):
                key = schedule_key(row)
                classes.setdefault(row.execution_class, []).append(key)
                self._where[row.run_id] = (row.execution_class, key)
        self._classes = {name: SortedList(keys) for name, keys in classes.items()}

    def waiting_in(self, execution_class: str) -> int:
        """How many runs wait in ``execution_class``."""
        return len(self._classes.get(execution_class, ()))

    def __getitem__(self, run_id: str) -> int:
        execution_class, key = self._where[run_id]
        return int(self._classes[execution_class].bisect_left(key)) + 1

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._where

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)
