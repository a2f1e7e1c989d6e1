"""The queue table's columns and sort modes, as data (Textual-free).

One place says what the table can show and how it sorts, so a new column is one ``Column``
entry and a new sort is one ``SortMode`` entry:

- ``Column.priority`` decides which columns go first when the terminal is narrow (0: never;
  larger numbers drop first). ``min_width``/``max_width`` bound the width the table gives it;
  values wider than that end with ``…``, never cut mid-token.
- ``live`` columns change with time alone (ages, a running run's duration, queue positions
  when a run ahead starts): the table refreshes them for the rows on screen only.
  ``hide_empty`` columns are left out while no row has a value (the batch column).
- ``SortMode`` sorts in the user's words ("active first", "newest first"); ``columns`` names
  the headers that carry the sort arrow (the first one shown). ``key(row, now)`` returns a
  ``(missing, values...)`` tuple: rows that lack the value (an objective not known yet) sort
  last in both directions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Literal

import msgspec

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.format import clean, format_age, format_objective, short_duration, truncate
from nextmv_tui.tui.queueing import DEFAULT_PRIORITY, is_waiting, schedule_key
from nextmv_tui.tui.queueing import timestamp as ts
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
PICKED = "✓"
"""Marker of a row picked with space (bulk cancel, copy, save)."""
WATCHED = "*"
"""Marker of a run marked with m (a toast when it finishes)."""


class CellContext(msgspec.Struct, frozen=True):
    now: datetime
    """Ages count to this time (the last good poll while the data is stale)."""
    stale: bool = False
    positions: Mapping[str, int] = msgspec.field(default_factory=dict)
    """Queue position of every waiting run within its class (``queueing.queue_positions``)."""


def _status_cell(row: RunRow, ctx: CellContext) -> str:
    word = row.status_word
    unsure = "?" if ctx.stale and not row.is_final else ""
    pick = PICKED if row.picked else " "
    watch = WATCHED if row.marked else ""
    return f"{pick}{STATUS_GLYPHS.get(word, '?')} {word}{watch}{unsure}"


def _age(value: datetime | None, ctx: CellContext) -> str:
    return format_age((ctx.now - value).total_seconds()) if value is not None else ""


class Column(msgspec.Struct, frozen=True):
    key: str
    title: str
    priority: int
    """0: always shown; on a narrow terminal the largest numbers are dropped first."""
    cell: Callable[[RunRow, CellContext], str]
    min_width: int = 6
    """The narrowest width still worth showing (values cut with ``…`` below their width);
    columns that do not fit at this width are left out, least important first."""
    max_width: int = 24
    """Cell values are cut to this (with ``…``); the column is never wider."""
    sort: str | None = None
    """The sort mode a click on the header selects (None: sort by the cell text)."""
    ticking: bool = False
    """Changes with time alone (an age, a running duration, a queue position): refreshed
    for the rows on screen, not only when the run changes."""
    align: Literal["left", "right"] = "left"
    hide_empty: bool = False
    """Not shown while no row has a value in it (the batch column without batches)."""


def running_seconds(row: RunRow, now: datetime) -> float | None:
    """Seconds a running run has been running (None when it is not running)."""
    if row.status is RunStatus.RUNNING and not row.left_queue and not row.gone:
        return max(0.0, (now - row.status_since).total_seconds())
    return None


def _duration_cell(row: RunRow, ctx: CellContext) -> str:
    """Live while running (frozen with the data when stale); the run's figure once final."""
    running = running_seconds(row, ctx.now)
    if running is not None:
        return format_age(running)
    if row.is_final and row.duration_ms is not None:
        return short_duration(row.duration_ms / 1000)
    return ""


def _position_cell(row: RunRow, ctx: CellContext) -> str:
    position = ctx.positions.get(row.run_id)
    return f"#{position}" if position else ""


def _text(getter: Callable[[RunRow], str]) -> Callable[[RunRow, CellContext], str]:
    return lambda row, _ctx: clean(getter(row))


COLUMNS: tuple[Column, ...] = (
    Column("status", "Status", 0, _status_cell, min_width=13, max_width=14, sort="active"),
    Column("id", "Run ID", 0, _text(lambda r: r.run_id), min_width=16, max_width=24),
    Column("name", "Name", 2, _text(lambda r: r.name), min_width=14, max_width=28),
    Column("app", "Application", 3, _text(lambda r: r.app_id), min_width=8, max_width=16,
           sort="application"),
    Column("pos", "Pos", 4, _position_cell, min_width=5, max_width=6, sort="position",
           ticking=True, align="right"),
    Column("priority", "Pri", 5, lambda r, _c: str(r.priority or ""), min_width=3,
           max_width=3, sort="position", align="right"),
    Column("duration", "Duration", 3, _duration_cell, min_width=8, max_width=8,
           sort="duration", ticking=True, align="right"),
    Column("objective", "Objective", 3, lambda r, _c: format_objective(r.objective),
           min_width=9, max_width=12, sort="objective", align="right"),
    Column("instance", "Instance", 6, _text(lambda r: r.instance_id), min_width=8,
           max_width=14),
    Column("version", "Version", 8, _text(lambda r: r.version_id), min_width=7, max_width=14),
    Column("class", "Class", 5, _text(lambda r: r.execution_class), min_width=8, max_width=14),
    Column("user", "User", 7, _text(lambda r: r.user), min_width=10, max_width=24),
    Column("created", "Created", 1, lambda r, c: _age(r.created_at, c), min_width=7,
           max_width=7, sort="newest", ticking=True),
    Column("in_state", "In state", 1, lambda r, c: _age(r.status_since, c), min_width=8,
           max_width=8, ticking=True),
    Column("batch", "Batch", 6, _text(lambda r: r.batch_id), min_width=8, max_width=16,
           hide_empty=True),
)
"""Display order. Add a column here (with a priority) and the table shows it."""
BY_KEY: dict[str, Column] = {column.key: column for column in COLUMNS}


