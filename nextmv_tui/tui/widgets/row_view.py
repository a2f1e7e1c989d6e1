"""RowView: a line-API widget that draws only the rows on screen of a long ordered list.

Why not a DataTable at 50,000 runs (issue 14): DataTable keeps a row object and a rendered
cell per value, rebuilds its row-order map on every removal and sort and its row offsets on
every update (each O(n)), so a refresh changing 5 % of 50,000 rows blocks the event loop for
a second or more, and its cells cost hundreds of megabytes. Here the table is a list of
keys in display order plus a render function (``render_row``, given by the subclass): a
refresh replaces the list and forgets the cached strips of the keys that changed; a frame
renders only the rows on screen (strips cached by key and width, at most a few hundred).

The header is line 0 of the widget and does not scroll; row ``i`` is drawn at line
``i - scroll_y + 1``. The cursor is a row index (``cursor_row``); whoever owns the order
tracks the selected key and puts the cursor back on it after a change (``index_of``).
Moving the cursor posts ``Highlighted`` (once per move, only when the key under it
changed), Enter or a click on the cursor row posts ``Selected``, a click on the header
posts ``HeaderClicked`` with the column offset.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from typing import ClassVar, Protocol

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

STRIP_CACHE = 512
"""Rendered rows kept (by key and width): a few screens' worth."""


class RowOrder(Protocol):
    """Keys in display order (``table_model.TableModel`` is one)."""

    def __len__(self) -> int: ...

    def key_at(self, index: int) -> str | None: ...

    def index_of(self, key: str) -> int | None: ...


class ListOrder:
    """A plain list as a ``RowOrder`` (its index map is built on first lookup)."""

    def __init__(self, keys: list[str]) -> None:
        self._keys = keys
        self._index: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self._keys)

    def key_at(self, index: int) -> str | None:
        return self._keys[index] if 0 <= index < len(self._keys) else None

    def index_of(self, key: str) -> int | None:
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self._keys)}
        return self._index.get(key)


