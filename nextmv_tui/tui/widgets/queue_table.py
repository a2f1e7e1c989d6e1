"""The queue table: a DataTable updated incrementally by run ID.

Why not rebuild each tick: ``clear()`` resets the cursor and scroll, and re-adding thousands
of rows costs hundreds of milliseconds. Instead ``sync`` removes, updates and adds only what
changed (inside the caller's ``batch_update``), sorts only when a sort key changed, and puts
the cursor back on the run it was on, because DataTable moves its cursor by row index.
Cells that change with time alone (ages, a running run's duration, queue positions) are
refreshed only for the rows on screen (``refresh_live``), also when rows scroll into view.

Columns and sort modes are data (``tui/columns.py``). The table shows the columns that fit
its width, dropping the least important first (``Column.priority``), and sizes them with
``format.plan_columns``; a value wider than its column ends with ``…`` (Rich's ellipsis
overflow), never cut mid-token. Only a change of the *set* of shown columns (a resize across
a priority step) rebuilds the rows; width changes just re-measure.

Every path that changes rows goes through ``sync``, keyed by run ID, including a theme change
(``restyle``): re-adding rows outside it is what once crashed the app with ``DuplicateKey``.
While the data is stale, active rows are dimmed, marked ``?`` and their ages are counted to
the last good poll only (the caller passes that time as ``now``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

from nextmv_tui.tui.columns import (
    BY_KEY,
    COLUMNS,
    DEFAULT_SORT,
    STATUS_GLYPHS,
    CellContext,
    SortMode,
    cell_text,
    sort_key,
    sort_mode,
)
from nextmv_tui.tui.format import ColumnFit, plan_columns
from nextmv_tui.tui.state import RunRow

__all__ = ["STATUS_GLYPHS", "QueueTable"]

STATUS_COLOURS = {
    "running": "accent",
    "queued": "warning",
    "finishing": "secondary",
    "succeeded": "success",
    "failed": "error",
    "canceled": "secondary",
    "none": "foreground",
    "unknown": "error",
    "gone": "foreground",
}
"""Theme variable per status word; resolved against the current theme at mount/theme change."""

KEYS = tuple(column.key for column in COLUMNS)
HIDE_EMPTY = frozenset(column.key for column in COLUMNS if column.hide_empty)
INDEX = {key: index for index, key in enumerate(KEYS)}
TICKING = tuple(INDEX[column.key] for column in COLUMNS if column.ticking)
SHRINK_EVERY = 10.0
"""Seconds between exact width recomputations (only after rows went away)."""
REBUILD_FRACTION = 0.5
"""Above this share of rows removed at once, clear and re-add (remove_row is O(n) each)."""
ARROWS = ("↑", "↓")

Cells = tuple[str, ...]
"""One string per entry of ``COLUMNS`` (shown or not), then the row's dim flag."""


class _IdCell(Text):
    """The run-ID cell; carries the row's sort key so sorting 10k rows needs no lookups.

    Updating ``sort_key`` in place needs no repaint: the text does not change."""

    sort_key: tuple[object, ...] = ()


def _cell(value: str, style: Style | str = "", key: str = "") -> Text:
    if key and BY_KEY[key].align == "right":
        return Text(value, style=style, no_wrap=True, overflow="ellipsis", end="",
                    justify="right")
    return Text(value, style=style, no_wrap=True, overflow="ellipsis", end="")


