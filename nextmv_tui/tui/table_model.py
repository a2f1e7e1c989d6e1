"""The queue table's rows in display order, kept up to date run by run (Textual-free).

At 50,000 runs nothing per refresh may be O(n) in Python on the event loop (issue 14): a
re-sort of every row took 150-200 ms on this machine under load, rebuilding a row-index map
40 ms. So the order is a ``SortedList`` (sortedcontainers) of sort keys, each ending with
its run ID: a run that changed is removed under its old key and added under its new one
(O(log n)); the row at a screen line is a positional lookup (O(log n)); the index of a run
is a binary search for its key. ``update`` handles a slice of run IDs and is called in
slices by the table, so a refresh that changes 2,500 runs yields to the event loop between
slices; the model is consistent after every slice.

Column widths grow from the cells of the rows that changed (never from every row); they
shrink only on ``rebuild`` (a new sort, filter, or set of columns).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from rich.cells import cell_len
from sortedcontainers import SortedList

from nextmv_tui.tui.state import RunRow

SortKey = tuple[Any, ...]


class Reversed:
    """A sort key in reverse order (for keys that cannot be negated value by value)."""

    __slots__ = ("key",)

    def __init__(self, key: SortKey) -> None:
        self.key = key

    def __lt__(self, other: Reversed) -> bool:
        return other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reversed) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


class TableModel:
    """Which runs the table shows, in which order, and how wide each column's values are.

    ``key(row)`` must end with the run ID (a total order: keys are unique); ``shown(row)`` is
    the filter; ``cells(row)`` every column's text, for widths."""

    def __init__(
        self,
        key: Callable[[RunRow], SortKey],
        shown: Callable[[RunRow], bool],
        cells: Callable[[RunRow], tuple[str, ...]],
        columns: int,
        reverse: bool = False,
        texts: Callable[[RunRow], tuple[object, ...]] | None = None,
    ) -> None:
        self.key = key
        self.shown = shown
        self.cells = cells
        self.texts = texts
        """The raw values the measured cells come from: a run whose values did not change
        is not measured again (most refreshes change a status, not a name)."""
        self.reverse = reverse
        self._keys: dict[str, SortKey | Reversed] = {}
        self._measured: dict[str, int] = {}
        self._sorted: SortedList = SortedList()
        self.widths = [0] * columns
        self.widths_changed = False

    # --- reading --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._sorted)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._keys

    def key_at(self, index: int) -> str | None:
        if not 0 <= index < len(self._sorted):
            return None
        return _run_id(self._sorted[index])

    def index_of(self, run_id: str) -> int | None:
        key = self._keys.get(run_id)
        return None if key is None else int(self._sorted.index(key))

    def ids(self, start: int = 0, stop: int | None = None) -> list[str]:
        """Run IDs of rows ``start`` to ``stop`` (the rows above the view, the screen)."""
        return [_run_id(key) for key in self._sorted.islice(start, stop)]

    # --- changing -------------------------------------------------------------------------

    def _key(self, row: RunRow) -> SortKey | Reversed:
        key = self.key(row)
        return Reversed(key) if self.reverse else key

    def update(self, run_ids: Iterable[str], rows: Mapping[str, RunRow]) -> bool:
        """Re-file ``run_ids`` (changed, added or gone: gone when not in ``rows``); True if
        the order changed."""
        moved = False
        keys, ordered = self._keys, self._sorted
        for run_id in run_ids:
            row = rows.get(run_id)
            new = self._key(row) if row is not None and self.shown(row) else None
            old = keys.get(run_id)
            if row is not None and new is not None:
                self._measure(run_id, row)
            if old == new:
                continue
            moved = True
            if old is not None:
                ordered.remove(old)
                del keys[run_id]
            if new is not None:
                ordered.add(new)
                keys[run_id] = new
        return moved

    def rebuild(self, rows: Collection[RunRow], widths_of: TableModel | None = None) -> None:
        """Every row again (a new sort, direction or filter): one sort. Widths are measured
        again (a new filter), or carried over from ``widths_of`` (the model this one
        replaces, on a new sort: only runs it never measured are measured, so sorting
        50,000 runs measures nothing)."""
        if widths_of is not None:
            self.widths = list(widths_of.widths)
            self._measured = widths_of._measured
        else:
            self.widths = [0] * len(self.widths)
            self._measured = {}
        self.widths_changed = True
        keys: dict[str, SortKey | Reversed] = {}
        for row in rows:
            if self.shown(row):
                keys[row.run_id] = self._key(row)
                self._measure(row.run_id, row)
        self._keys = keys
        self._sorted = SortedList(keys.values())

    def _measure(self, run_id: str, row: RunRow) -> None:
        if self.texts is not None:
            signature = hash(self.texts(row))
            if self._measured.get(run_id) == signature:
                return
            self._measured[run_id] = signature
        self._grow(self.cells(row))

    def _grow(self, cells: tuple[str, ...]) -> None:
        widths = self.widths
        for index, value in enumerate(cells):
            width = len(value) if value.isascii() else cell_len(value)
            if width > widths[index]:
                widths[index] = width
                self.widths_changed = True


def _run_id(key: SortKey | Reversed) -> str:
    value = key.key[-1] if isinstance(key, Reversed) else key[-1]
    return str(value)


__all__ = ["Reversed", "TableModel"]
