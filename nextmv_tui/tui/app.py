"""The monitor app: settings, client, store, the queue's poll loop and the keys; the layout
and the run actions live on ``MainScreen`` (``screens/main.py``).

Every poll event (answered, failed, a key, focus) goes to a ``Poller`` (``tui/poller.py``)
whose decision ``PollTimer`` turns into a one-shot timer or ``call_later``, never a 0 s
timer. Workers only fetch and post messages; the handlers here and in the app's mixins
(``queue_apply``: the launch preview and large snapshots; ``beyond_queue``: final states and
history) update the store and hand each change to the main screen.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.binding import BindingType
from textual.screen import Screen

from nextmv_tui.cloud.errors import RequestTimeoutError
from nextmv_tui.cloud.queue_reader import QueueReader
from nextmv_tui.cloud.retry import RetryPolicy
from nextmv_tui.tui import actions, collector, loop_probe, loop_trace, textual_fixes
from nextmv_tui.tui.beyond_queue import BeyondQueueMixin
from nextmv_tui.tui.connection import classify
from nextmv_tui.tui.format import clean
from nextmv_tui.tui.history_link import HistoryLink, bounds_of
from nextmv_tui.tui.keys import KeysMixin
from nextmv_tui.tui.lazy import import_off_loop
from nextmv_tui.tui.messages import QueueFailed, QueueLoaded
from nextmv_tui.tui.poller import Decision, Poller, PollerConfig
from nextmv_tui.tui.queue_apply import QueueApplyMixin
from nextmv_tui.tui.screens.main import MainScreen
from nextmv_tui.tui.screens.palette import SafePaletteApp
from nextmv_tui.tui.session import SessionMixin
from nextmv_tui.tui.settings import BLUR_FACTOR, BLUR_MIN_REFRESH, Settings, next_refresh
from nextmv_tui.tui.state import Change, RunStore
from nextmv_tui.tui.timers import PollTimer

if TYPE_CHECKING:
    from nextmv_tui.cloud.client import NextmvClient

MONITOR_RETRY = RetryPolicy(max_attempts=2, base_delay=0.3, max_delay=2.0, max_retry_after=5.0)
"""One quick retry per request; the poll loop does the long backoff itself, visibly."""
PREFETCH_WAIT = 3.0
LAUNCH_HOLD_MAX = 10.0
"""The collector, held off by the command line, runs again after this at the latest."""


class NextmvTuiApp(
    QueueApplyMixin, BeyondQueueMixin, SessionMixin, KeysMixin, SafePaletteApp
):
    """The monitor. Build it with ``make_app(settings)``."""

    CSS_PATH = "app.tcss"
    TITLE = "nextmv-tui"
    BINDINGS: ClassVar[list[BindingType]] = list(actions.bindings("app"))
    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"), (100, "-medium"), (150, "-wide"),
    ]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    """Screen classes by size: the stylesheet lays out 80x24, 100x30 and 160x45 from them."""

    def __init__(self, settings: Settings) -> None:
        textual_fixes.apply()
        super().__init__()
        self.settings = settings
        self._first_config = settings.config
        self._client: NextmvClient | None = None
        self.store = RunStore(bounds=bounds_of(settings.history))
        self.queue_reader = QueueReader()
        self.history = HistoryLink(settings.history, settings.monotonic)
        self.keymap: dict[str, str] = {}
        self.queue = self._new_queue_poller()
        self._queue_timer = PollTimer(self, self.queue, self._start_poll, "queue poll")
        self.main: MainScreen
        self._warmed = False

    def _new_queue_poller(self) -> Poller:
        settings = self.settings
        return Poller(
            PollerConfig(settings.refresh, max_backoff=settings.max_backoff,
                         blur_factor=BLUR_FACTOR, blur_min=BLUR_MIN_REFRESH),
            clock=settings.monotonic,
        )

    @property
    def client(self) -> NextmvClient:
        """The HTTP client, created on first use: the first queue usually comes from the
        CLI's prefetch, so importing httpx and loading TLS roots happens after first paint."""
        if self._client is None:
            from nextmv_tui.cloud.client import NextmvClient

            self._client = NextmvClient(
                self.settings.config, timeout=self.settings.request_timeout,
                retry=MONITOR_RETRY, transport=self.settings.transport,
            )
        return self._client

    def get_default_screen(self) -> Screen[None]:
        self.main = MainScreen(self.settings, self.store, lambda: self.client, self.queue,
                               self.poll_now, self.history, lambda: self.keymap,
                               self.key_display)
        return self.main

    def on_mount(self) -> None:
        loop_probe.start_if_enabled()  # benchmark aid, off unless NEXTMV_TUI_LOOP_PROBE is set
        self._load_keymap()
        if self.settings.poll:
            self._decide(self.queue.start())
        self.set_timer(LAUNCH_HOLD_MAX, collector.release_after_launch)

    def _warm_up(self) -> None:
        """Once the first queue is on screen: import what the submit dialog needs, so ``s``
        opens it at once (keys typed meanwhile are kept anyway). Not before: the import
        thread would compete with the first render for the interpreter."""
        if not self._warmed:
            self._warmed = True
            self.run_worker(asyncio.to_thread(_import_dialogs), group="warm-up",
                            exit_on_error=False)

    # --- the queue's poll loop ------------------------------------------------------------

    def _decide(self, decision: Decision) -> None:
        self._queue_timer.apply(decision)

    def poll_now(self) -> None:
        """Poll the queue now, or right after the poll in flight."""
        self._decide(self.queue.refresh_now())

    def _start_poll(self) -> None:
        self._fetch_queue(self.store.begin_poll())

    @work(group="queue", exit_on_error=False, name="queue poll")
    async def _fetch_queue(self, token: int) -> None:
        prefetch, self.settings.prefetch = self.settings.prefetch, None
        reader = self.queue_reader
        loop_trace.mark("fetch-start")
        early = await prefetch.queue(PREFETCH_WAIT, reader) if prefetch is not None else None
        loop_trace.mark("fetch-read")
        if early is not None and early.provisional:
            early = await self._validate_preview(early, token)
        if early is not None:
            self.post_message(QueueLoaded(early, token))
            return
        deadline = self.settings.request_timeout * MONITOR_RETRY.max_attempts + 3.0
        await import_off_loop()  # the client's first use (pydantic, httpx) stays off the loop
        try:
            # The client has per-request timeouts; this bounds the whole call (retries
            # included) so a stalled server can never freeze the poll loop. The answer is
            # parsed on a thread, only the entries that changed (cloud/queue_reader.py).
            runs = await asyncio.wait_for(self.client.account_queue_snapshot(reader), deadline)
        except asyncio.TimeoutError:
            endpoint = self.settings.endpoint
            error = RequestTimeoutError(
                f"GET v1/account/queue: no answer from {endpoint} in {deadline:g} s",
                endpoint=endpoint,
            )
            self.post_message(QueueFailed(error, token))
        except Exception as exc:  # every fault becomes a message, never leaves the worker
            self.post_message(QueueFailed(exc, token))
        else:
            self.post_message(QueueLoaded(runs, token))

    @on(QueueLoaded)
    def _queue_loaded(self, message: QueueLoaded) -> None:
        loop_trace.mark(f"queue-loaded {len(message.snapshot.entries)}")
        if not self.store.is_current(message.token):
            return  # polled before a profile switch: another endpoint's runs
        self._apply(message.snapshot, message.token,
                    lambda change, now: self._queue_applied(message, change, now))

    def _queue_applied(self, message: QueueLoaded, change: Change, now: datetime) -> None:
        loop_trace.mark("queue-applied")
        self._decide(self.queue.poll_succeeded())
        self.main.problem, self.main.as_of = "", now
        self.queue_reader.commit(message.snapshot)  # applied: the next poll compares with it
        self.queue_reader.forget(change.reparse)
        self.main.apply_change(change)
        # Frozen for the collector (tui/collector.py): the runs that arrived, or every entry
        # when most of them are new objects (the launch's preview validated: 50,000 models
        # that full passes walked each refresh, 24-27 ms traced), never a refresh's few.
        made = len(message.snapshot.entries)
        collector.settle(made if 2 * made >= len(message.snapshot) else len(change.added))
        self._fetch_finals()
        self.main.show_connection()
        self.history.queue_changed(change, self.store)  # list those applications now
        self.call_after_refresh(self._after_paint)  # after the first rows are painted
        if not self._warmed:
            self.set_timer(1.0, self._warm_up)

    @on(QueueFailed)
    def _queue_failed(self, message: QueueFailed) -> None:
        if not self.store.is_current(message.token):
            return
        settings = self.settings
        failure = classify(message.error, settings.endpoint, settings.config.source)
        was = self.queue.connection
        self._decide(self.queue.poll_failed(failure.kind, failure.retry_after))
        self.main.problem = failure.detail
        self.main.show_connection()
        self._start_history()
        collector.release_after_launch()  # no rows yet: the launch is over anyway
        if failure.kind in ("auth", "tls") and was != failure.kind:
            # The header may be too narrow for the fix; a toast always shows it whole.
            self.notify(clean(failure.detail), title="Cannot read the queue",
                        severity="error", timeout=15, markup=False)

    def _after_paint(self) -> None:
        collector.release_after_launch()  # the first rows are on screen
        self._start_history()

    # --- refresh controls: the queue's poller and the detail pane's ------------------------

    def _control(self, event: str) -> None:
        """Feed ``event`` to both poll loops and show the result."""
        self._decide(getattr(self.queue, event)())
        self.main.detail.control(event)
        self.main.show_connection()

    def action_refresh(self) -> None:
        self._control("refresh_now")

    def action_toggle_pause(self) -> None:
        self._control("resume" if self.queue.paused else "pause")
        paused = self.queue.paused
        if paused:  # the history pauses too: nothing on screen changes until resumed
            self.workers.cancel_group(self, "history")
        elif self.history.started:
            self._run_history()
        self.notify("Refresh paused (p resumes)." if paused else "Refresh resumed.", timeout=2)

    def _set_interval(self, seconds: float) -> None:
        self._decide(self.queue.set_interval(seconds))
        self.notify(f"Refresh every {seconds:g}s.", timeout=2)
        self.main.show_connection()

    def action_faster(self) -> None:
        self._set_interval(next_refresh(self.queue.interval, faster=True))

    def action_slower(self) -> None:
        self._set_interval(next_refresh(self.queue.interval, faster=False))

    def on_app_blur(self, event: events.AppBlur) -> None:
        self._control("focus_lost")

    def on_app_focus(self, event: events.AppFocus) -> None:
        self._control("focus_regained")


def _import_dialogs() -> None:
    import nextmv_tui.tui.screens.confirm_cancel
    import nextmv_tui.tui.screens.submit  # noqa: F401


def make_app(settings: Settings) -> NextmvTuiApp:
    """The monitor app for ``settings``; tests, benchmarks and screenshots reuse it."""
    return NextmvTuiApp(settings)


__all__ = ["NextmvTuiApp", "make_app"]