class QueueTable(DataTable[Text]):
    """Runs by ID; ``sync`` is the only way rows change."""

    BINDINGS = [Binding("home", "scroll_top", "Top", show=False)]

    class Restyled(Message):
        """The theme changed: the owner must ``sync`` (every row is restyled there)."""

    class ColumnsChanged(Message):
        """The shown columns changed (a resize): the owner must ``sync`` (rows are re-added)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rendered: dict[str, Cells] = {}
        self._sort_keys: dict[str, tuple[object, ...]] = {}
        self._sort = sort_mode(DEFAULT_SORT)
        self._reverse = False
        self._status_styles: dict[str, Style] = {}
        self._dim = Style(dim=True)
        self._natural: dict[str, int] = {c.key: cell_len(c.title) for c in COLUMNS}
        self._shown: dict[str, int] = {}
        """Shown column keys, in display order, with their widths."""
        self._widths_changed = False
        self._last_shrink = 0.0
        self._restyle_all = False
        self._stale = False
        self._ctx = CellContext(datetime.min, False)
        """The cells' context for the ``now`` of the current sync (made once per sync)."""
        self._filled: set[str] = set()
        """``hide_empty`` columns with a value in some row (the others are not shown)."""
        self._positions: Mapping[str, int] = {}
        self._rows: Mapping[str, RunRow] = {}
        self.clock: Callable[[], datetime] | None = None
        """What live cells count to (set by the owner: now, or frozen while stale)."""

    # --- setup --------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._add_columns(self._plan())
        self._resolve_styles()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._on_theme())

    def on_resize(self, event: events.Resize) -> None:
        if list(self._plan()) != list(self._shown):
            self.post_message(self.ColumnsChanged())
        else:
            self._widths_changed = True
            self._apply_widths()

    def _on_theme(self) -> None:
        self._resolve_styles()
        self._restyle_all = True  # colours are re-applied by the next (keyed) sync
        self.post_message(self.Restyled())

    def _resolve_styles(self) -> None:
        variables = self.app.get_css_variables()
        styles: dict[str, Style] = {}
        for word, var in STATUS_COLOURS.items():
            colour = variables.get(var, "")
            try:
                styles[word] = Style(color=colour or None, bold=word == "running")
            except Exception:  # an odd theme value must not break the table
                styles[word] = Style()
        self._status_styles = styles

    # --- columns: which fit, how wide, which header carries the sort arrow ---------------

    @property
    def shown_columns(self) -> list[str]:
        return list(self._shown)

    def _arrow_column(self, keys: Collection[str]) -> str | None:
        return next((key for key in self._sort.columns if key in keys), None)

    def _label(self, key: str, arrow_on: str | None) -> str:
        title = BY_KEY[key].title
        return f"{title} {ARROWS[self._reverse]}" if key == arrow_on else title

    def _plan(self) -> dict[str, int]:
        """Shown columns and widths for the current width (see ``format.plan_columns``)."""
        arrow_on = self._arrow_column(KEYS)
        fits = []
        for column in COLUMNS:
            if column.key in HIDE_EMPTY and column.key not in self._filled:
                continue
            label = cell_len(self._label(column.key, arrow_on))
            natural = max(self._natural[column.key], label)
            minimum = column.min_width if column.key != arrow_on else max(column.min_width, label)
            fits.append(ColumnFit(column.key, column.priority, natural, minimum))
        available = self.scrollable_content_region.width
        return plan_columns(fits, available if available > 0 else 80)

    def _add_columns(self, plan: dict[str, int]) -> None:
        arrow_on = self._arrow_column(plan)
        for key, width in plan.items():
            self.add_column(_cell(self._label(key, arrow_on)), key=key, width=width)
        self._shown = dict(plan)

    def _apply_widths(self) -> bool:
        """Re-plan after widths or the sort changed; True when the shown set changed (the
        caller rebuilds the rows)."""
        if not self._widths_changed:
            return False
        self._widths_changed = False
        plan = self._plan()
        if list(plan) != list(self._shown):
            return True
        arrow_on = self._arrow_column(plan)
        for key, width in plan.items():
            column = self.columns[ColumnKey(key)]
            column.width = width
            column.label = _cell(self._label(key, arrow_on))
        self._shown = plan
        # DataTable has no public "column width changed" call. These are the two internals
        # add_column/update_cell use to re-measure the virtual size and drop render caches
        # (Textual 8.x; the project pins textual<9).
        self._require_update_dimensions = True
        self._update_count += 1
        self.check_idle()
        self.refresh()
        return False

    def _grow(self, cells: Cells) -> None:
        natural = self._natural
        for column, value in zip(COLUMNS, cells, strict=False):
            if value and column.key in HIDE_EMPTY and column.key not in self._filled:
                self._filled.add(column.key)
                self._widths_changed = True
            width = len(value) if value.isascii() else cell_len(value)
            if width > natural[column.key]:
                natural[column.key] = width
                self._widths_changed = True

    def _recompute_widths(self) -> None:
        """Exact widths from the rows (lets columns shrink after rows went away)."""
        self._last_shrink = time.monotonic()
        for index, column in enumerate(COLUMNS):
            widest = max((cell_len(cells[index]) for cells in self._rendered.values()), default=0)
            if column.hide_empty and not widest and column.key in self._filled:
                self._filled.discard(column.key)
                self._widths_changed = True
            width = max(widest, cell_len(column.title))
            if width != self._natural[column.key]:
                self._natural[column.key] = width
                self._widths_changed = True

    # --- rendering ----------------------------------------------------------------------

    def _cells(self, row: RunRow, now: datetime) -> Cells:
        ctx = self._ctx if self._ctx.now == now else self._cell_context(now)
        unsure = self._stale and not row.is_final  # not confirmed since the last good poll
        values = tuple(cell_text(column, row, ctx) for column in COLUMNS)
        # not a column: whether the row is dimmed (part of the change check)
        return (*values, "dim" if row.is_final or unsure else "")

    def _styled(self, row: RunRow, cells: Cells) -> list[Text]:
        return [self._styled_cell(row, cells, key) for key in self._shown]

    def _styled_cell(self, row: RunRow, cells: Cells, key: str) -> Text:
        dim = self._dim if cells[-1] else None
        value = cells[INDEX[key]]
        if key == "status":
            status_style = self._status_styles.get(row.status_word, Style())
            return _cell(value, status_style + dim if dim else status_style)
        if key == "id":
            cell = _IdCell(value, style=dim or "", no_wrap=True, overflow="ellipsis", end="")
            cell.sort_key = self._sort_keys.get(row.run_id, ())
            return cell
        return _cell(value, dim or "", key)

    def _cell_context(self, now: datetime) -> CellContext:
        return CellContext(now, self._stale, self._positions)

    # --- sorting --------------------------------------------------------------------------

    @property
    def sort_id(self) -> str:
        return self._sort.id

    @property
    def sort_label(self) -> str:
        """The sort in the user's words: ``active first``."""
        return self._sort.label

    @property
    def current_sort(self) -> SortMode:
        return self._sort

    @property
    def sort_reverse(self) -> bool:
        return self._reverse

    def set_sort(self, mode_id: str, reverse: bool) -> None:
        """Change the sort; applied at the next ``sync`` (call it with ``force_sort``)."""
        self._sort = sort_mode(mode_id)
        self._reverse = reverse
        self._sort_keys.clear()
        self._widths_changed = True  # the arrow moves (and may need room)

    def _key(self, row: RunRow, now: datetime) -> tuple[object, ...]:
        return sort_key(self._sort, row, now, self._reverse)

    def _set_sort_key(self, run_id: str, key: tuple[object, ...]) -> None:
        self._sort_keys[run_id] = key
        cell = self.get_cell(run_id, "id")
        if isinstance(cell, _IdCell):
            cell.sort_key = key

    def _apply_sort(self, wanted: dict[str, RunRow], now: datetime) -> None:
        keys = self._sort_keys
        if len(keys) != len(self._rendered):  # after set_sort: recompute every key
            for run_id in self._rendered:
                if run_id not in keys and run_id in wanted:
                    self._set_sort_key(run_id, self._key(wanted[run_id], now))

        def key(cell: object) -> tuple[object, ...]:
            return cell.sort_key if isinstance(cell, _IdCell) else ()

        self.sort("id", key=key)

    # --- incremental update --------------------------------------------------------------

    def key_at_cursor(self) -> str | None:
        """The run ID under the cursor: what the user sees as selected."""
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        except CellDoesNotExist:
            return None
        return key.value

    def has_run(self, run_id: str) -> bool:
        return RowKey(run_id) in self._row_locations

    def sync(
        self,
        rows: Sequence[RunRow],
        dirty: Collection[str],
        now: datetime,
        *,
        force_sort: bool = False,
        stale: bool = False,
        positions: Mapping[str, int] | None = None,
    ) -> None:
        """Make the table show exactly ``rows`` (the visible runs), cheaply.

        ``dirty`` are run IDs whose data may have changed; rows not listed there and already
        shown are left alone. The caller restores the selection afterwards (``select_run``).
        When ``stale`` flips, active rows are redrawn with (or without) the stale marker.
        ``positions`` (queue positions) change cells of rows that did not change: only the
        rows on screen are redrawn for them (``refresh_live``).
        """
        wanted = {row.run_id: row for row in rows}
        self._rows = wanted
        moved = positions is not None and positions is not self._positions
        if positions is not None:
            self._positions = positions
        restyle_all, self._restyle_all = self._restyle_all, False
        if restyle_all:
            dirty = list(self._rendered)
        if stale != self._stale:
            self._stale = stale
            dirty = {*dirty, *(r.run_id for r in rows if not r.is_final)}
        self._ctx = self._cell_context(now)
        shown = self._rendered
        removed = [run_id for run_id in shown if run_id not in wanted]
        if list(self._plan()) != list(self._shown) or (
            removed and len(removed) > REBUILD_FRACTION * max(1, len(shown)) and len(shown) > 50
        ):
            self._rebuild(rows, now)
            return
        for run_id in removed:
            self.remove_row(run_id)
            del shown[run_id]
            self._sort_keys.pop(run_id, None)
        resort = self._update_rows(wanted, dirty, now, restyle_all) or force_sort
        resort = self._add_rows(rows, now) or resort or not self._sort_keys
        if resort:
            self._apply_sort(wanted, now)
        if removed and time.monotonic() - self._last_shrink > SHRINK_EVERY:
            self._recompute_widths()
        if self._apply_widths():
            self._rebuild(rows, now)
        elif moved:
            self.refresh_live(now)

    def _add_rows(self, rows: Sequence[RunRow], now: datetime) -> bool:
        shown = self._rendered
        added = False
        for row in rows:
            if row.run_id in shown:
                continue
            cells = self._cells(row, now)
            self._grow(cells)
            self._sort_keys[row.run_id] = self._key(row, now)
            self.add_row(*self._styled(row, cells), key=row.run_id)
            shown[row.run_id] = cells
            added = True
        return added

    def _update_rows(
        self, wanted: dict[str, RunRow], dirty: Collection[str], now: datetime, restyle_all: bool
    ) -> bool:
        """Update the shown rows among ``dirty`` in place; True if a sort key changed."""
        shown = self._rendered
        resort = False
        for run_id in dirty:
            row = wanted.get(run_id)
            if row is None or run_id not in shown:
                continue
            cells = self._cells(row, now)
            old = shown[run_id]
            if cells != old or restyle_all:
                self._grow(cells)
                restyle = restyle_all or cells[-1] != old[-1]  # every cell changes style
                for column in self._shown:
                    index = INDEX[column]
                    if restyle or cells[index] != old[index]:
                        self.update_cell(run_id, column, self._styled_cell(row, cells, column))
                shown[run_id] = cells
            order = self._key(row, now)
            if self._sort_keys.get(run_id) != order:
                self._set_sort_key(run_id, order)
                resort = True
        return resort

    def _rebuild(self, rows: Sequence[RunRow], now: datetime) -> None:
        """Clear and re-add everything (many rows removed, or other columns shown)."""
        self.clear(columns=True)
        self._rendered.clear()
        self._sort_keys.clear()
        rendered = [(row, self._cells(row, now)) for row in rows]
        for _, cells in rendered:
            self._grow(cells)
        self._add_columns(self._plan())
        self._widths_changed = False
        keyed = sorted(((self._key(row, now), row, cells) for row, cells in rendered),
                       key=lambda item: item[0])
        for key, row, cells in keyed:
            self._sort_keys[row.run_id] = key
            self.add_row(*self._styled(row, cells), key=row.run_id)
            self._rendered[row.run_id] = cells

    # --- clock and selection ------------------------------------------------------------

    def refresh_live(self, now: datetime) -> float:
        """Update the cells that change with time alone (ages, a running run's duration,
        queue positions) of the rows currently on screen only.

        Returns the youngest age on screen (seconds): the caller refreshes less often when
        every age shown has minute granularity."""
        youngest = float("inf")
        if self.row_count == 0:
            return youngest
        self._ctx = self._cell_context(now)
        first = max(0, int(self.scroll_y))
        last = min(self.row_count, first + max(1, self.size.height))
        for index in range(first, last):
            try:
                run_id = self.coordinate_to_cell_key(Coordinate(index, 0)).row_key.value
            except CellDoesNotExist:
                continue
            row = self._rows.get(run_id) if run_id is not None else None
            old = self._rendered.get(run_id) if run_id is not None else None
            if row is None or old is None or run_id is None:
                continue
            youngest = min(youngest, _youngest(row, now))
            self._refresh_row_live(run_id, row, old, now)
        return youngest

    def _refresh_row_live(self, run_id: str, row: RunRow, old: Cells, now: datetime) -> None:
        cells = self._cells(row, now)
        changed = [i for i in TICKING if cells[i] != old[i]]
        if not changed:
            return
        updated = list(old)
        for index in changed:
            updated[index] = cells[index]
            if KEYS[index] in self._shown:
                self.update_cell(run_id, KEYS[index], self._styled_cell(row, cells, KEYS[index]))
        self._rendered[run_id] = tuple(updated)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if int(old_value) != int(new_value) and self._rendered:
            # Rows scrolled into view may show positions or ages of an older refresh.
            self.call_after_refresh(self._refresh_after_scroll)

    def _refresh_after_scroll(self) -> None:
        if self.clock is not None:
            self.refresh_live(self.clock())

    def select_run(self, run_id: str | None, fallback_index: int = 0) -> str | None:
        """Put the cursor on ``run_id`` if shown, else on the row at ``fallback_index``
        (clamped). Returns the run ID now under the cursor."""
        if self.row_count == 0:
            return None
        if run_id is not None and self.has_run(run_id):
            index = self.get_row_index(run_id)
        else:
            index = min(max(0, fallback_index), self.row_count - 1)
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False)
        return self.key_at_cursor()

    def above_view(self) -> list[str]:
        """Run IDs of the rows scrolled out of view above the first visible row."""
        first = int(self.scroll_y)
        if first <= 0:
            return []
        return [row.key.value for row in self.ordered_rows[:first] if row.key.value]


def _youngest(row: RunRow, now: datetime) -> float:
    """The smallest age a row shows (its creation, its state, its running time)."""
    ages = [(now - row.status_since).total_seconds()]
    if row.created_at is not None:
        ages.append((now - row.created_at).total_seconds())
    return min(ages)
