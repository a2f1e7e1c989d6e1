"""The queue table: the store's runs drawn a screen at a time (``RowView``), in an order kept
run by run (``TableModel``), updated in slices that yield to the event loop.

Why not a DataTable (issue 14): at 50,000 runs a DataTable holds a row object and a styled
cell per value (hundreds of megabytes) and rebuilds its row maps on every change, so a
refresh blocked keys for seconds. Here nothing is kept per row but its sort key: a frame
renders the ~40 rows on screen from the store's ``RunRow``s (strips cached by run ID), and
a refresh re-files only the runs that changed.

- ``sync(touched, now, ...)`` re-files the runs that were added, changed or removed. Up to
  ``SLICE`` of them are handled at once (every refresh of a small queue, every key); more
  are handled ``SLICE`` at a time by one worker that yields to the event loop between
  slices, so keys are answered in the middle of a 50,000-run refresh. Changes arriving
  meanwhile join the same pass; the cursor stays on its run after every slice, and
  ``Synced`` is posted when the pass is over (the screen then restores the selection).
- A new sort, direction or filter re-sorts everything once (``rebuild``).
- Theme, staleness, resizing and the clock only drop cached strips: rows are drawn from the
  store again, no per-row work. Cells that change with time alone (ages, a running run's
  duration, queue positions) are redrawn for the rows on screen by ``refresh_live``.
- Columns and sort modes come from ``columns.py``; the table shows the columns that fit its
  width, least important dropped first, sized by ``format.plan_columns``; a value wider
  than its column ends with ``…``. Widths grow from the cells of the runs that changed (only
  when their texts changed) and shrink on a rebuild.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping
from datetime import datetime

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.strip import Strip

from nextmv_tui.tui import collector
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
from nextmv_tui.tui.format import ColumnFit, plan_columns, truncate
from nextmv_tui.tui.state import RunRow
from nextmv_tui.tui.table_model import TableModel
from nextmv_tui.tui.widgets.row_view import RowView

__all__ = ["SLICE", "STATUS_GLYPHS", "QueueTable"]

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

SLICE = 250
"""Runs re-filed per slice of a sync (about 5 ms on this machine, a few times that loaded)."""
ARROWS = ("↑", "↓")
KEYS = tuple(column.key for column in COLUMNS)
MEASURED = tuple(c.key for c in COLUMNS
                 if not c.ticking and c.key != "status" and c.min_width < c.max_width)
"""Columns sized by their values; the others (status, ages, durations, positions, fixed
widths) take their maximum width, so a status change never needs measuring."""
_MEASURED_AT = {key: index for index, key in enumerate(MEASURED)}


def _always(_row: RunRow) -> bool:
    return True


class QueueTable(RowView):
    """Runs by ID; ``sync`` is the only way the shown set or order changes."""

    class Synced(Message):
        """A sync handled in slices is over: the owner restores the selection."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: Mapping[str, RunRow] = {}
        self._sort = sort_mode(DEFAULT_SORT)
        self._reverse = False
        self._status_styles: dict[str, Style] = {}
        self._dim = Style(dim=True)
        self._positions: Mapping[str, int] = {}
        self._stale = False
        self._now = datetime.min
        self._model = self._new_model(_always)
        self._shown: dict[str, int] = {}
        """Shown column keys, in display order, with their widths (``plan_columns``)."""
        self._arrow: str | None = None
        self._pending: set[str] = set()
        self._draining = False
        self._filling = 0
        """Runs of a first fill under way (frozen for the collector when it is over)."""
        self.slices = 0
        """Slices handled by the last sliced sync (tests: the refresh yields)."""
        self.clock: Callable[[], datetime] | None = None
        """What live cells count to (set by the owner: now, or frozen while stale)."""
        self._update_widths()

    def _new_model(self, shown: Callable[[RunRow], bool]) -> TableModel:
        mode, reverse = self._sort, self._reverse
        return TableModel(
            key=lambda row: sort_key(mode, row, self._now, reverse), shown=shown,
            cells=self._width_cells, columns=len(MEASURED), texts=_texts,
        )

    # --- setup --------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_order(self._model)
        self._resolve_styles()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._on_theme())

    def _on_theme(self) -> None:
        self._resolve_styles()
        self.forget()

    def on_resize(self, event: events.Resize) -> None:
        self._update_widths()

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

    # --- columns and widths ---------------------------------------------------------------

    @property
    def shown_columns(self) -> list[str]:
        return list(self._shown)

    def _width_cells(self, row: RunRow) -> tuple[str, ...]:
        """The measured columns' texts (ages and statuses are not measured)."""
        ctx = CellContext(self._now, False, self._positions)
        return tuple(cell_text(BY_KEY[key], row, ctx) for key in MEASURED)

    def header_label(self, key: str) -> str:
        """The header of column ``key`` as shown (with the sort arrow), "" if not shown."""
        return self._label(key) if key in self._shown else ""

    def _label(self, key: str) -> str:
        title = BY_KEY[key].title
        return f"{title} {ARROWS[self._reverse]}" if key == self._arrow else title

    def _update_widths(self) -> None:
        """Re-plan the shown columns and widths (a resize, new values, the sort's arrow)."""
        natural = self._model.widths
        self._model.widths_changed = False
        keys = [key for key in KEYS
                if not (BY_KEY[key].hide_empty and not natural[_MEASURED_AT[key]])]
        self._arrow = next((key for key in self._sort.columns if key in keys), None)
        fits = []
        for key in keys:
            column = BY_KEY[key]
            label = cell_len(self._label(key))
            widest = natural[_MEASURED_AT[key]] if key in _MEASURED_AT else column.max_width
            minimum = column.min_width if key != self._arrow else max(column.min_width, label)
            fits.append(ColumnFit(key, column.priority, max(widest, label), minimum))
        available = self.scrollable_content_region.width if self.is_mounted else 0
        plan = plan_columns(fits, available if available > 0 else 80)
        if plan != self._shown:
            self._shown = plan
            self.forget()
        self.refresh()  # the header (its arrow) may have changed

    def column_at(self, x: int) -> str | None:
        """The shown column at ``x`` cells from the left edge (a header click)."""
        edge = 0
        for key, width in self._shown.items():
            edge += width + 2
            if x < edge:
                return key
        return None

    # --- sorting and filtering ------------------------------------------------------------

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
        """Change the sort (everything is re-sorted at once)."""
        self._sort = sort_mode(mode_id)
        self._reverse = reverse
        self._reorder(self._model.shown)

    def set_filter(self, shown: Callable[[RunRow], bool] | None) -> None:
        """Show only the rows ``shown`` accepts (None: every row); re-sorts at once and
        sizes the columns to the rows shown."""
        self._reorder(shown or _always, keep_widths=False)

    def clear(self) -> None:
        """Show nothing (another account): the next sync starts from scratch."""
        self._rows = {}
        self._reorder(self._model.shown, keep_widths=False)

    def _reorder(self, shown: Callable[[RunRow], bool], keep_widths: bool = True) -> None:
        old, self._model = self._model, self._new_model(shown)
        self._model.rebuild(self._rows.values(), old if keep_widths else None)
        self._pending.clear()
        collector.settle(len(self._model))  # a new sort key per run, for the session
        self.set_order(self._model)
        self._keep_cursor()
        self._update_widths()

    # --- sync: re-file what changed, in slices ---------------------------------------------

    def key_at_cursor(self) -> str | None:
        """The run ID under the cursor: what the user sees as selected."""
        return self.cursor_key()

    def has_run(self, run_id: str) -> bool:
        return run_id in self._model

    def get_row_index(self, run_id: str) -> int:
        index = self._model.index_of(run_id)
        if index is None:
            raise KeyError(run_id)
        return index

    @property
    def syncing(self) -> bool:
        """A sliced sync is under way (``Synced`` follows)."""
        return self._draining

    def sync(
        self,
        rows: Mapping[str, RunRow],
        touched: Collection[str],
        now: datetime,
        *,
        stale: bool = False,
        positions: Mapping[str, int] | None = None,
    ) -> bool:
        """Show ``rows`` (every run the store has; the filter decides which are shown):
        re-file ``touched`` (run IDs added, changed or removed since the last sync).

        True when done now; False when a sliced pass was started or is under way (it posts
        ``Synced`` when over). Redraws every row when ``stale`` flips."""
        first = rows is not self._rows
        self._rows, self._now = rows, now
        if positions is not None:
            self._positions = positions
        if stale != self._stale:
            self._stale = stale
            self.forget()
        if first:
            self._pending.clear()
            if len(rows) <= SLICE:
                self._reorder(self._model.shown)
                return True
            self._pending.update(rows)  # first fill: sliced like a big refresh
            self._filling = len(rows)
        else:
            self._pending.update(touched)
        if self._draining:
            return False
        if len(self._pending) <= SLICE:
            self._apply(list(self._pending))
            self._pending.clear()
            return True
        self._draining = True
        self.slices = 0
        self.run_worker(self._drain(), group="table-sync", exit_on_error=False,
                        name="table sync")
        return False

    def _apply(self, run_ids: list[str]) -> None:
        if self._model.update(run_ids, self._rows):
            self.changed()
            self._keep_cursor()
        self.forget(run_ids)
        if self._model.widths_changed:
            self._update_widths()

    async def _drain(self) -> None:
        """Re-file the pending runs ``SLICE`` at a time, yielding between slices."""
        try:
            while self._pending:
                chunk = [self._pending.pop() for _ in range(min(SLICE, len(self._pending)))]
                self._apply(chunk)
                self.slices += 1
                await asyncio.sleep(0)
        finally:
            self._draining = False
        if self._filling:  # the sort keys of every run now live for the session
            collector.settle(self._filling)
            self._filling = 0
        self.post_message(self.Synced())

    def _keep_cursor(self) -> None:
        """Rows moved under the cursor: put it back on its run without an event."""
        key = self._highlighted
        index = self._model.index_of(key) if key is not None else None
        if index is not None and index != self.cursor_row:
            self.cursor_row = index
            self._scroll_to_cursor()

    # --- drawing ----------------------------------------------------------------------------

    def _cell_context(self) -> CellContext:
        now = self.clock() if self.clock is not None else self._now
        return CellContext(now, self._stale, self._positions)

    def render_header(self, width: int) -> Strip:
        return Strip([segment for key, size in self._shown.items()
                      for segment in _segments(_pad(self._label(key), size,
                                                    BY_KEY[key].align), None)])

    def render_row(self, key: str, width: int) -> Strip:
        row = self._rows.get(key)
        if row is None:
            return Strip.blank(width)
        ctx = self._cell_context()
        dim = self._dim if row.is_final or ctx.stale else None
        segments: list[Segment] = []
        for column_key, size in self._shown.items():
            column = BY_KEY[column_key]
            text = _pad(cell_text(column, row, ctx), size, column.align)
            if column_key == "status":
                style = self._status_styles.get(row.status_word, Style())
                segments.extend(_segments(text, style + dim if dim else style))
            else:
                segments.extend(_segments(text, dim))
        return Strip(segments)

    def get_cell(self, run_id: str, column_key: str) -> Text:
        """A cell as drawn, before it is fitted to its column (its text and style)."""
        row = self._rows.get(run_id)
        if row is None or column_key not in BY_KEY:
            raise KeyError((run_id, column_key))
        ctx = self._cell_context()
        value = cell_text(BY_KEY[column_key], row, ctx)
        dim = self._dim if row.is_final or ctx.stale else None
        if column_key == "status":
            style = self._status_styles.get(row.status_word, Style())
            return Text(value, style=style + dim if dim else style)
        return Text(value, style=dim or "")

    def shown_ids(self) -> list[str]:
        """Every shown run ID in display order."""
        return self._model.ids()

    # --- cells that change with time alone: the rows on screen only ----------------------

    def refresh_live(self, now: datetime) -> float:
        """Redraw the rows on screen (ages, a running run's duration, queue positions).

        Returns the youngest age on screen (seconds): the caller refreshes less often when
        every age shown has minute granularity."""
        first = self.first_visible
        on_screen = self._model.ids(first, first + self.visible_rows)
        youngest = float("inf")
        for run_id in on_screen:
            row = self._rows.get(run_id)
            if row is not None:
                youngest = min(youngest, _youngest(row, now))
        self.forget(on_screen)
        return youngest

    def select_run(self, run_id: str | None, fallback_index: int = 0) -> str | None:
        """Put the cursor on ``run_id`` if shown, else on the row at ``fallback_index``
        (clamped). Returns the run ID now under the cursor."""
        if self.row_count == 0:
            self._highlighted = None
            return None
        index = self._model.index_of(run_id) if run_id is not None else None
        if index is None:
            index = min(max(0, fallback_index), self.row_count - 1)
        self.move_cursor(index)
        return self.key_at_cursor()

    def above_view(self) -> list[str]:
        """Run IDs of the rows scrolled out of view above the first visible row."""
        first = self.first_visible
        return self._model.ids(0, first) if first > 0 else []


