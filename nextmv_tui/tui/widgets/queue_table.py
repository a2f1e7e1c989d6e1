"""The queue table: a DataTable updated incrementally by run ID.

Why not rebuild each tick: ``clear()`` resets the cursor and scroll, and re-adding thousands
of rows costs hundreds of milliseconds. Instead ``sync`` removes, updates and adds only what
changed (inside the caller's ``batch_update``), sorts only when a sort key changed, and puts
the cursor back on the run it was on, because DataTable moves its cursor by row index.
Relative times ("created 3m ago") are refreshed only for the rows on screen.

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
    BY_ID,
    COLUMN_IDS,
    COLUMNS,
    LIVE_IDS,
    STATUS_GLYPHS,
    CellContext,
    fit_columns,
    sort_key,
)
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

SHRINK_EVERY = 10.0
"""Seconds between exact width recomputations (only after rows went away)."""
REBUILD_FRACTION = 0.5
"""Above this share of rows removed at once, clear and re-add (remove_row is O(n) each)."""
_INDEX = {column_id: index for index, column_id in enumerate(COLUMN_IDS)}
_LIVE = tuple(_INDEX[column_id] for column_id in LIVE_IDS)
_DIM = len(COLUMNS)
"""Index of the rendered tuple's last item: whether the row is dimmed (not a column)."""


class _IdCell(Text):
    """The run-ID cell; carries the row's sort key so sorting 10k rows needs no lookups.

    Updating ``sort_key`` in place needs no repaint: the text does not change."""

    sort_key: tuple[object, ...] = ()


