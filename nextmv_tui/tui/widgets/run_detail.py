"""The run-detail pane: follows the selected run through its own ``Poller``.

Selecting a run costs exactly one metadata request (after a short debounce); later
requests follow ``tui/follow.py``'s schedule, and the queue only asks for an early one when
it saw the run change state (``row_changed``). Each poll is one exclusive worker in the
``detail`` group, so selecting another run cancels the old fetch without touching the queue
poller. Workers only post messages; the handlers below own the pane's state. Errors go to
the pane's one status line, never into the information grid. While the data is stale, the
live counters stop at the last good fetch and say "as of". Finished runs are cached.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from rich.highlighter import JSONHighlighter
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Log, Static

from nextmv_tui.cloud.errors import NotFoundError
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.connection import classify
from nextmv_tui.tui.follow import DEBOUNCE, Plan, RunFollow
from nextmv_tui.tui.format import (
    LABEL_WIDTH,
    NARROW_LABEL_WIDTH,
    NO_SELECTION_HINT,
    DetailExtras,
    clean,
    format_age,
    human_bytes,
    output_summary,
    preview_json,
    render_info,
    safe,
    utc_stamp,
)
from nextmv_tui.tui.lazy import import_off_loop, loaded
from nextmv_tui.tui.messages import DetailFailed, DetailFetched
from nextmv_tui.tui.poller import Decision, Poller, PollerConfig
from nextmv_tui.tui.state import RunRow
from nextmv_tui.tui.timers import PollTimer

if TYPE_CHECKING:
    from typing import TypeAlias

    from nextmv_tui.cloud.client import NextmvClient
    from nextmv_tui.cloud.models import RunInformation
    from nextmv_tui.tui.statistics import Series
    from nextmv_tui.tui.widgets.objective_plot import ObjectivePlot

LOG_MAX_LINES = 1000
PLOT_MIN_WIDTH = 120
"""A narrower pane shows no plot (the statistics table summarises the series)."""
NARROW_INFO = 48
"""Below this width the information labels are cut at ``NARROW_LABEL_WIDTH``."""
CACHE_SIZE = 64
DETAIL_RETRY = PollerConfig(interval=1.0, jitter=0.2)
"""Retries of a failing detail poll: 1, 2, 4 ... s (capped), with jitter."""

Cached: TypeAlias = "tuple[RunInformation, tuple[str, bool] | None, list[str]]"


class RunDetail(Vertical):
    """Information, live log tail and output preview of the selected run."""

    def __init__(
        self,
        client: Callable[[], NextmvClient],
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        max_backoff: float = 30.0,
        extras: Callable[[RunRow | None], DetailExtras] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._get_client = client
        self._extras = extras or (lambda _row: DetailExtras())
        self._plotted: RunInformation | None = None
        self._wide = True
        self._clock = clock
        self._monotonic = monotonic
        self._config = PollerConfig(DETAIL_RETRY.interval, max_backoff=max_backoff,
                                    jitter=DETAIL_RETRY.jitter)
        self.poller = Poller(self._config, clock=monotonic)
        self._timer: PollTimer | None = None
        self._follow: RunFollow | None = None
        self.run_id: str | None = None
        self._row: RunRow | None = None
        self._info: RunInformation | None = None
        self._as_of: datetime | None = None
        self._error = ""
        self._output: tuple[str, bool] | None = None
        self._log_lines: list[str] = []
        self._cache: OrderedDict[str, Cached] = OrderedDict()
        self._signature: tuple[object, ...] = ()
        self._output_shown = ""
        self._status_shown: str | None = None
        self._queue_stale = False
        self._hint = NO_SELECTION_HINT

    def compose(self) -> ComposeResult:
        self._status = Static("", id="detail-status")
        self._info_view = Static(Text(self._hint, style="dim"), id="detail-info")
        self._log_view = Log(max_lines=LOG_MAX_LINES, auto_scroll=True, id="detail-log")
        self._output_view = Static("", id="detail-output")
        yield self._status
        self._plot: ObjectivePlot | None = None
        """Mounted with the first series (plotext is imported then, not at launch)."""
        self._series: Series | None = None
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="detail-info-scroll"):
                yield self._info_view
            with Vertical(id="detail-right"):
                yield Static("Log", classes="pane-title", id="detail-log-title")
                yield self._log_view
                yield Static("Output", classes="pane-title", id="detail-output-title")
                with VerticalScroll(id="detail-output-scroll"):
                    yield self._output_view
            with Vertical(id="detail-plot-box"):
                yield Static("Objective over time", classes="pane-title",
                             id="detail-plot-title")

    def on_mount(self) -> None:
        self._status.display = False
        self.query_one("#detail-plot-box").display = False

    # --- driven by the screen --------------------------------------------------------------

    def follow(self, row: RunRow | None) -> None:
        """Show ``row`` now and start following it (cancels the previous run's poll)."""
        self.workers.cancel_group(self, "detail")
        if self._timer is not None:
            self._timer.cancel()
        self._row, self.run_id = row, row.run_id if row else None
        self._info = self._output = self._as_of = None
        self._error = ""
        self._log_lines = []
        self._log_view.clear()
        self._follow = None
        self._new_poller()
        if row is None:
            self._show_output(Text(""))
        elif (cached := self._cache.get(row.run_id)) is not None:
            self._info, self._output, self._log_lines = cached
            self._as_of = self._clock()
            self._log_view.write_lines(self._log_lines)
            self._render_output()
        else:
            self._show_output(Text("loading…", style="dim"))
            self._follow = RunFollow(row.run_id, row.app_id)
            self._apply(self.poller.start(DEBOUNCE))
        self.refresh_view()

    def _new_poller(self) -> None:
        """A fresh poll loop per run; the user's pause and the terminal's focus carry over."""
        old = self.poller
        self.poller = Poller(self._config, clock=self._monotonic)
        self.poller.paused, self.poller.blurred = old.paused, old.blurred
        self._timer = PollTimer(self, self.poller, self._poll, "detail poll")

    def row_changed(self, row: RunRow | None) -> None:
        """The queue's view of the followed run changed: fetch early only if it knows a
        status this pane has not seen (its own fetches feed the queue too)."""
        self._row = row
        if row is None or self._info is None or row.status == self._info.status:
            return
        self._apply(self.poller.refresh_now())

    def control(self, event: str) -> None:
        """Forward a refresh-control event (``refresh_now``, ``pause``, ``resume``,
        ``focus_lost``, ``focus_regained``) from the app to this pane's poller."""
        self._apply(getattr(self.poller, event)())

    def _apply(self, decision: Decision) -> None:
        if self._timer is not None:
            self._timer.apply(decision)

    def forget(self) -> None:
        """Another endpoint: drop the cache of finished runs and show nothing."""
        self._cache.clear()
        self.follow(None)

    def set_hint(self, hint: str) -> None:
        """What the pane says while no run is selected (what to do next)."""
        if hint != self._hint:
            self._hint = hint
            self.refresh_view()

    def tick(self, queue_stale: bool) -> None:
        """Every second: ages and the status line (cheap when nothing visible changed)."""
        self._queue_stale = queue_stale
        self.refresh_view()

    # --- the poll (the worker posts messages only) -----------------------------------------

    def _poll(self) -> None:
        follow = self._follow
        if follow is not None:
            self._fetch(follow.run_id, follow.app_id, follow.plan(self._monotonic()))

    @work(group="detail", exclusive=True, exit_on_error=False, name="detail")
    async def _fetch(self, run_id: str, app_id: str, plan: Plan) -> None:
        await self._client_loaded()
        client = self._get_client()
        try:
            info = await client.run_information(app_id, run_id) if plan.info else None
        except Exception as exc:  # any fault: the handler shows it and backs off
            self.post_message(DetailFailed(run_id, exc))
            return
        message = DetailFetched(run_id, info)
        running = info is not None and info.status == RunStatus.RUNNING
        if plan.logs or (running and not plan.tailing):
            try:
                await self._read_live_log(message, app_id, plan)
            except Exception as exc:
                if info is None:  # the log was this poll's only request: it failed
                    self.post_message(DetailFailed(run_id, exc))
                    return
                message.next_log_in = -1.0  # soft: the log is retried on the next poll
        if info is None and message.log_status is not None and message.log_status.is_final:
            # The log says the run ended: its information now, in this same poll (on a
            # failure the schedule's next poll fetches it).
            with contextlib.suppress(Exception):
                info = message.info = await client.run_information(app_id, run_id)
        if info is not None and info.status.is_final:
            await self._read_final(message, info, plan)
        self.post_message(message)

    async def _client_loaded(self) -> None:
        """The first fetch after launch: the frame with the first rows is painted first,
        then the client (pydantic, httpx) is imported on a thread, not on the loop (a
        thread that imports while the frame renders slows the frame down)."""
        if not loaded():
            painted = asyncio.Event()
            self.call_after_refresh(painted.set)
            await painted.wait()
            await import_off_loop()

    async def _read_live_log(self, message: DetailFetched, app_id: str, plan: Plan) -> None:
        live = await self._get_client().live_logs(app_id, message.run_id, plan.since)
        message.lines = [item.log for item in live.items]
        message.reset = not plan.tailing
        message.log_token = live.next_page_token
        message.next_log_in = live.next_available_in_seconds
        message.log_status = live.status_v2

    async def _read_final(self, message: DetailFetched, info: RunInformation, plan: Plan) -> None:
        """The rest of the log and the output preview (or why there is none)."""
        client = self._get_client()
        app_id = info.metadata.application_id or (self._follow.app_id if self._follow else "")
        log_done = message.log_status is not None and message.log_status.is_final
        try:
            if log_done and plan.tailing:
                pass  # this poll's live-log answer came after the end: it holds the rest
            elif plan.tailing:
                live = await client.live_logs(app_id, info.id, message.log_token or plan.since)
                message.lines += [item.log for item in live.items]
            else:
                text = await client.logs(app_id, info.id)
                message.lines, message.reset = text.splitlines()[-LOG_MAX_LINES:], True
        except Exception:
            pass  # the output still matters more than the log's tail
        message.output = await self._read_output(client, app_id, info, message)

    @staticmethod
    async def _read_output(
        client: NextmvClient, app_id: str, info: RunInformation, message: DetailFetched
    ) -> tuple[str, bool]:
        summary = output_summary(info)
        if summary is not None:
            return summary, False
        try:
            result = await client.run_result(app_id, info.id)
        except Exception as exc:
            return f"Output not loaded: {exc}", False
        if result.output is None:
            return "The run returned no output.", False
        stats = result.output.get("statistics") if isinstance(result.output, dict) else None
        message.statistics = stats if isinstance(stats, dict) else None
        text, truncated = preview_json(result.output)
        if truncated:
            text += (f"\n… truncated ({human_bytes(info.metadata.output_size)} in all); "
                     "press w to save the whole output.")
        return text, True

    # --- message handlers (own the pane's state) -------------------------------------------

    @on(DetailFetched)
    def _fetched(self, message: DetailFetched) -> None:
        follow = self._follow
        if message.run_id != self.run_id or follow is None:
            return
        now = self._monotonic()
        self._error = ""
        self._as_of = self._clock()
        if message.info is not None:
            self._info = message.info
            follow.info_fetched(message.info.status, now)
        if self._info is not None:
            self._info = _with_statistics(self._info, message.statistics)
        if message.next_log_in is not None:
            ok = message.next_log_in >= 0
            follow.logs_fetched(message.log_token, message.next_log_in if ok else None, now,
                                progressed=bool(message.lines))
        self._write_log(message.lines, message.reset)
        if message.output is not None:
            self._output = message.output
            self._render_output()
            self._remember()
        final = self._info is not None and self._info.status.is_final
        self._apply(self.poller.poll_succeeded(None if final else follow.next_in(now)))
        if final:
            self._apply(self.poller.stop())
        elif self._output is None:
            self._show_output(
                Text("The output preview appears when the run has finished.", style="dim")
            )
        self.refresh_view()

    @on(DetailFailed)
    def _failed(self, message: DetailFailed) -> None:
        if message.run_id != self.run_id:
            return
        failure = classify(message.error, "", "")
        self._apply(self.poller.poll_failed(failure.kind, failure.retry_after))
        if isinstance(message.error, NotFoundError):
            self._error = "This run no longer exists on the server (deleted)."
            self._info = None
            self._apply(self.poller.stop())
        else:
            self._error = str(message.error) or type(message.error).__name__
        self.refresh_view()

    def _write_log(self, lines: list[str], reset: bool) -> None:
        if reset:
            self._log_view.clear()
            self._log_lines = []
        if not lines:
            return
        shown = [clean(line) for line in lines]
        self._log_lines.extend(shown)
        del self._log_lines[:-LOG_MAX_LINES]
        self._log_view.write_lines(shown)

    def _remember(self) -> None:
        if self._info is None or not self._info.status.is_final or self.run_id is None:
            return
        self._cache[self.run_id] = (self._info, self._output, list(self._log_lines))
        self._cache.move_to_end(self.run_id)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    # --- rendering -----------------------------------------------------------------------

    @property
    def info(self) -> RunInformation | None:
        return self._info

    @property
    def frozen(self) -> bool:
        """Live counters stop: the data is stale (a failing link or overdue polls). A final
        run's poller has stopped on purpose: its data cannot go out of date."""
        own = self.poller.is_stale() and not self.poller.stopped
        return self._as_of is not None and (self._queue_stale or own)

    def output_text(self) -> str:
        return self._output[0] if self._output else ""

    def refresh_view(self) -> None:
        self._render_info()
        self._render_status()

    def _counter_now(self) -> datetime:
        return self._as_of if self.frozen and self._as_of is not None else self._clock()

    def render_info(self) -> RenderableType:
        return render_info(self._row, self._info, self._counter_now(), frozen=self.frozen,
                           extras=self._extras(self._row), hint=self._hint,
                           label_width=self._label_width())

    def _label_width(self) -> int:
        """Narrow panes keep more room for values: labels are cut earlier (with ``…``)."""
        width = self._info_view.size.width
        return NARROW_LABEL_WIDTH if 0 < width < NARROW_INFO else LABEL_WIDTH


    def _render_info(self) -> None:
        now = self._counter_now()
        since = self._info.metadata.status_changed_at if self._info else None
        signature = (
            self._info,  # compared by identity, else field by field (a re-fetch may be equal)
            self._row.status_word if self._row else None, self.run_id, self.frozen, self._hint,
            self._label_width(),
            self._extras(self._row), self._row.objective if self._row else None,
            format_age((now - since).total_seconds()) if since else "",
            format_age((now - self._info.metadata.created_at).total_seconds())
            if self._info else "",
        )
        if signature == self._signature:
            return  # the per-second tick changed nothing visible
        same_shape = signature[:-2] == self._signature[:-2]  # all but the two ages
        self._signature = signature
        # Only the ages changed: same number of lines, so no layout pass is needed.
        self._info_view.update(self.render_info(), layout=not same_shape)
        self._render_plot()

    def _render_plot(self) -> None:
        """The objective over time, when the run's statistics carry a series."""
        if self._info is self._plotted:
            return
        self._plotted = self._info
        meta = self._info.metadata if self._info is not None else None
        stats = (meta.statistics or meta.metrics) if meta is not None else None
        from nextmv_tui.tui.statistics import objective_series  # not before the first rows

        self._series = objective_series(stats) if stats else None
        if self._plot is None and self._series is not None:
            from nextmv_tui.tui.widgets.objective_plot import ObjectivePlot

            self._plot = ObjectivePlot(id="detail-plot")
            self.query_one("#detail-plot-box").mount(self._plot)
        if self._plot is not None:
            self._plot.show(self._series)
        self._show_plot_box()

    def on_resize(self, event: events.Resize) -> None:
        self._wide = event.size.width >= PLOT_MIN_WIDTH
        self._show_plot_box()
        self.refresh_view()  # labels are cut earlier on a narrow pane

    def _show_plot_box(self) -> None:
        box = self.query_one("#detail-plot-box")
        box.display = self._series is not None and self._wide

    @property
    def plotted(self) -> bool:
        """A series is plotted (tests, screenshots)."""
        return self._plot is not None and self._plot.series is not None and self._wide

    def status_text(self) -> str:
        """The pane's one status line: an error, stale data, or nothing."""
        if self._error:
            retry = self.poller.retry_in()
            tail = f" — retrying in {retry:.0f}s" if retry is not None else ""
            return f"✘ {self._error}{tail}"
        if self.frozen and self._as_of is not None and self._info is not None:
            return f"not refreshed since {utc_stamp(self._as_of, date=False)}: data as of then"
        return ""

    def _render_status(self) -> None:
        text = self.status_text()
        if text == self._status_shown:
            return
        self._status_shown = text
        self._status.display = bool(text)
        self._status.update(safe(text, "bold"))

    def _show_output(self, text: Text) -> None:
        if text.plain != self._output_shown:
            self._output_shown = text.plain
            self._output_view.update(text)

    def _render_output(self) -> None:
        if self._output is None:
            self._show_output(Text(""))
            return
        text, is_json = self._output
        shown = safe(text, multiline=True)
        self._show_output(JSONHighlighter()(shown) if is_json else Text(shown.plain, "italic"))


def _with_statistics(info: RunInformation, statistics: dict[str, Any] | None) -> RunInformation:
    """``info`` with the output's statistics when its metadata has none: the plot and the
    statistics table read them there (Cloud's metadata carries flat metrics only)."""
    if statistics is None or info.metadata.statistics:
        return info
    metadata = info.metadata.model_copy(update={"statistics": statistics})
    return info.model_copy(update={"metadata": metadata})
