"""The queue table's columns: one table (ID, title, width, priority, sort key, cell text).

Everything the table shows per column is data here, so a column is added, dropped, ordered
or sorted in one place. ``priority`` says which columns go first when the terminal is
narrow (``fit_columns``): 1 is never dropped, higher numbers drop earlier. Columns marked
``live`` change with time alone (ages, a running run's duration, queue positions when a run
ahead starts), so the table refreshes them for the rows on screen only.

Textual-free: the cell texts are plain, already sanitized strings; the widget styles them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.format import clean, format_age, format_objective, short_duration
from nextmv_tui.tui.queueing import DEFAULT_PRIORITY, is_waiting, schedule_key, timestamp
from nextmv_tui.tui.state import RunRow

STATUS_GLYPHS = {
    "running": "▶",
    "queued": "…",
    "finishing": "◌",
    "succeeded": "✔",
    "failed": "✘",
    "canceled": "⊘",
    "none": "·",
    "unknown": "?",
    "gone": "-",
}

_STATUS_RANK = {RunStatus.RUNNING: 0, RunStatus.QUEUED: 1, RunStatus.NONE: 2,
                RunStatus.UNKNOWN: 3}
_FINAL_RANK = 4
CELL_PADDING = 2
"""DataTable's cell padding: one column on each side of every cell."""


@dataclass(frozen=True)
class CellContext:
    """What a cell may depend on besides its row."""

    now: datetime
    """Now, or the last good poll's time while the data is stale (counters stop)."""
    positions: Mapping[str, int]
    stale: bool = False


SortKey = tuple[object, ...]


@dataclass(frozen=True)
class Column:
    id: str
    title: str
    width: int
    """The fixed width, or (``fixed`` False) the most a text column grows to."""
    priority: int
    """1: always shown; higher numbers are dropped first when the terminal is narrow."""
    cell: Callable[[RunRow, CellContext], str]
    sort: Callable[[RunRow], SortKey]
    fixed: bool = False
    align: Literal["left", "right"] = "left"
    live: bool = False
    hide_empty: bool = False
    """Not shown while no row has a value in it (the batch column without batches)."""


def _clip(value: str, width: int) -> str:
    value = clean(value)
    return value if len(value) <= width else value[: width - 1] + "…"


def text_column(id: str, title: str, width: int, priority: int,
                value: Callable[[RunRow], str], *, hide_empty: bool = False) -> Column:
    """A text column clipped to ``width`` and sorted case-insensitively."""
    return Column(id, title, width, priority,
                  cell=lambda row, _ctx: _clip(value(row), width),
                  sort=lambda row: (value(row).lower(), row.run_id), hide_empty=hide_empty)


# --- cells and sort keys --------------------------------------------------------------------


def status_cell(row: RunRow, ctx: CellContext) -> str:
    word = row.status_word
    mark = "*" if row.marked else " "
    unsure = ctx.stale and not row.is_final  # not confirmed since the last good poll
    return f"{mark}{STATUS_GLYPHS.get(word, '?')} {word}{'?' if unsure else ''}"


def status_sort(row: RunRow) -> SortKey:
    """Active first (running, then queued in schedule order), then the most recently
    finished."""
    if row.is_final:
        return (_FINAL_RANK, 0, -timestamp(row.status_since), row.run_id)
    rank = 5 if row.left_queue else _STATUS_RANK.get(row.status, 3)
    priority = row.priority or DEFAULT_PRIORITY
    return (rank, priority if row.status == RunStatus.QUEUED else 0,
            timestamp(row.created_at), row.run_id)


def position_cell(row: RunRow, ctx: CellContext) -> str:
    position = ctx.positions.get(row.run_id)
    return f"#{position}" if position else ""


def position_sort(row: RunRow) -> SortKey:
    """Waiting runs in schedule order per class, then everything else."""
    if is_waiting(row):
        return (0, row.execution_class, *schedule_key(row))
    return (1, "", 0, 0.0, row.run_id)


def running_seconds(row: RunRow, now: datetime) -> float | None:
    if row.status is RunStatus.RUNNING and not row.left_queue and not row.gone:
        return max(0.0, (now - row.status_since).total_seconds())
    return None


