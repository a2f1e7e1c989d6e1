"""Queue position: which run starts next, computed the way the service schedules.

Within an execution class, queued runs start by priority (1 first; the default is 6) and
then by age (oldest first), so position 1 of a class is the next run to start when one of
its slots frees up. Pure and Textual-free: the store calls it after each queue change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

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
