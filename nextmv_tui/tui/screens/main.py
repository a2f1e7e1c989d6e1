"""MainScreen: the queue table, the detail pane, the header and summary lines, the key bar,
and the view actions (filter, sort, zoom, pick). The run actions (submit, cancel, copy,
save, clone, mark, jump) come from ``RunActions`` (``screens/run_actions.py``).

The screen is handed what it needs (settings, store, client, queue poller, keymap) by the
app, which owns them and feeds it store changes (``apply_change``) and connection news
(``show_connection``). The selection is a run ID, re-applied after every table change
because the table's cursor is a row index; with the cursor on the top row, new rows
above are followed there (like ``tail -f``), otherwise the summary says how many new or
active runs are above the view.

Layout by size (breakpoint classes set by the app): narrow terminals give the detail
pane's information column half the width so values wrap at spaces instead of being cut,
short ones split the height evenly; ``z`` or ``enter`` zooms the detail pane.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from nextmv_tui.tui import actions
from nextmv_tui.tui.batches import batch_progress, parse_filter
from nextmv_tui.tui.columns import DEFAULT_SORT, header_sort, next_sort
from nextmv_tui.tui.format import DetailExtras, clean, display_endpoint
from nextmv_tui.tui.history_link import HistoryLink
from nextmv_tui.tui.messages import DemoSubmitted, DetailFetched
from nextmv_tui.tui.poller import Poller
from nextmv_tui.tui.screens.run_actions import RunActions
from nextmv_tui.tui.settings import Settings
from nextmv_tui.tui.state import Change, RunRow, RunStore
from nextmv_tui.tui.trend import CountTrend
from nextmv_tui.tui.widgets.filter_bar import FilterBar
from nextmv_tui.tui.widgets.key_bar import KeyBar, KeyEntry
from nextmv_tui.tui.widgets.queue_table import QueueTable
from nextmv_tui.tui.widgets.queue_trend import QueueTrend
from nextmv_tui.tui.widgets.row_view import RowView
from nextmv_tui.tui.widgets.run_detail import RunDetail
from nextmv_tui.tui.widgets.status_bar import (
    HeaderInfo,
    HeaderLine,
    ProblemLine,
    Summary,
    SummaryLine,
)

if TYPE_CHECKING:
    from nextmv_tui.cloud.client import NextmvClient

SECONDS_SHOWN_UNTIL = 600.0
"""format_age shows seconds below 10 minutes; above, ages change once a minute."""
MINUTE_AGES_REFRESH = 15.0
EXPIRE_EVERY = 60.0
"""Seconds between drops of history runs that aged out of ``--history``'s bound."""
TREND_MIN_WIDTH = 110
"""Narrower terminals give the summary line the whole row (no sparklines)."""


