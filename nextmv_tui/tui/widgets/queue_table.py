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
from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

from nextmv_tui.tui.format import clean, format_age
from nextmv_tui.tui.state import COLUMN_TITLES, SORT_COLUMNS, RunRow, RunStore

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

MAX_WIDTHS = {
    "name": 28, "app": 16, "instance": 14, "version": 14, "class": 14, "user": 24,
}
FIXED_WIDTHS = {"status": 12, "created": 8, "in_state": 8}
SHRINK_EVERY = 10.0
"""Seconds between exact width recomputations (only after rows went away)."""
REBUILD_FRACTION = 0.5
"""Above this share of rows removed at once, clear and re-add (remove_row is O(n) each)."""


class _IdCell(Text):
    """The run-ID cell; carries the row's sort key so sorting 10k rows needs no lookups.

    Updating ``sort_key`` in place needs no repaint: the text does not change."""

    sort_key: tuple[object, ...] = ()


def _clip(value: str, width: int | None) -> str:
    value = clean(value)
    if width is None or len(value) <= width:
        return value
    return value[: width - 1] + "…"


class QueueTable(DataTable[Text]):
    """Runs by ID; ``sync`` is the only way rows change."""

    BINDINGS = [Binding("home", "scroll_top", "Top", show=False)]

    class Restyled(Message):
        """The theme changed: the owner must ``sync`` (every row is restyled there)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rendered: dict[str, tuple[str, ...]] = {}
        self._sort_keys: dict[str, tuple[object, ...]] = {}
        self._sort_column = "status"
        self._reverse = False
        self._status_styles: dict[str, Style] = {}
        self._dim = Style(dim=True)
        self._widths: dict[str, int] = {}
        self._widths_changed = False
        self._last_shrink = 0.0
        self._restyle_all = False
        self._stale = False

    # --- setup --------------------------------------------------------------------------

    def on_mount(self) -> None:
        for key in SORT_COLUMNS:
            width = FIXED_WIDTHS.get(key, cell_len(COLUMN_TITLES[key]))
            self._widths[key] = width
            self.add_column(COLUMN_TITLES[key], key=key, width=width)
        self._resolve_styles()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._on_theme())

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

    # --- rendering ----------------------------------------------------------------------

    def _cells(self, row: RunRow, now: datetime) -> tuple[str, ...]:
        word = row.status_word
        mark = "*" if row.marked else " "
        created = format_age((now - row.created_at).total_seconds()) if row.created_at else ""
        in_state = format_age((now - row.status_since).total_seconds())
        unsure = self._stale and not row.is_final  # not confirmed since the last good poll
        return (
            f"{mark}{STATUS_GLYPHS.get(word, '?')} {word}{'?' if unsure else ''}",
            clean(row.run_id),
            _clip(row.name, MAX_WIDTHS["name"]),
            _clip(row.app_id, MAX_WIDTHS["app"]),
            _clip(row.instance_id, MAX_WIDTHS["instance"]),
            _clip(row.version_id, MAX_WIDTHS["version"]),
            _clip(row.execution_class, MAX_WIDTHS["class"]),
            _clip(row.user, MAX_WIDTHS["user"]),
            created,
            in_state,
            # not a column: whether the row is dimmed (part of the change check)
            "dim" if row.is_final or unsure else "",
        )

    def _styled(self, row: RunRow, cells: tuple[str, ...]) -> list[Text]:
        return [self._styled_cell(row, cells, index) for index in range(len(SORT_COLUMNS))]

    def _styled_cell(self, row: RunRow, cells: tuple[str, ...], index: int) -> Text:
        dim = self._dim if cells[-1] else None
        if index == 0:
            status_style = self._status_styles.get(row.status_word, Style())
            return Text(cells[0], style=status_style + dim if dim else status_style)
        if index == 1:
            cell = _IdCell(cells[1], style=dim or "")
            cell.sort_key = self._sort_keys.get(row.run_id, ())
            return cell
        return Text(cells[index], style=dim or "")

    # --- incremental update --------------------------------------------------------------

    @property
    def sort_column(self) -> str:
        return self._sort_column

    @property
    def sort_reverse(self) -> bool:
        return self._reverse

    def set_sort(self, column: str, reverse: bool) -> None:
        """Change the sort; applied at the next ``sync`` (call it with ``force_sort``)."""
        self._sort_column = column if column in SORT_COLUMNS else "status"
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
    ) -> None:
        """Make the table show exactly ``rows`` (the visible runs), cheaply.

        ``dirty`` are run IDs whose data may have changed; rows not listed there and already
        shown are left alone. The caller restores the selection afterwards (``select_run``).
        When ``stale`` flips, active rows are redrawn with (or without) the stale marker.
        """
        wanted = {row.run_id: row for row in rows}
        restyle_all, self._restyle_all = self._restyle_all, False
        if restyle_all:
            dirty = list(self._rendered)
        if stale != self._stale:
            self._stale = stale
            dirty = {*dirty, *(r.run_id for r in rows if not r.is_final)}
        shown = self._rendered
        removed = [run_id for run_id in shown if run_id not in wanted]
        if removed and len(removed) > REBUILD_FRACTION * max(1, len(shown)) and len(shown) > 50:
            self._rebuild(rows, now)
            return
        for run_id in removed:
            self.remove_row(run_id)
            del shown[run_id]
            self._sort_keys.pop(run_id, None)
        resort = self._update_rows(wanted, dirty, now, restyle_all) or force_sort
        resort = resort or not self._sort_keys
        column = self._sort_column
        for row in rows:
            if row.run_id in shown:
                continue
            cells = self._cells(row, now)
            self._grow(cells)
            self._sort_keys[row.run_id] = RunStore.sort_key(row, column)
            self.add_row(*self._styled(row, cells), key=row.run_id)
            shown[row.run_id] = cells
            resort = True
        if resort:
            self._apply_sort(wanted)
        if removed and time.monotonic() - self._last_shrink > SHRINK_EVERY:
            self._recompute_widths()
        self._apply_widths()

    def _update_rows(
        self, wanted: dict[str, RunRow], dirty: Collection[str], now: datetime, restyle_all: bool
    ) -> bool:
        """Update the shown rows among ``dirty`` in place; True if a sort key changed."""
        shown = self._rendered
        column = self._sort_column
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
                for index, key in enumerate(SORT_COLUMNS):
                    if restyle or cells[index] != old[index]:
                        self.update_cell(run_id, key, self._styled_cell(row, cells, index))
                shown[run_id] = cells
            sort_key = RunStore.sort_key(row, column)
            if self._sort_keys.get(run_id) != sort_key:
                self._set_sort_key(run_id, sort_key)
                resort = True
        return resort

    def _rebuild(self, rows: Sequence[RunRow], now: datetime) -> None:
        self.clear()
        self._rendered.clear()
        self._sort_keys.clear()
        column = self._sort_column
        ordered = sorted(
            rows, key=lambda r: RunStore.sort_key(r, column), reverse=self._reverse
        )
        for row in ordered:
            cells = self._cells(row, now)
            self._sort_keys[row.run_id] = RunStore.sort_key(row, column)
            self.add_row(*self._styled(row, cells), key=row.run_id)
            self._rendered[row.run_id] = cells
        self._recompute_widths()
        self._apply_widths()

    # --- column widths: computed here, never by re-measuring whole columns ---------------

    def _grow(self, cells: tuple[str, ...]) -> None:
        widths = self._widths
        for key, value in zip(SORT_COLUMNS, cells, strict=False):
            if key in FIXED_WIDTHS:
                continue
            width = cell_len(value)
            if width > widths[key]:
                widths[key] = width
                self._widths_changed = True

    def _recompute_widths(self) -> None:
        """Exact widths from the shown cells (lets columns shrink after rows went away)."""
        self._last_shrink = time.monotonic()
        for index, key in enumerate(SORT_COLUMNS):
            if key in FIXED_WIDTHS:
                continue
            widest = max((cell_len(cells[index]) for cells in self._rendered.values()),
                         default=0)
            width = max(widest, cell_len(COLUMN_TITLES[key]))
            if width != self._widths[key]:
                self._widths[key] = width
                self._widths_changed = True

    def _apply_widths(self) -> None:
        if not self._widths_changed:
            return
        self._widths_changed = False
        for key, width in self._widths.items():
            self.columns[ColumnKey(key)].width = width
        # DataTable has no public "column width changed" call. These are the two internals
        # add_column/update_cell use to re-measure the virtual size and drop render caches
        # (Textual 8.x; the project pins textual<9).
        self._require_update_dimensions = True
        self._update_count += 1
        self.check_idle()
        self.refresh()

    def _set_sort_key(self, run_id: str, sort_key: tuple[object, ...]) -> None:
        self._sort_keys[run_id] = sort_key
        cell = self.get_cell(run_id, "id")
        if isinstance(cell, _IdCell):
            cell.sort_key = sort_key

    def _apply_sort(self, wanted: dict[str, RunRow]) -> None:
        column = self._sort_column
        keys = self._sort_keys
        if len(keys) != len(self._rendered):  # after set_sort: recompute every key
            for run_id in self._rendered:
                if run_id not in keys and run_id in wanted:
                    self._set_sort_key(run_id, RunStore.sort_key(wanted[run_id], column))

        def key(cell: object) -> tuple[object, ...]:
            return cell.sort_key if isinstance(cell, _IdCell) else ()

        self.sort("id", key=key, reverse=self._reverse)

    def refresh_ages(self, rows: Callable[[str], RunRow | None], now: datetime) -> float:
        """Update the relative-time cells of the rows currently on screen only.

        Returns the youngest age on screen (seconds): the caller refreshes less often when
        every age shown has minute granularity."""
        youngest = float("inf")
        if self.row_count == 0:
            return youngest
        first = max(0, int(self.scroll_y))
        visible = max(1, self.size.height)
        last = min(self.row_count, first + visible)
        for index in range(first, last):
            try:
                run_id = self.coordinate_to_cell_key(Coordinate(index, 0)).row_key.value
            except CellDoesNotExist:
                continue
            if run_id is None:
                continue
            row = rows(run_id)
            old = self._rendered.get(run_id)
            if row is None or old is None:
                continue
            youngest = min(youngest, (now - row.status_since).total_seconds())
            if row.created_at is not None:
                youngest = min(youngest, (now - row.created_at).total_seconds())
            cells = self._cells(row, now)
            if cells[8:10] == old[8:10]:
                continue
            dim = self._dim if cells[-1] else None
            for index_col, key in ((8, "created"), (9, "in_state")):
                if cells[index_col] != old[index_col]:
                    self.update_cell(run_id, key, Text(cells[index_col], style=dim or ""))
            self._rendered[run_id] = (*old[:8], cells[8], cells[9], old[10])
        return youngest

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