def cell_text(column: Column, row: RunRow, ctx: CellContext) -> str:
    """The cell as shown: sanitized by the column, cut to its maximum width with ``…``."""
    return truncate(column.cell(row, ctx), column.max_width)


# --- sort modes ----------------------------------------------------------------------------

_STATUS_RANK = {RunStatus.RUNNING: 0, RunStatus.QUEUED: 1, RunStatus.NONE: 2, RunStatus.UNKNOWN: 3}
_FINAL_RANK = 4
SortValue = float | str
SortKey = tuple[bool, tuple[SortValue, ...]]
"""``(missing, values)``: rows missing the value sort last whatever the direction."""


def run_duration(row: RunRow, now: datetime) -> float | None:
    """The figure the duration column shows, in seconds: the run's own duration once final
    (creation to the end when the server gave none), the time running so far while
    running; None otherwise."""
    if row.is_final:
        if row.duration_ms is not None:
            return row.duration_ms / 1000
        if row.created_at is None:
            return None
        return max(0.0, (row.status_since - row.created_at).total_seconds())  # a fallback
    return running_seconds(row, now)


def _active(row: RunRow, now: datetime) -> SortKey:
    if row.is_final:  # finished runs: most recently finished first
        return False, (_FINAL_RANK, 0, -ts(row.status_since))
    rank = 5 if row.left_queue else _STATUS_RANK.get(row.status, 3)
    priority = (row.priority or DEFAULT_PRIORITY) if row.status == RunStatus.QUEUED else 0
    return False, (rank, priority, ts(row.created_at))


def _next_to_run(row: RunRow, now: datetime) -> SortKey:
    """Waiting runs in the order the service starts them (per execution class: priority,
    then age), then running runs, then the rest newest first."""
    if is_waiting(row):
        priority, created, _ = schedule_key(row)
        return False, (0, row.execution_class, priority, created)
    if row.status == RunStatus.RUNNING and not row.is_final:
        return False, (1, "", 0, ts(row.created_at))
    return False, (2, "", 0, -ts(row.created_at))


def _longest(row: RunRow, now: datetime) -> SortKey:
    seconds = run_duration(row, now)
    return seconds is None, (-(seconds or 0.0),)


def _objective(row: RunRow, now: datetime) -> SortKey:
    return row.objective is None, (row.objective if row.objective is not None else 0.0,)


class SortMode(msgspec.Struct, frozen=True):
    id: str
    label: str
    """What the summary line says: ``sort active first ↑``."""
    key: Callable[[RunRow, datetime], SortKey]
    columns: tuple[str, ...]
    """Headers that can carry the arrow; the first one shown gets it."""
    may_miss: bool = False
    """Some rows may lack the value (kept last in both directions); False keeps the key
    one element shorter, which matters when 10,000 rows are sorted."""


SORT_MODES: tuple[SortMode, ...] = (
    SortMode("active", "active first", _active, ("status",)),
    SortMode("newest", "newest first", lambda r, _n: (False, (-ts(r.created_at),)), ("created",)),
    SortMode("position", "next to run", _next_to_run, ("pos", "priority")),
    SortMode("duration", "longest first", _longest, ("duration",), may_miss=True),
    SortMode("objective", "objective", _objective, ("objective",), may_miss=True),
    SortMode("application", "application",
             lambda r, _n: (False, (r.app_id.lower(), -ts(r.created_at))), ("app",)),
)
"""The ``o`` cycle, in this order."""
SORT_BY_ID: dict[str, SortMode] = {mode.id: mode for mode in SORT_MODES}
DEFAULT_SORT = "active"


def sort_mode(mode_id: str) -> SortMode:
    """A mode of the cycle, or the text sort of a column (a header click), else the default."""
    if mode_id in SORT_BY_ID:
        return SORT_BY_ID[mode_id]
    column = BY_KEY.get(mode_id.removeprefix("column:"))
    if column is None:
        return SORT_BY_ID[DEFAULT_SORT]
    return SortMode(
        f"column:{column.key}", column.title.lower(),
        lambda row, now: (False, (column.cell(row, CellContext(now)).lower(),)), (column.key,),
    )


def header_sort(column_key: str) -> str:
    """The sort mode a click on ``column_key``'s header selects."""
    column = BY_KEY.get(column_key)
    if column is None:
        return DEFAULT_SORT
    return column.sort or f"column:{column.key}"


def next_sort(mode_id: str) -> str:
    ids = [mode.id for mode in SORT_MODES]
    index = ids.index(mode_id) if mode_id in ids else -1
    return ids[(index + 1) % len(ids)]


class _Desc:
    """Reverses the order of a value that cannot be negated (text)."""

    __slots__ = ("value",)

    def __init__(self, value: SortValue) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return self.value > other.value  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


def sort_key(mode: SortMode, row: RunRow, now: datetime, reverse: bool) -> tuple[object, ...]:
    """The table's key for ``row``: missing values last either way, the run ID breaks ties."""
    missing, values = mode.key(row, now)
    ordered: tuple[object, ...] = values
    if reverse:
        ordered = tuple(-v if isinstance(v, float | int) else _Desc(v) for v in values)
    if mode.may_miss:
        return (missing, *ordered, row.run_id)
    return (*ordered, row.run_id)