class MainScreen(RunActions):
    """The monitor's default screen."""

    BINDINGS: list[BindingType] = list(actions.bindings("main"))  # type: ignore[misc]

    def __init__(
        self,
        settings: Settings,
        store: RunStore,
        client: Callable[[], NextmvClient],
        queue: Poller,
        poll_now: Callable[[], None],
        history: HistoryLink | None = None,
        keymap: Callable[[], Mapping[str, str]] = dict,
        key_display: Callable[[str], str] = str,
    ) -> None:
        super().__init__(id="main-screen")
        self.settings = settings
        self.store = store
        self.get_client = client
        self.queue = queue
        self.poll_now = poll_now
        self.history = history or HistoryLink(settings.history, settings.monotonic)
        self.trend = CountTrend()
        self._trend_shown: tuple[object, ...] = ()
        self._expired_at = 0.0
        self._keymap = keymap
        self._key_display = key_display
        self.filter_text = ""
        self.problem = ""
        """Why the queue cannot be read (the app's classification of the last failure)."""
        self.as_of: datetime | None = None
        """Wall-clock time of the last good queue poll."""
        self._ages_at = 0.0
        self._youngest_age = 0.0
        self._bindings_state: tuple[bool | None, ...] = ()
        self._new_above: set[str] = set()
        self._after_sync: tuple[str | None, bool, set[str]] | None = None
        """(anchor, follow the top, dirty) of changes waiting for a sliced sync to end."""
        self.header_info: HeaderInfo | None = None

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.header_line = HeaderLine(id="header-line")
        self.problem_line = ProblemLine(id="problem-line")
        self.table = QueueTable(id="queue")
        self.empty_hint = Static("", id="queue-empty")
        self.detail = RunDetail(
            self.get_client, clock=self.settings.clock, monotonic=self.settings.monotonic,
            max_backoff=self.settings.max_backoff, extras=self._detail_extras, id="detail",
        )
        self.filter_bar = FilterBar(id="filter")
        self.summary_line = SummaryLine(id="summary")
        self.trend_view = QueueTrend(id="trend")
        self.key_bar = KeyBar(self.key_entries, id="keys")
        yield self.header_line
        yield self.problem_line
        with Vertical(id="main") as self.body:
            with Vertical(id="queue-area") as self.queue_area:
                yield self.table
                yield self.empty_hint
            yield self.detail
        yield self.filter_bar
        with Horizontal(id="summary-row"):
            yield self.summary_line
            yield self.trend_view
        yield self.key_bar

    def on_mount(self) -> None:
        self.filter_bar.display = False
        self.table.clock = self._ages_now
        self.table.focus()
        self.show_connection()
        self._update_summary()
        self._update_hints()
        self.set_interval(1.0, self._tick, name="clock")
        if self.settings.demo:
            self._start_demo()
        # "↑ 3 active above (home)" follows the scroll at once, not at the next tick
        self.watch(self.table, "scroll_y", lambda _old, _new: self._update_summary(),
                   init=False)

    # --- store changes -> widgets -----------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.trend_view.display = event.size.width >= TREND_MIN_WIDTH

    def _detail_extras(self, row: RunRow | None) -> DetailExtras:
        """Queue position and batch progress of the detail pane's run (from the store)."""
        if row is None:
            return DetailExtras()
        position = self.store.positions.get(row.run_id)
        where = ""
        if position is not None:
            waiting = self.store.waiting_in(row.execution_class)
            where = f"#{position} of {waiting} waiting in class {row.execution_class or '-'}"
        progress = batch_progress(self.store.rows.values(), row.batch_id) if row.batch_id else None
        return DetailExtras(where, progress.text() if progress else row.batch_id)

    def _ages_now(self) -> datetime:
        """Ages count to now, or only to the last good poll while the data is stale."""
        stale = self.queue.is_stale() and self.as_of is not None
        return self.as_of if stale and self.as_of is not None else self.settings.clock()

    def apply_change(self, change: Change, *, select: str | None = None) -> None:
        """Push a store change to the table, keep the selection on its run, notify.

        A large change is applied by the table in slices (``sync`` returns False): the
        selection, the detail pane and the summary follow when it posts ``Synced``."""
        table = self.table
        anchor = select or table.key_at_cursor() or self.store.selected
        follow_top = select is None and table.cursor_row == 0 and bool(change.added)
        dirty = set(change.added) | set(change.changed)
        if dirty:
            self._youngest_age = 0.0  # new or changed rows may show seconds again
        self._new_above.update(change.added)
        pending = self._after_sync
        with self.app.batch_update():
            done = table.sync(self.store.rows, dirty | set(change.removed), self._ages_now(),
                              stale=self.queue.is_stale(), positions=self.store.positions)
            if done and pending is None:
                self._restore_selection(anchor, follow_top, dirty, bool(change.removed))
        if not done or pending is not None:
            if pending is not None:
                anchor = select or pending[0]
                follow_top = follow_top or pending[1]
                dirty |= pending[2]
            self._after_sync = (anchor, follow_top, dirty)
            if done:
                self._synced()
        for run_id in change.finished:
            self.notify_finished(run_id)

    @on(QueueTable.Synced)
    def _synced(self) -> None:
        pending, self._after_sync = self._after_sync, None
        if pending is None or self.table.syncing:
            self._after_sync = pending
            return
        anchor, follow_top, dirty = pending
        # The cursor stayed on its run through the slices (or where the user moved it).
        self._restore_selection(self.table.key_at_cursor() or anchor, follow_top, dirty, True)

    def _restore_selection(
        self, anchor: str | None, follow_top: bool, dirty: set[str], removed: bool
    ) -> None:
        table = self.table
        with self.app.batch_update():
            selected = (table.select_run(None, 0) if follow_top
                        else table.select_run(anchor, table.cursor_row))
        self._set_selected(selected)
        if self.store.selected in dirty:
            self.detail.row_changed(self.store.get(self.store.selected))
        if dirty or removed:
            self._refresh_bindings_if_changed()
        self._update_summary()
        self._update_hints()

    def _set_selected(self, run_id: str | None) -> None:
        if run_id == self.store.selected and (run_id is None or self.detail.run_id == run_id):
            return
        self.store.selected = run_id
        self.detail.follow(self.store.get(run_id))
        self._refresh_bindings_if_changed()

    def _refresh_bindings_if_changed(self) -> None:
        """Refresh the keys only when an action's availability changed."""
        state = tuple(self.check_action(name, ()) for name in self.DYNAMIC_ACTIONS)
        if state != self._bindings_state:
            self._bindings_state = state
            self.refresh_bindings()

    def cursor_run_id(self) -> str | None:
        return self.table.key_at_cursor() if self.table.row_count else None

    def select_run(self, run_id: str) -> bool:
        """Select a run by ID (clearing a filter that hides it). False if not listed."""
        row = self.store.get(run_id)
        if row is None:
            return False
        if not self.store.matches(row, self.filter_text):
            self.filter_text = ""
            self.filter_bar.display = False
            self.table.set_filter(None)
        self.apply_change(Change(), select=run_id)
        return self.store.selected == run_id

    @on(RowView.Highlighted, "#queue")
    def _row_highlighted(self, event: RowView.Highlighted) -> None:
        # The event may be stale (posted before a sync moved rows): trust the cursor.
        self._set_selected(self.table.key_at_cursor())

    @on(RowView.Selected, "#queue")
    def _row_chosen(self, event: RowView.Selected) -> None:
        self.action_zoom()  # enter on a row: its details over the whole screen, or back

    @on(DetailFetched)
    def _detail_fetched(self, message: DetailFetched) -> None:
        if message.info is not None:
            self.apply_change(self.store.apply_info(message.info, self.settings.clock()))

    # --- header, summary, hints, keys, clock -------------------------------------------------

    def show_connection(self) -> None:
        """The header and problem lines from the queue poller; rows dim while stale."""
        queue, settings = self.queue, self.settings
        since = None
        if queue.failing_since is not None:
            ago = settings.monotonic() - queue.failing_since
            since = settings.clock() - timedelta(seconds=ago)
        info = HeaderInfo(
            endpoint=settings.endpoint, profile=settings.profile, state=queue.connection,
            detail=self.problem, data_age=queue.data_age(), retry_in=queue.retry_in(),
            failures=queue.failures, interval=queue.interval,
            effective_interval=queue.effective_interval(), paused=queue.paused,
            read_only=settings.read_only, stale=queue.is_stale(), as_of=self.as_of,
            failing_since=since, history=self.history.problem_text(),
        )
        self.header_info = info
        self.header_line.show(info)
        self.problem_line.show(info)
        stale = info.stale
        if stale != self.table.has_class("-stale"):
            self.table.set_class(stale, "-stale")
            self.apply_change(Change())  # active rows get (or lose) the stale marker

    def _above_view(self) -> str:
        above = self.table.above_view()
        if not above:
            self._new_above.clear()
            return ""
        first = set(above)
        self._new_above &= first
        active = sum(1 for run_id in above if (row := self.store.get(run_id)) and not row.is_final)
        parts = [f"{len(self._new_above)} new"] if self._new_above else []
        if active:
            parts.append(f"{active} active")
        return f"↑ {', '.join(parts)} above (home)" if parts else ""

    def _update_summary(self) -> None:
        table = self.table
        counts = self.store.counts()
        wanted = parse_filter(self.filter_text)
        progress = (batch_progress(self.store.rows.values(), wanted.batch)
                    if wanted.batch else None)
        self.summary_line.show(Summary(
            counts, shown=table.row_count, total=len(self.store),
            sort_label=table.sort_label, reverse=table.sort_reverse,
            filter_text=self.filter_text, above=self._above_view(),
            picked=self.store.picked_count,
            batch=progress.text() if progress else "",
            loading=self.history.loading(),
        ))
        self._show_trend(counts.get("queued", 0), counts.get("running", 0))

    def _show_trend(self, queued: int, running: int) -> None:
        trend = self.trend
        trend.observe(queued, running)
        sampled = trend.sample(self.settings.monotonic())
        shown = (queued, running, len(trend.queued))
        if sampled or shown != self._trend_shown:
            self._trend_shown = shown
            self.trend_view.show(trend, queued, running)

    def reconnected(self, queue: Poller) -> None:
        """The app switched profile: a new poller, nothing known yet of the new endpoint."""
        self.workers.cancel_group(self, "demo")
        self.queue = queue
        self.problem = ""
        self.as_of = None
        self.form = None
        self.choices.clear()
        self.detail.forget()
        self.table.clear()
        self.show_connection()

    def empty_text(self) -> str:
        """What the queue says when it shows no row: why, and what to do."""
        if self.filter_text.strip() and len(self.store):
            return f"No run matches {clean(self.filter_text)!r} — esc clears the filter"
        if self.queue.connection in ("offline", "error", "auth", "tls"):
            return "Cannot read the queue (see above) — retrying; r retries now"
        if self.queue.data_age() is None:
            return f"Connecting to {display_endpoint(self.settings.endpoint)}…"
        if self.settings.read_only:
            return "No runs yet — runs appear here as soon as they are queued"
        return "No runs yet — press s to submit one"

    def _update_hints(self) -> None:
        empty = self.table.row_count == 0
        self.queue_area.set_class(empty, "-empty")
        if empty:
            self.empty_hint.update(self.empty_text())
            filtered = self.filter_text.strip() and len(self.store)
            self.detail.set_hint("No run selected — esc clears the filter" if filtered
                                 else self.empty_text())
        else:
            self.detail.set_hint("No run selected — use ↑/↓ to choose one")

    def key_entries(self) -> list[KeyEntry]:
        """The key bar's entries, from the action table (keys in force, availability)."""
        keymap = self._keymap()
        entries = []
        for action in actions.ACTIONS:
            keys = actions.keys_of(action, keymap)
            if not action.footer or not keys:
                continue
            reason = self.why_not(action.id)
            if self.hidden(reason):
                continue
            entries.append(KeyEntry(keys[0], self._key_display(keys[0]), action.footer,
                                    action.rank, dimmed=reason is not None))
        entries.append(KeyEntry("ctrl+p", self._key_display("ctrl+p"), "Palette", 10))
        return entries

    def _tick(self) -> None:
        """Every second: header (data age, countdown), summary and detail pane; the table's
        relative times at the refresh cadence only, since every cell update repaints it."""
        self.show_connection()
        self._update_summary()
        if self.table.row_count == 0:
            self._update_hints()
        now = self.settings.monotonic()
        every = self.queue.effective_interval()
        if self._youngest_age >= SECONDS_SHOWN_UNTIL:
            every = max(every, MINUTE_AGES_REFRESH)  # ages shown in minutes: no hurry
        if now - self._ages_at >= every - 0.05:
            self._ages_at = now
            with self.app.batch_update():
                self._youngest_age = self.table.refresh_live(self._ages_now())
        if now - self._expired_at >= EXPIRE_EVERY:
            self._expired_at = now
            self.apply_change(self.store.expire_history(self.settings.clock()))
        self.detail.tick(self.queue.is_stale())

    # --- view actions -----------------------------------------------------------------------

    def action_filter(self) -> None:
        self.filter_bar.open(self.filter_text)

    def action_clear_filter(self) -> None:
        """Esc backs out one step: unzoom, else clear the filter, else unpick every run."""
        if self.zoomed:
            self.action_zoom()
        elif self.filter_text or self.filter_bar.display:
            self.filter_bar.action_clear_filter()
        elif self.store.picked_count:
            self.apply_change(Change(changed=self.store.clear_picks()))
            self._refresh_bindings_if_changed()

    @on(FilterBar.FilterChanged)
    def _filter_changed(self, message: FilterBar.FilterChanged) -> None:
        if message.text != self.filter_text:
            self.filter_text = message.text
            wanted = parse_filter(message.text)
            matches = self.store.matches_filter
            self.table.set_filter(None if wanted.empty else lambda row: matches(row, wanted))
            self.apply_change(Change())

    @on(FilterBar.Done)
    def _filter_done(self) -> None:
        self.table.focus()

    def action_zoom(self) -> None:
        self.body.toggle_class("-zoomed")
        self.call_after_refresh(self.table.move_cursor, row=self.table.cursor_row)

    @property
    def zoomed(self) -> bool:
        return self.body.has_class("-zoomed")

    def action_pick(self) -> None:
        """Pick (or unpick) the run under the cursor and move to the next row.

        The cursor, not the last highlight event, says which run: keys typed in a burst
        arrive before the table's ``Highlighted`` messages."""
        run_id = self.table.key_at_cursor()
        if run_id is None:
            return
        self.store.toggle_pick(run_id)
        self.apply_change(Change(changed=[run_id]))
        self.table.action_cursor_down()
        self._set_selected(self.table.key_at_cursor())
        self._refresh_bindings_if_changed()

    def action_sort(self) -> None:
        mode = next_sort(self.table.sort_id)
        self._resort(mode, False)
        self.notify(f"Sorted: {self.table.sort_label}.", timeout=2)

    def action_sort_reverse(self) -> None:
        self._resort(self.table.sort_id, not self.table.sort_reverse)

    @on(RowView.HeaderClicked, "#queue")
    def _header_clicked(self, event: RowView.HeaderClicked) -> None:
        mode = header_sort(self.table.column_at(event.x) or "status")
        table = self.table
        reverse = not table.sort_reverse if mode == table.sort_id else False
        self._resort(mode or DEFAULT_SORT, reverse)

    def _resort(self, mode: str, reverse: bool) -> None:
        self.table.set_sort(mode, reverse)
        self.apply_change(Change())

    # --- demo feeder (--demo) ---------------------------------------------------------------

    def _start_demo(self) -> None:
        from nextmv_tui.tui.demo import DemoFeeder, DemoJob

        def submitted(run_id: str, job: DemoJob) -> None:
            self.post_message(DemoSubmitted(run_id, job.app_id, job.name))

        feeder = DemoFeeder(self.get_client(), on_submit=submitted)
        self.run_worker(feeder.run(), group="demo", exit_on_error=False, name="demo")

    @on(DemoSubmitted)
    def _demo_submitted(self, message: DemoSubmitted) -> None:
        if not self.settings.demo:
            return  # the demo stopped (profile switched)
        change = self.store.add_submitted(
            message.run_id, message.app_id, message.name, self.settings.clock(), by_user=False
        )
        self.apply_change(change)