def duration_cell(row: RunRow, ctx: CellContext) -> str:
    """Live while running (frozen with the data when stale); the run's figure once final."""
    running = running_seconds(row, ctx.now)
    if running is not None:
        return format_age(running)
    if row.is_final and row.duration_ms is not None:
        return short_duration(row.duration_ms / 1000)
    return ""


def duration_sort(row: RunRow) -> SortKey:
    if row.is_final and row.duration_ms is not None:
        return (0, row.duration_ms, row.run_id)
    if row.status is RunStatus.RUNNING:
        return (1, -timestamp(row.status_since), row.run_id)  # the longest-running last
    return (2, 0.0, row.run_id)


def objective_sort(row: RunRow) -> SortKey:
    return (0, row.objective, row.run_id) if row.objective is not None else (1, 0.0, row.run_id)


def _age_cell(value: Callable[[RunRow], datetime | None]) -> Callable[[RunRow, CellContext], str]:
    def cell(row: RunRow, ctx: CellContext) -> str:
        when = value(row)
        return format_age((ctx.now - when).total_seconds()) if when is not None else ""

    return cell


COLUMNS: tuple[Column, ...] = (
    Column("status", "Status", 12, 1, status_cell, status_sort, fixed=True),
    Column("id", "Run ID", 24, 1, lambda row, _: clean(row.run_id),
           lambda row: (row.run_id.lower(), row.run_id)),
    text_column("name", "Name", 28, 2, lambda row: row.name),
    text_column("app", "Application", 16, 2, lambda row: row.app_id),
    Column("pos", "Pos", 5, 4, position_cell, position_sort, fixed=True, align="right",
           live=True),
    Column("priority", "Pri", 3, 5, lambda row, _: str(row.priority or ""),
           lambda row: (row.priority or 99, row.run_id), fixed=True, align="right"),
    Column("duration", "Duration", 8, 3, duration_cell, duration_sort, fixed=True,
           align="right", live=True),
    Column("objective", "Objective", 12, 3,
           lambda row, _: format_objective(row.objective), objective_sort, align="right"),
    Column("created", "Created", 8, 4, _age_cell(lambda row: row.created_at),
           lambda row: (timestamp(row.created_at), row.run_id), fixed=True, live=True),
    Column("in_state", "In state", 8, 5, _age_cell(lambda row: row.status_since),
           lambda row: (timestamp(row.status_since), row.run_id), fixed=True, live=True),
    text_column("batch", "Batch", 16, 6, lambda row: row.batch_id, hide_empty=True),
    text_column("class", "Class", 14, 6, lambda row: row.execution_class),
    text_column("user", "User", 24, 7, lambda row: row.user),
    text_column("instance", "Instance", 14, 8, lambda row: row.instance_id),
    text_column("version", "Version", 14, 8, lambda row: row.version_id),
)
"""Display order, left to right."""

BY_ID: dict[str, Column] = {column.id: column for column in COLUMNS}
COLUMN_IDS: tuple[str, ...] = tuple(column.id for column in COLUMNS)
LIVE_IDS: tuple[str, ...] = tuple(column.id for column in COLUMNS if column.live)


def sort_key(row: RunRow, column: str) -> SortKey:
    """Sort key of ``row`` for ``column`` (unknown columns: by status); every key ends
    with the run ID, so the order is total."""
    return BY_ID.get(column, COLUMNS[0]).sort(row)


def fit_columns(
    available: int,
    widths: Mapping[str, int],
    columns: Sequence[Column] = COLUMNS,
    empty: Collection[str] = (),
) -> tuple[str, ...]:
    """The columns that fit in ``available`` cells, in display order: the widest priority
    number is dropped first (the rightmost among equals) until the rest fit; priority-1
    columns are always kept. ``widths`` are the columns' current widths; ``empty`` names
    columns with no value in any row (dropped if ``hide_empty``)."""
    kept = [c for c in columns if not (c.hide_empty and c.id in empty)]
    total = sum(widths.get(c.id, c.width) + CELL_PADDING for c in kept)
    while total > available:
        droppable = [c for c in kept if c.priority > 1]
        if not droppable:
            break
        worst = max(droppable, key=lambda c: (c.priority, kept.index(c)))
        kept.remove(worst)
        total -= widths.get(worst.id, worst.width) + CELL_PADDING
    return tuple(c.id for c in kept)