class QueueTable(DataTable[Text]):
    """Runs by ID; ``sync`` is the only way rows change."""

    BINDINGS = [Binding("home", "scroll_top", "Top", show=False)]

    class Restyled(Message):
        """The theme changed or the columns must change (the terminal was resized): the
        owner must ``sync`` (every row is redrawn there)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rendered: dict[str, tuple[str, ...]] = {}
        self._sort_keys: dict[str, tuple[object, ...]] = {}
        self._sort_column = "status"
        self._reverse = False
        self._status_styles: dict[str, Style] = {}
        self._dim = Style(dim=True)
        self._widths: dict[str, int] = {c.id: cell_len(c.title) for c in COLUMNS}
        for column in COLUMNS:
            if column.fixed:
                self._widths[column.id] = max(column.width, cell_len(column.title))
        self._empty = {c.id for c in COLUMNS if c.hide_empty}
        """``hide_empty`` columns with no value in any row shown."""
        self._widths_changed = False
        self._last_shrink = 0.0
        self._restyle_all = False
        self._stale = False
        self._shown: tuple[str, ...] = COLUMN_IDS
        """The columns on screen (``fit_columns`` for the table's width)."""
        self._positions: Mapping[str, int] = {}
        self._rows: Mapping[str, RunRow] = {}
        self.clock: Callable[[], datetime] | None = None
        """What live cells count to (set by the owner: now, or frozen while stale)."""

    # --- setup --------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._add_columns()
        self._resolve_styles()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._on_theme())

    def _add_columns(self) -> None:
        for column_id in self._shown:
            self.add_column(BY_ID[column_id].title, key=column_id,
                            width=self._widths[column_id])

    def _on_theme(self) -> None:
        self._resolve_styles()
        self._restyle_all = True  # colours are re-applied by the next (keyed) sync
        self.post_message(self.Restyled())

    def on_resize(self, event: events.Resize) -> None:
        if self._fit() != self._shown:
            self.post_message(self.Restyled())  # the owner's sync rebuilds the columns

    def _fit(self) -> tuple[str, ...]:
        available = self.scrollable_content_region.width
        if available <= 0:
            return self._shown
        return fit_columns(available, self._widths, empty=self._empty)

    @property
    def shown_columns(self) -> tuple[str, ...]:
        return self._shown

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

    # --- rendering ----------------------------------------------------------------------

    def _cell_context(self, now: datetime) -> CellContext:
        return CellContext(now=now, positions=self._positions, stale=self._stale)

    def _cells(self, row: RunRow, ctx: CellContext) -> tuple[str, ...]:
        """Every column's text (shown or not), then the dim flag."""
        unsure = ctx.stale and not row.is_final
        return (
            *(column.cell(row, ctx) for column in COLUMNS),
            # not a column: whether the row is dimmed (part of the change check)
            "dim" if row.is_final or unsure else "",
        )

    def _styled(self, row: RunRow, cells: tuple[str, ...]) -> list[Text]:
        return [self._styled_cell(row, cells, _INDEX[column_id]) for column_id in self._shown]

    def _styled_cell(self, row: RunRow, cells: tuple[str, ...], index: int) -> Text:
        dim = self._dim if cells[_DIM] else None
        if index == 0:
            status_style = self._status_styles.get(row.status_word, Style())
            return Text(cells[0], style=status_style + dim if dim else status_style)
        if index == 1:
            cell = _IdCell(cells[1], style=dim or "")
            cell.sort_key = self._sort_keys.get(row.run_id, ())
            return cell
        return Text(cells[index], style=dim or "", justify=COLUMNS[index].align)

    # --- incremental update --------------------------------------------------------------

    @property
    def sort_column(self) -> str:
        return self._sort_column

    @property
    def sort_reverse(self) -> bool:
        return self._reverse

    def set_sort(self, column: str, reverse: bool) -> None:
        """Change the sort; applied at the next ``sync`` (call it with ``force_sort``)."""
        self._sort_column = column if column in BY_ID else "status"
        self._reverse = reverse
        self._sort_keys.clear()

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
        shown = self._rendered
        removed = [run_id for run_id in shown if run_id not in wanted]
        many_gone = len(removed) > REBUILD_FRACTION * max(1, len(shown)) and len(shown) > 50
        fitted = self._fit()
        if fitted != self._shown or (removed and many_gone):
            self._rebuild(rows, now, fitted)
            return
        for run_id in removed:
            self.remove_row(run_id)
            del shown[run_id]
            self._sort_keys.pop(run_id, None)
        resort = self._update_rows(wanted, dirty, now, restyle_all) or force_sort
        resort = self._add_rows(rows, now) or resort or not self._sort_keys
        if resort:
            self._apply_sort(wanted)
        if removed and time.monotonic() - self._last_shrink > SHRINK_EVERY:
            self._recompute_widths()
        self._apply_widths()
        if moved:
            self.refresh_live(now)

    def _add_rows(self, rows: Sequence[RunRow], now: datetime) -> bool:
        shown = self._rendered
        ctx = self._cell_context(now)
        column = self._sort_column
        added = False
        for row in rows:
            if row.run_id in shown:
                continue
            cells = self._cells(row, ctx)
            self._grow(cells)
            self._sort_keys[row.run_id] = sort_key(row, column)
            self.add_row(*self._styled(row, cells), key=row.run_id)
            shown[row.run_id] = cells
            added = True
        return added

    def _update_rows(
        self, wanted: dict[str, RunRow], dirty: Collection[str], now: datetime, restyle_all: bool
    ) -> bool:
        """Update the shown rows among ``dirty`` in place; True if a sort key changed."""
        shown = self._rendered
        column = self._sort_column
        ctx = self._cell_context(now)
        resort = False
        for run_id in dirty:
            row = wanted.get(run_id)
            if row is None or run_id not in shown:
                continue
            cells = self._cells(row, ctx)
            old = shown[run_id]
            if cells != old or restyle_all:
                self._grow(cells)
                restyle = restyle_all or cells[_DIM] != old[_DIM]  # every cell changes style
                for key in self._shown:
                    index = _INDEX[key]
                    if restyle or cells[index] != old[index]:
                        self.update_cell(run_id, key, self._styled_cell(row, cells, index))
                shown[run_id] = cells
            key_now = sort_key(row, column)
            if self._sort_keys.get(run_id) != key_now:
                self._set_sort_key(run_id, key_now)
                resort = True
        return resort

    def _rebuild(self, rows: Sequence[RunRow], now: datetime, columns: tuple[str, ...]) -> None:
        """Clear and re-add every row (and the columns, when they change)."""
        self.clear(columns=columns != self._shown)
        if columns != self._shown:
            self._shown = columns
            self._add_columns()
        self._rendered.clear()
        self._sort_keys.clear()
        column = self._sort_column
        ctx = self._cell_context(now)
        ordered = sorted(rows, key=lambda r: sort_key(r, column), reverse=self._reverse)
        for row in ordered:
            cells = self._cells(row, ctx)
            self._sort_keys[row.run_id] = sort_key(row, column)
            self.add_row(*self._styled(row, cells), key=row.run_id)
            self._rendered[row.run_id] = cells
        self._recompute_widths()
        self._widths_changed = True
        self._apply_widths()

    # --- column widths: computed here, never by re-measuring whole columns ---------------

    def _grow(self, cells: tuple[str, ...]) -> None:
        widths = self._widths
        for column, value in zip(COLUMNS, cells, strict=False):
            if column.fixed:
                continue
            width = cell_len(value)
            if width and column.id in self._empty:
                self._empty.discard(column.id)
                self._widths_changed = True
            if width > widths[column.id]:
                widths[column.id] = width
                self._widths_changed = True

    def _recompute_widths(self) -> None:
        """Exact widths from the shown cells (lets columns shrink after rows went away)."""
        self._last_shrink = time.monotonic()
        for index, column in enumerate(COLUMNS):
            if column.fixed:
                continue
            widest = max((cell_len(cells[index]) for cells in self._rendered.values()),
                         default=0)
            if column.hide_empty and not widest and column.id not in self._empty:
                self._empty.add(column.id)
                self._widths_changed = True
            width = max(widest, cell_len(column.title))
            if width != self._widths[column.id]:
                self._widths[column.id] = width
                self._widths_changed = True

    def _apply_widths(self) -> None:
        if not self._widths_changed:
            return
        self._widths_changed = False
        for key in self._shown:
            self.columns[ColumnKey(key)].width = self._widths[key]
        # DataTable has no public "column width changed" call. These are the two internals
        # add_column/update_cell use to re-measure the virtual size and drop render caches
        # (Textual 8.x; the project pins textual<9).
        self._require_update_dimensions = True
        self._update_count += 1
        self.check_idle()
        self.refresh()
        if self._fit() != self._shown:
            self.post_message(self.Restyled())  # wider content: fewer columns fit

    def _set_sort_key(self, run_id: str, key: tuple[object, ...]) -> None:
        self._sort_keys[run_id] = key
        cell = self.get_cell(run_id, "id")
        if isinstance(cell, _IdCell):
            cell.sort_key = key

    def _apply_sort(self, wanted: dict[str, RunRow]) -> None:
        column = self._sort_column
        keys = self._sort_keys
        if len(keys) != len(self._rendered):  # after set_sort: recompute every key
            for run_id in self._rendered:
                if run_id not in keys and run_id in wanted:
                    self._set_sort_key(run_id, sort_key(wanted[run_id], column))

        def key(cell: object) -> tuple[object, ...]:
            return cell.sort_key if isinstance(cell, _IdCell) else ()

        self.sort("id", key=key, reverse=self._reverse)

    # --- cells that change with time alone: the rows on screen only ----------------------

    def refresh_live(self, now: datetime) -> float:
        """Update the cells that change with time alone (ages, a running run's duration,
        queue positions) of the rows currently on screen only.

        Returns the youngest age on screen (seconds): the caller refreshes less often when
        every age shown has minute granularity."""
        youngest = float("inf")
        if self.row_count == 0:
            return youngest
        ctx = self._cell_context(now)
        live = [index for index in _LIVE if COLUMN_IDS[index] in self._shown]
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
            cells = list(old)
            for column in live:
                cells[column] = COLUMNS[column].cell(row, ctx)
            if cells == list(old):
                continue
            new = tuple(cells)
            for column in live:
                if new[column] != old[column]:
                    self.update_cell(run_id, COLUMN_IDS[column],
                                     self._styled_cell(row, new, column))
            self._rendered[run_id] = new
        return youngest

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