class RowView(ScrollView, can_focus=True):
    """Keys in display order, drawn a screen at a time. Subclasses implement ``render_row``
    and ``render_header``."""

    COMPONENT_CLASSES = {"row-view--header", "row-view--cursor"}
    """Styled in ``app.tcss`` (the cursor differs with focus, like DataTable's)."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "scroll_top", "Top", show=False),
        Binding("end,ctrl+end", "scroll_bottom", "Bottom", show=False),
        Binding("enter", "select_cursor", "Select", show=False),
    ]

    class Highlighted(Message):
        """The cursor is on another row (``key`` None: the view is empty)."""

        def __init__(self, view: RowView, key: str | None, index: int) -> None:
            super().__init__()
            self.view = view
            self.key = key
            self.cursor_row = index

        @property
        def control(self) -> RowView:
            return self.view

    class Selected(Highlighted):
        """Enter, or a click on the row under the cursor."""

    class HeaderClicked(Message):
        """A click on the header, ``x`` cells from the left edge of the rows."""

        def __init__(self, view: RowView, x: int) -> None:
            super().__init__()
            self.view = view
            self.x = x

        @property
        def control(self) -> RowView:
            return self.view

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._order: RowOrder = ListOrder([])
        self.cursor_row = 0
        self._highlighted: str | None = None
        self._strips: OrderedDict[tuple[str, int], Strip] = OrderedDict()

    # --- the order: set by the owner ---------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def order(self) -> RowOrder:
        return self._order

    def set_order(self, order: RowOrder | list[str]) -> None:
        """Show ``order`` (kept, not copied: the owner changes it and calls ``changed``).
        The cursor stays at its index, clamped; the owner moves it back onto its key."""
        self._order = ListOrder(order) if isinstance(order, list) else order
        self.changed()

    def changed(self) -> None:
        """The order's length or keys changed: re-measure and repaint."""
        count = len(self._order)
        self.virtual_size = Size(0, count + 1)
        self.cursor_row = min(self.cursor_row, max(0, count - 1))
        self.refresh()

    def index_of(self, key: str) -> int | None:
        return self._order.index_of(key)

    def has_key(self, key: str) -> bool:
        return self._order.index_of(key) is not None

    def key_at(self, index: int) -> str | None:
        return self._order.key_at(index)

    def forget(self, keys: Collection[str] | None = None) -> None:
        """Drop cached strips of ``keys`` (every key when None): their rows are drawn
        again. Repaints when one of them may be on screen."""
        if keys is None:
            self._strips.clear()
        elif keys:
            wanted = keys if isinstance(keys, set | frozenset | dict) else set(keys)
            for cached in [c for c in self._strips if c[0] in wanted]:
                del self._strips[cached]
        self.refresh()

    # --- the cursor ------------------------------------------------------------------------

    @property
    def visible_rows(self) -> int:
        """Rows that fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    @property
    def first_visible(self) -> int:
        return max(0, int(self.scroll_y))

    def move_cursor(self, row: int, *, scroll: bool = True, animate: bool = False) -> None:
        """Put the cursor on row ``row`` (clamped), scroll it into view, post
        ``Highlighted`` if the key under the cursor changed."""
        count = len(self._order)
        self.cursor_row = min(max(0, row), max(0, count - 1))
        if scroll:
            self._scroll_to_cursor()
        self.refresh()
        key = self.key_at(self.cursor_row)
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.Highlighted(self, key, self.cursor_row))

    def cursor_key(self) -> str | None:
        return self.key_at(self.cursor_row)

    def _scroll_to_cursor(self) -> None:
        first, shown = self.first_visible, self.visible_rows
        if self.cursor_row < first:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= first + shown:
            self.scroll_to(y=self.cursor_row - shown + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self.visible_rows)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self.visible_rows)

    def action_scroll_top(self) -> None:
        self.move_cursor(0)

    def action_scroll_bottom(self) -> None:
        self.move_cursor(len(self._order) - 1)

    def action_select_cursor(self) -> None:
        if self._order:
            self.post_message(self.Selected(self, self.cursor_key(), self.cursor_row))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            self.post_message(self.HeaderClicked(self, offset.x + int(self.scroll_x)))
            return
        index = self.first_visible + offset.y - 1
        if index >= len(self._order):
            return
        if index == self.cursor_row:
            self.action_select_cursor()
        else:
            self.move_cursor(index)

    # --- drawing ---------------------------------------------------------------------------

    def render_row(self, key: str, width: int) -> Strip:
        """The row of ``key``, ``width`` cells wide (no cursor styling)."""
        raise NotImplementedError

    def render_header(self, width: int) -> Strip:
        raise NotImplementedError

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("row-view--header")
            return self.render_header(width).apply_style(base + header).extend_cell_length(
                width, base + header)
        index = self.first_visible + y - 1
        if index >= len(self._order):
            return Strip.blank(width, base)
        key = self._order.key_at(index)
        if key is None:
            return Strip.blank(width, base)
        strip = self._row_strip(key, width)
        if index == self.cursor_row:
            return _over(strip, self.get_component_rich_style("row-view--cursor"))
        return strip.apply_style(base)

    def _row_strip(self, key: str, width: int) -> Strip:
        cached = (key, width)
        strip = self._strips.get(cached)
        if strip is None:
            strip = self.render_row(key, width).crop_extend(0, width, None)
            self._strips[cached] = strip
            if len(self._strips) > STRIP_CACHE:
                self._strips.popitem(last=False)
        else:
            self._strips.move_to_end(cached)
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()


def _over(strip: Strip, style: Style) -> Strip:
    """``style`` on top of every segment (its background and colour win)."""
    return Strip(
        [Segment(text, (seg_style + style) if seg_style else style, control)
         for text, seg_style, control in strip],
        strip.cell_length,
    )


__all__ = ["ListOrder", "RowOrder", "RowView"]
