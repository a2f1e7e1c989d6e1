"""The monitor app: queue table, detail pane, header and summary lines, and the actions.

Rules this module follows (see tui-practice.md): workers only fetch and post messages, the
handlers here own the state (``RunStore``) and the widgets; the queue is polled with a chained
one-shot timer (the next poll is armed when the previous one has been handled), so a slow
server never causes overlapping or starved polls; faults never leave a worker, they become
"offline — retrying in Ns" with backoff; the selection is a run ID, re-applied after every
table change because DataTable moves its cursor by row index.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Footer

from nextmv_tui.cloud.errors import (
    ApiError,
    AuthError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
)
from nextmv_tui.cloud.models import QueuedRun, QueueResponse
from nextmv_tui.cloud.retry import RetryPolicy
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.messages import (
    CancelFinished,
    DemoSubmitted,
    DetailLoaded,
    FinalStateFailed,
    FinalStateLoaded,
    JumpFound,
    JumpMissed,
    OutputSaved,
    QueueFailed,
    QueueLoaded,
)
from nextmv_tui.tui.settings import (
    BLUR_FACTOR,
    BLUR_MIN_REFRESH,
    Settings,
    next_refresh,
)
from nextmv_tui.tui.state import SORT_COLUMNS, Change, RunRow, RunStore
from nextmv_tui.tui.widgets.filter_bar import FilterBar
from nextmv_tui.tui.widgets.queue_table import QueueTable
from nextmv_tui.tui.widgets.run_detail import RunDetail
from nextmv_tui.tui.widgets.status_bar import (
    ConnectionState,
    HeaderInfo,
    HeaderLine,
    ProblemLine,
    SummaryLine,
)

if TYPE_CHECKING:
    from nextmv_tui.cloud.client import NextmvClient
    from nextmv_tui.tui.forms import SubmitForm, SubmittedRun

MONITOR_RETRY = RetryPolicy(max_attempts=2, base_delay=0.3, max_delay=2.0, max_retry_after=5.0)
"""One quick retry per request; the poll loop does the long backoff itself, visibly."""
AUTH_RETRY = 30.0
FINAL_FETCH_CONCURRENCY = 4
PREFETCH_WAIT = 3.0
DYNAMIC_ACTIONS = ("cancel_run", "copy_run_id", "save_output", "mark")
"""Actions whose availability depends on the selected run (see check_action)."""
SECONDS_SHOWN_UNTIL = 600.0
"""format_age shows seconds below 10 minutes; above, ages change once a minute."""
MINUTE_AGES_REFRESH = 15.0

ACTION_BINDINGS: list[Binding] = [
    Binding("s", "submit", "Submit", id="submit",
            tooltip="send an input file or directory as a new run"),
    Binding("c", "cancel_run", "Cancel", id="cancel_run",
            tooltip="cancel the selected queued or running run (asks first)"),
    Binding("r", "refresh", "Refresh", id="refresh", tooltip="fetch the queue now"),
    Binding("p", "toggle_pause", "Pause", id="toggle_pause",
            tooltip="stop / restart the automatic refresh"),
    Binding("plus,equals_sign", "faster", "Faster", key_display="+", id="faster",
            tooltip="shorter refresh interval"),
    Binding("minus", "slower", "Slower", key_display="-", id="slower",
            tooltip="longer refresh interval"),
    Binding("slash", "filter", "Filter", key_display="/", id="filter",
            tooltip="show runs containing a text in any column"),
    Binding("o", "sort", "Sort", id="sort", tooltip="sort by the next column (or click a header)"),
    Binding("O", "sort_reverse", "Reverse sort", show=False, id="sort_reverse",
            tooltip="flip the sort order"),
    Binding("y", "copy_run_id", "Copy ID", id="copy_run_id",
            tooltip="copy the selected run ID (also shown in a toast)"),
    Binding("w", "save_output", "Save output", id="save_output",
            tooltip="write the selected run's output to a file"),
    Binding("m", "mark", "Mark", id="mark", tooltip="notify when the selected run finishes"),
    Binding("g", "jump", "Jump", id="jump", tooltip="select a run by its ID"),
    Binding("question_mark,f1", "help", "Help", key_display="?", id="help"),
    Binding("q", "quit", "Quit", id="quit"),
    Binding("escape", "clear_filter", "Clear filter", show=False, id="clear_filter"),
]
"""Every monitor action with its default key; IDs let users remap keys (``set_keymap``)."""


def _nextmv_commands() -> type[Provider]:
    from nextmv_tui.tui.commands import NextmvCommands

    return NextmvCommands


class NextmvTuiApp(App[int]):
    """The monitor. Build it with ``make_app(settings)``."""

    CSS_PATH = "app.tcss"
    TITLE = "nextmv-tui"
    BINDINGS: ClassVar[list[BindingType]] = list(ACTION_BINDINGS)
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {
        *App.COMMANDS,
        _nextmv_commands,
    }

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self._client: NextmvClient | None = None
        self.store = RunStore()
        self.refresh_interval = settings.refresh
        self.paused = False
        self.blurred = False
        self.filter_text = ""
        self.connection: ConnectionState = "connecting"
        self.connection_detail = ""
        self.failures = 0
        self.last_ok: float | None = None
        """Monotonic time of the last successful queue poll (data age)."""
        self.polls_completed = 0
        self._retry_at: float | None = None
        self._ages_at = 0.0
        self._bindings_state: tuple[bool | None, ...] = ()
        self._youngest_age = 0.0
        self._poll_timer: Timer | None = None
        self._poll_in_flight = False
        self._poll_again = False
        self._form: SubmitForm | None = None
        self.header_info = HeaderInfo(endpoint=settings.endpoint, profile=settings.profile)

    @property
    def client(self) -> NextmvClient:
        """The HTTP client, created on first use: the first queue usually comes from the
        CLI's prefetch, so importing httpx and loading TLS roots happens after first paint."""
        if self._client is None:
            from nextmv_tui.cloud.client import NextmvClient

            self._client = NextmvClient(
                self.settings.config,
                timeout=self.settings.request_timeout,
                retry=MONITOR_RETRY,
                transport=self.settings.transport,
            )
        return self._client

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Kept as attributes: handlers run while modals are on top (and during shutdown),
        # when a query from the app would search the wrong screen.
        self.header_line = HeaderLine(id="header-line")
        self.problem_line = ProblemLine(id="problem-line")
        self.table = QueueTable(id="queue")
        self.detail = RunDetail(lambda: self.client, clock=self.settings.clock, id="detail")
        self.filter_bar = FilterBar(id="filter")
        self.summary_line = SummaryLine(id="summary")
        yield self.header_line
        yield self.problem_line
        with Vertical(id="main"):
            yield self.table
            yield self.detail
        yield self.filter_bar
        yield self.summary_line
        yield Footer()

    def on_mount(self) -> None:
        self.filter_bar.display = False
        self.table.focus()
        self._update_header()
        self._update_summary()
        self.set_interval(1.0, self._tick, name="clock")
        if self.settings.poll:
            self._poll_now()
        if self.settings.demo:
            self._start_demo()
        if self.settings.handle_signals:
            self._install_signal_handlers()

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for name in ("SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is None:
                continue
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(number, self.exit)

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    # --- queue polling (chained one-shot timer) ----------------------------------------------

    def effective_interval(self) -> float:
        if self.blurred:
            return max(self.refresh_interval * BLUR_FACTOR, BLUR_MIN_REFRESH)
        return self.refresh_interval

    def _poll_now(self) -> None:
        """Start a queue poll now, or right after the one in flight."""
        if self._poll_in_flight:
            self._poll_again = True
            return
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self._poll_in_flight = True
        token = self.store.begin_poll()
        self._fetch_queue(token)

    async def _prefetched_queue(self) -> list[QueuedRun] | None:
        """The CLI's early first request, if it answered well; else None (poll normally)."""
        prefetch, self.settings.prefetch = self.settings.prefetch, None
        if prefetch is None:
            return None
        answer = await asyncio.to_thread(prefetch.wait, PREFETCH_WAIT)
        if answer is None or answer[0] != 200:
            return None
        try:
            return QueueResponse.model_validate_json(answer[1]).runs
        except ValueError:
            return None

    @work(group="queue", exit_on_error=False, name="queue poll")
    async def _fetch_queue(self, token: int) -> None:
        started = time.monotonic()
        early = await self._prefetched_queue()
        if early is not None:
            self.post_message(QueueLoaded(early, token, time.monotonic() - started))
            return
        deadline = self.settings.request_timeout * MONITOR_RETRY.max_attempts + 3.0
        try:
            # The client has per-request timeouts; this bounds the whole call (retries
            # included) so a stalled server can never freeze the refresh chain.
            runs = await asyncio.wait_for(self.client.account_queue(), deadline)
        except asyncio.TimeoutError:
            error = RequestTimeoutError(
                f"GET v1/account/queue: no answer from {self.settings.endpoint} "
                f"in {deadline:g} s",
                endpoint=self.settings.endpoint,
            )
            self.post_message(QueueFailed(error, token))
            return
        except Exception as exc:  # every fault becomes a message, never leaves the worker
            self.post_message(QueueFailed(exc, token))
            return
        self.post_message(QueueLoaded(runs, token, time.monotonic() - started))

    def _schedule_next(self, delay: float | None = None) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        if self._poll_again:
            self._poll_again = False
            delay = 0.0
        elif self.paused:
            return
        if delay is None:
            delay = self.effective_interval()
        self._poll_timer = self.set_timer(delay, self._poll_now, name="queue poll")

    @on(QueueLoaded)
    def _queue_loaded(self, message: QueueLoaded) -> None:
        self._poll_in_flight = False
        self.connection = "online"
        self.connection_detail = ""
        self.failures = 0
        self._retry_at = None
        self.last_ok = self.settings.monotonic()
        self.polls_completed += 1
        change = self.store.apply_queue(message.runs, message.token, self.settings.clock())
        self._apply_change(change)
        self._fetch_finals()
        self._update_header()
        self._schedule_next()

    @on(QueueFailed)
    def _queue_failed(self, message: QueueFailed) -> None:
        self._poll_in_flight = False
        self.failures += 1
        error = message.error
        text = str(error) or error.__class__.__name__
        was = self.connection
        if isinstance(error, AuthError):
            self.connection = "auth"
            self.connection_detail = self._auth_hint(error)
            delay = AUTH_RETRY
        elif "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            # Retrying cannot fix an untrusted certificate: say what will.
            self.connection = "tls"
            self.connection_detail = (
                f"the TLS certificate of {self.settings.endpoint} is not trusted — set "
                "REQUESTS_CA_BUNDLE (or SSL_CERT_FILE) to its CA file; for a local service "
                "started with --tls that is DATA_DIR/tls/cert.pem"
            )
            delay = AUTH_RETRY
        else:
            # Reachable but answering badly (5xx, malformed JSON) is not "offline".
            reachable = isinstance(error, (ServerError, MalformedResponseError, ApiError))
            self.connection = "error" if reachable else "offline"
            if isinstance(error, RateLimitedError):  # a 429 is no server error
                self.connection = "limited"
            self.connection_detail = text
            cap = self.settings.max_backoff
            delay = min(cap, self.refresh_interval * 2 ** min(self.failures - 1, 6))
            if isinstance(error, RateLimitedError) and error.retry_after:
                delay = max(delay, min(error.retry_after, 2 * cap))
        self._retry_at = self.settings.monotonic() + delay
        self._update_header()
        self.table.set_class(True, "-stale")
        if self.connection in ("auth", "tls") and was != self.connection:
            # The header may be too narrow for the fix; a toast always shows it whole.
            self.notify(self.connection_detail, title="Cannot read the queue",
                        severity="error", timeout=15)
        if self._poll_again:
            self._poll_again = False
            delay = 0.0
        if self._poll_timer is not None:
            self._poll_timer.stop()
        # Retry even while paused: pausing stops refreshes, not recovery of a dead link.
        self._poll_timer = self.set_timer(delay, self._poll_now, name="queue retry")

    def _auth_hint(self, error: AuthError) -> str:
        source = self.settings.config.source or "your configuration"
        code = error.status or 401
        return (
            f"{code}: the API key from {source} was refused by {self.settings.endpoint} — "
            "pass --api-key, set NEXTMV_API_KEY, or pick a --profile with a valid key"
        )

    # --- final state of runs that left the queue -----------------------------------------------

    def _fetch_finals(self) -> None:
        pending = self.store.pending_final()
        if not pending:
            return
        self.store.fetching(row.run_id for row in pending)
        items = [(row.run_id, row.app_id) for row in pending]
        self._fetch_final_batch(items)

    @work(group="final", exit_on_error=False, name="final states")
    async def _fetch_final_batch(self, items: list[tuple[str, str]]) -> None:
        gate = asyncio.Semaphore(FINAL_FETCH_CONCURRENCY)

        async def one(run_id: str, app_id: str) -> None:
            async with gate:
                try:
                    info = await self.client.run_information(app_id, run_id)
                except Exception as exc:
                    self.post_message(FinalStateFailed(run_id, exc))
                    return
                self.post_message(FinalStateLoaded(info))

        await asyncio.gather(*(one(run_id, app_id) for run_id, app_id in items))

    @on(FinalStateLoaded)
    def _final_loaded(self, message: FinalStateLoaded) -> None:
        self._apply_change(self.store.apply_info(message.info, self.settings.clock()))

    @on(FinalStateFailed)
    def _final_failed(self, message: FinalStateFailed) -> None:
        if isinstance(message.error, NotFoundError):
            self._apply_change(self.store.mark_gone(message.run_id, str(message.error)))
        else:
            self.store.fetch_failed(message.run_id)  # retried after the next poll

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        self._apply_change(self.store.apply_info(message.info, self.settings.clock()))

    # --- applying changes to the widgets -------------------------------------------------------

    def _visible_rows(self) -> list[RunRow]:
        if not self.filter_text.strip():
            return list(self.store.rows.values())
        return self.store.visible(self.filter_text)

    def _apply_change(
        self, change: Change, *, force_sort: bool = False, select: str | None = None
    ) -> None:
        """Push a store change to the table, keep the selection on its run, notify."""
        table = self.table
        anchor = select or table.key_at_cursor() or self.store.selected
        anchor_index = table.cursor_row
        dirty = set(change.added) | set(change.changed)
        if dirty:
            self._youngest_age = 0.0  # new or changed rows may show seconds again
        with self.batch_update():
            table.sync(self._visible_rows(), dirty, self.settings.clock(), force_sort=force_sort)
            selected = table.select_run(anchor, anchor_index)
        self._set_selected(selected)
        if self.store.selected in dirty:
            self.detail.poke()
            self._refresh_bindings_if_changed()
        if self.connection == "online":
            table.set_class(False, "-stale")
        self._update_summary()
        for run_id in change.finished:
            self._notify_finished(run_id)

    def _set_selected(self, run_id: str | None) -> None:
        if run_id == self.store.selected and (
            run_id is None or self.detail.run_id == run_id
        ):
            return
        self.store.selected = run_id
        self.detail.follow(self.store.get(run_id))
        self._refresh_bindings_if_changed()

    def _refresh_bindings_if_changed(self) -> None:
        """Refresh the footer only when an action's availability changed: every refresh
        recomposes the Footer's widgets, too costly to do on each cursor move or poll."""
        state = tuple(self.check_action(name, ()) for name in DYNAMIC_ACTIONS)
        if state != self._bindings_state:
            self._bindings_state = state
            self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#queue")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # The event may be stale (posted before a sync moved rows): trust the cursor.
        self._set_selected(self.table.key_at_cursor())

    @on(DataTable.HeaderSelected, "#queue")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        column = event.column_key.value or "status"
        table = self.table
        reverse = not table.sort_reverse if column == table.sort_column else False
        self._resort(column, reverse)

    def _resort(self, column: str, reverse: bool) -> None:
        self.table.set_sort(column, reverse)
        self._apply_change(Change(), force_sort=True)

    def _notify_finished(self, run_id: str) -> None:
        row = self.store.get(run_id)
        if row is None or not (row.marked or row.submitted):
            return
        label = f"{row.run_id}" + (f" ({row.name})" if row.name else "")
        word = row.status_word
        severity = {"succeeded": "information", "failed": "error"}.get(word, "warning")
        message = f"Run {label} {word}."
        if row.error:
            message += f"\n{row.error}"
        self.notify(message, title="Run finished", severity=severity, timeout=8)  # type: ignore[arg-type]
        if self.settings.bell:
            self.bell()

    # --- header, summary, clock -----------------------------------------------------------------

    def data_age(self) -> float | None:
        if self.last_ok is None:
            return None
        return max(0.0, self.settings.monotonic() - self.last_ok)

    def is_stale(self) -> bool:
        age = self.data_age()
        if age is None:
            return False
        return self.connection != "online" or age > 3 * self.effective_interval() + 5

    def _update_header(self) -> None:
        retry_in = None
        if self._retry_at is not None:
            retry_in = max(0.0, self._retry_at - self.settings.monotonic())
        self.header_info = info = HeaderInfo(
            endpoint=self.settings.endpoint,
            profile=self.settings.profile,
            state=self.connection,
            detail=self.connection_detail,
            data_age=self.data_age(),
            retry_in=retry_in,
            failures=self.failures,
            interval=self.refresh_interval,
            effective_interval=self.effective_interval(),
            paused=self.paused,
            read_only=self.settings.read_only,
            stale=self.is_stale(),
        )
        self.header_line.show(info)
        self.problem_line.show(info)

    def _update_summary(self) -> None:
        table = self.table
        self.summary_line.show(
            self.store.counts(),
            shown=table.row_count,
            total=len(self.store),
            sort_column=table.sort_column,
            reverse=table.sort_reverse,
            filter_text=self.filter_text,
        )

    def _tick(self) -> None:
        """Every second: header (data age, countdown) and detail pane; the table's relative
        times at the refresh cadence only, since every cell update repaints the table."""
        self._update_header()
        now = time.monotonic()
        every = self.effective_interval()
        if self._youngest_age >= SECONDS_SHOWN_UNTIL:
            every = max(every, MINUTE_AGES_REFRESH)  # ages shown in minutes: no hurry
        if now - self._ages_at >= every - 0.05:
            self._ages_at = now
            with self.batch_update():
                self._youngest_age = self.table.refresh_ages(
                    self.store.get, self.settings.clock()
                )
        self.detail.tick()

    # --- focus: poll slower while the terminal is not looked at ---------------------------------

    def on_app_blur(self, event: events.AppBlur) -> None:
        self.blurred = True
        self._update_header()

    def on_app_focus(self, event: events.AppFocus) -> None:
        was_blurred = self.blurred
        self.blurred = False
        self._update_header()
        if was_blurred and self.connection == "online" and not self.paused:
            age = self.data_age()
            if age is None or age >= self.refresh_interval:
                self._poll_now()

    # --- actions: refresh ------------------------------------------------------------------

    def action_refresh(self) -> None:
        self._poll_now()
        self.detail.poke()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            if self._poll_timer is not None and self.connection == "online":
                self._poll_timer.stop()
                self._poll_timer = None
            self.notify("Refresh paused (p resumes).", timeout=3)
        else:
            self.notify("Refresh resumed.", timeout=2)
            self._poll_now()
        self._update_header()

    def _set_interval(self, seconds: float) -> None:
        self.refresh_interval = seconds
        self.notify(f"Refresh every {seconds:g}s.", timeout=2)
        self._update_header()
        if self._poll_timer is not None and self.connection == "online" and not self.paused:
            self._schedule_next()

    def action_faster(self) -> None:
        self._set_interval(next_refresh(self.refresh_interval, faster=True))

    def action_slower(self) -> None:
        self._set_interval(next_refresh(self.refresh_interval, faster=False))

    # --- actions: view ------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.filter_bar.open(self.filter_text)

    def action_clear_filter(self) -> None:
        bar = self.filter_bar
        if self.filter_text or bar.display:
            bar.action_clear_filter()

    @on(FilterBar.FilterChanged)
    def _filter_changed(self, message: FilterBar.FilterChanged) -> None:
        if message.text == self.filter_text:
            return
        self.filter_text = message.text
        self._apply_change(Change())

    @on(FilterBar.Done)
    def _filter_done(self, message: FilterBar.Done) -> None:
        self.table.focus()

    def action_sort(self) -> None:
        table = self.table
        index = SORT_COLUMNS.index(table.sort_column) if table.sort_column in SORT_COLUMNS else 0
        column = SORT_COLUMNS[(index + 1) % len(SORT_COLUMNS)]
        self._resort(column, table.sort_reverse)
        self.notify(f"Sorted by {column}.", timeout=2)

    def action_sort_reverse(self) -> None:
        table = self.table
        self._resort(table.sort_column, not table.sort_reverse)

    # --- actions on the selected run -----------------------------------------------------------

    def selected_row(self) -> RunRow | None:
        return self.store.get(self.store.selected)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        read_only = self.settings.read_only
        if action == "submit" and read_only:
            return False
        if action == "cancel_run":
            if read_only:
                return False
            row = self.selected_row()
            return True if row is not None and row.is_active else None
        if action in ("copy_run_id", "mark", "jump"):
            return True if action == "jump" or self.selected_row() is not None else None
        if action == "save_output":
            row = self.selected_row()
            return True if row is not None and row.status == RunStatus.SUCCEEDED else None
        return True

    def select_run(self, run_id: str) -> bool:
        """Select a run by ID (clearing a filter that hides it). False if not listed."""
        if run_id not in self.store:
            return False
        row = self.store.rows[run_id]
        if not self.store.matches(row, self.filter_text):
            self.filter_text = ""
            self.filter_bar.display = False
        self._apply_change(Change(), select=run_id)
        return self.store.selected == run_id

    def action_submit(self) -> None:
        from nextmv_tui.tui.forms import SubmitForm
        from nextmv_tui.tui.screens.submit import SubmitScreen

        row = self.selected_row()
        default_app = self.settings.app_id or (row.app_id if row else "")
        form = self._form or SubmitForm(app_id=default_app)
        if not form.app_id and default_app:
            form.app_id = default_app
        self.push_screen(SubmitScreen(self.client, form), self._submitted)

    def _submitted(self, result: SubmittedRun | None) -> None:
        if result is None:
            return
        self._form = result.form
        now = self.settings.clock()
        change = self.store.add_submitted(
            result.run_id, result.app_id, result.name, now, instance_id=result.form.instance_id
        )
        self._apply_change(change)
        self.select_run(result.run_id)
        self.notify(f"Submitted run {result.run_id}.", title="Run submitted", timeout=5)

    def action_cancel_run(self) -> None:
        from nextmv_tui.tui.screens.confirm_cancel import ConfirmCancelScreen

        row = self.selected_row()
        if row is None or not row.is_active or self.settings.read_only:
            return
        run_id, app_id, name = row.run_id, row.app_id, row.name  # captured now, acted on later

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._cancel(run_id, app_id)

        self.push_screen(ConfirmCancelScreen(run_id, app_id, name), confirmed)

    @work(group="cancel", exit_on_error=False, name="cancel")
    async def _cancel(self, run_id: str, app_id: str) -> None:
        try:
            await self.client.cancel_run(app_id, run_id)
        except Exception as exc:
            self.post_message(CancelFinished(run_id, app_id, False, str(exc)))
            return
        self.post_message(CancelFinished(run_id, app_id, True, f"Run {run_id} canceled."))

    @on(CancelFinished)
    def _cancel_finished(self, message: CancelFinished) -> None:
        if message.ok:
            self._apply_change(self.store.set_canceled(message.run_id, self.settings.clock()))
            self.notify(message.message, title="Canceled", timeout=5)
            if self.store.selected == message.run_id:
                self.detail.follow(self.store.get(message.run_id))
        else:
            self.notify(message.message, title="Cancel refused", severity="error", timeout=8)
            self._poll_now()

    def action_copy_run_id(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.copy_to_clipboard(row.run_id)
        self.notify(
            row.run_id,
            title="Run ID copied (OSC 52; select it here if your terminal cannot)",
            timeout=8,
        )

    def action_save_output(self) -> None:
        from nextmv_tui.tui.screens.save_output import SaveOutputScreen

        row = self.selected_row()
        if row is None or row.status != RunStatus.SUCCEEDED:
            return
        info = self.detail.info if self.detail.run_id == row.run_id else None
        suffix = ".json"
        if info is not None and info.metadata.format.output.type != "json":
            suffix = ".tar.gz"
        default = Path.cwd() / f"{row.run_id}-output{suffix}"
        run_id, app_id = row.run_id, row.app_id

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._save(run_id, app_id, path)

        self.push_screen(SaveOutputScreen(default), chosen)

    @work(group="save", exit_on_error=False, name="save output")
    async def _save(self, run_id: str, app_id: str, path: Path) -> None:
        try:
            written = await self.client.save_output(app_id, run_id, path)
        except Exception as exc:
            self.post_message(OutputSaved(run_id, None, str(exc)))
            return
        self.post_message(OutputSaved(run_id, written))

    @on(OutputSaved)
    def _output_saved(self, message: OutputSaved) -> None:
        if message.path is not None:
            self.notify(f"Output of {message.run_id} saved to {message.path}.", timeout=6)
        else:
            self.notify(
                f"Output of {message.run_id} not saved: {message.error}",
                severity="error",
                timeout=8,
            )

    def action_mark(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        if row.is_final and not row.marked:
            self.notify(f"{row.run_id} has already finished ({row.status_word}).", timeout=3)
            return
        marked = self.store.toggle_mark(row.run_id)
        self._apply_change(Change(changed=[row.run_id]))
        if marked:
            self.notify(f"Marked {row.run_id}: you will be told when it finishes.", timeout=3)
        else:
            self.notify(f"Unmarked {row.run_id}.", timeout=2)

    def action_jump(self) -> None:
        from nextmv_tui.tui.screens.jump import JumpScreen

        def chosen(text: str | None) -> None:
            if not text:
                return
            app_id, _, run_id = text.rpartition("/")  # "APP/RUN_ID" names the application
            if not self.select_run(run_id):
                self._locate(run_id, app_id)

        self.push_screen(JumpScreen(), chosen)

    @work(group="jump", exit_on_error=False, name="jump")
    async def _locate(self, run_id: str, app_hint: str = "") -> None:
        """Find a run that is not listed by trying the applications we know of."""
        apps: list[str] = []
        listed = (row.app_id for row in self.store.rows.values())
        known = [app_hint, self.settings.app_id or "", *listed]
        for app_id in known:
            if app_id and app_id not in apps:
                apps.append(app_id)
        errors: list[str] = []
        for app_id in apps[:10]:
            try:
                info = await self.client.run_information(app_id, run_id)
            except NotFoundError:
                continue
            except Exception as exc:
                errors.append(str(exc))
                break
            self.post_message(JumpFound(info))
            return
        reason = errors[0] if errors else (
            f"not found in {', '.join(apps) or 'any known application'}; "
            "type APP/RUN_ID to look in another application"
        )
        self.post_message(JumpMissed(run_id, reason))

    @on(JumpFound)
    def _jump_found(self, message: JumpFound) -> None:
        self._apply_change(self.store.apply_info(message.info, self.settings.clock()))
        self.select_run(message.info.id)

    @on(JumpMissed)
    def _jump_missed(self, message: JumpMissed) -> None:
        self.notify(f"Run {message.run_id}: {message.reason}", severity="warning", timeout=6)

    def action_help(self) -> None:
        from nextmv_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(list(ACTION_BINDINGS)))

    # --- demo feeder ----------------------------------------------------------------------------

    def _start_demo(self) -> None:
        from nextmv_tui.tui.demo import DemoFeeder, DemoJob

        def submitted(run_id: str, job: DemoJob) -> None:
            self.post_message(DemoSubmitted(run_id, job.app_id, job.name))

        feeder = DemoFeeder(self.client, on_submit=submitted)
        self.run_worker(feeder.run(), group="demo", exit_on_error=False, name="demo")

    @on(DemoSubmitted)
    def _demo_submitted(self, message: DemoSubmitted) -> None:
        change = self.store.add_submitted(
            message.run_id, message.app_id, message.name, self.settings.clock(), by_user=False
        )
        self._apply_change(change)


def make_app(settings: Settings) -> NextmvTuiApp:
    """The monitor app for ``settings``; tests, benchmarks and screenshots reuse it."""
    return NextmvTuiApp(settings)


__all__ = ["ACTION_BINDINGS", "NextmvTuiApp", "make_app"]