def _texts(row: RunRow) -> tuple[object, ...]:
    """What the measured columns show (a run whose values are unchanged is not measured)."""
    return (row.run_id, row.name, row.app_id, row.objective, row.batch_id, row.execution_class,
            row.user, row.instance_id, row.version_id)


def _segments(text: str, style: Style | None) -> tuple[Segment, ...]:
    """A padded cell as two segments, its leading blanks apart: an SVG screenshot draws a
    text element's leading blanks as nothing, which would shift right-aligned values left."""
    body = text.lstrip(" ")
    lead = len(text) - len(body)
    return (Segment(text[:lead], style), Segment(body, style)) if lead else (Segment(text, style),)


def _pad(value: str, width: int, align: str) -> str:
    """``value`` fitted to ``width`` cells (cut with ``…``), one cell of padding each side."""
    text = truncate(value, width)
    size = len(text) if text.isascii() else cell_len(text)
    fill = " " * max(0, width - size)
    return f" {fill}{text} " if align == "right" else f" {text}{fill} "


def _youngest(row: RunRow, now: datetime) -> float:
    """The smallest age a row shows (its creation, its state, its running time)."""
    ages = [(now - row.status_since).total_seconds()]
    if row.created_at is not None:
        ages.append((now - row.created_at).total_seconds())
    return min(ages)
