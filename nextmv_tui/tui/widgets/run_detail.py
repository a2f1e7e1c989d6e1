"""The run-detail pane and the worker that feeds it.

The worker lives on this widget in its own exclusive group, so selecting another run
cancels the old fetch without touching the queue poller. It polls run information on the
core ``PollSchedule`` while the run is not final, tails live logs while it runs, and once
the run is final fetches the output preview and stops. It only posts messages; the handlers
below (and the app, for the store) apply them. Finished runs are cached, so moving the
cursor back to one costs no request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Log, Static

from nextmv_tui.cloud.errors import NotFoundError
from nextmv_tui.cloud.models import Metadata, RunInformation
from nextmv_tui.cloud.polling import PollingOptions, PollSchedule
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.messages import DetailFailed, DetailLoaded, DetailLogs, DetailOutput
from nextmv_tui.tui.state import RunRow, format_age

if TYPE_CHECKING:
    from nextmv_tui.cloud.client import NextmvClient

DETAIL_POLLING = PollingOptions(initial_delay=0.0, max_delay=5.0, jitter=0.5)
"""The SDK schedule, capped at 5 s: a person is watching this run."""
LOG_MAX_LINES = 1000
PREVIEW_MAX_BYTES = 1024 * 1024
"""Outputs above this are not fetched inline; ``w`` saves them."""
PREVIEW_MAX_LINES = 400
PREVIEW_MAX_CHARS = 40_000
CACHE_SIZE = 64
DEBOUNCE = 0.12
"""Wait before fetching so scrolling through rows does not fire a request per row."""


def human_bytes(size: float) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def human_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return format_age(ms / 1000) if ms >= 60_000 else f"{ms / 1000:.1f} s"


def flatten_stats(stats: dict[str, Any] | None, limit: int = 14) -> list[tuple[str, str]]:
    """Scalar leaves of a statistics document as dotted keys (lists are summarised)."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if len(out) >= limit:
            return
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list):
            out.append((prefix, f"[{len(value)} items]"))
        else:
            text = str(value)
            out.append((prefix, text if len(text) <= 60 else text[:59] + "…"))

    walk("", stats or {})
    return out


def preview_json(document: Any) -> tuple[str, bool]:
    """Pretty JSON cut at PREVIEW_MAX_LINES / PREVIEW_MAX_CHARS; returns (text, truncated)."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    truncated = False
    if len(text) > PREVIEW_MAX_CHARS:
        text = text[:PREVIEW_MAX_CHARS]
        truncated = True
    lines = text.splitlines()
    if len(lines) > PREVIEW_MAX_LINES:
        lines = lines[:PREVIEW_MAX_LINES]
        truncated = True
    return "\n".join(lines), truncated


class RunDetail(Vertical):
    """Information, live log tail and output preview of the selected run."""

    def __init__(
        self,
        client: Callable[[], NextmvClient],
        *,
        clock: Callable[[], datetime],
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._get_client = client
        self._clock = clock
        self.run_id: str | None = None
        self._app_id = ""
        self._row: RunRow | None = None
        self._info: RunInformation | None = None
        self._error = ""
        self._output: tuple[str, bool] | None = None
        self._log_lines: list[str] = []
        self._cache: OrderedDict[str, tuple[RunInformation, tuple[str, bool] | None, list[str]]]
        self._cache = OrderedDict()
        self._wake = asyncio.Event()
        self._last_signature: tuple[object, ...] = ()
        self._info_key = ""
        self._output_shown = ""

    def compose(self) -> ComposeResult:
        self._info_view = Static("No run selected.", id="detail-info")
        self._log_view = Log(max_lines=LOG_MAX_LINES, auto_scroll=True, id="detail-log")
        self._output_view = Static("", id="detail-output")
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="detail-info-scroll"):
                yield self._info_view
            with Vertical(id="detail-right"):
                yield Static("Log", classes="pane-title", id="detail-log-title")
                yield self._log_view
                yield Static("Output", classes="pane-title", id="detail-output-title")
                with VerticalScroll(id="detail-output-scroll"):
                    yield self._output_view

    # --- driven by the app ----------------------------------------------------------------

    def follow(self, row: RunRow | None) -> None:
        """Show ``row`` now and start following it (cancels the previous run's worker)."""
        self.workers.cancel_group(self, "detail")
        self._row = row
        self.run_id = row.run_id if row else None
        self._app_id = row.app_id if row else ""
        self._info = None
        self._info_key = ""
        self._error = ""
        self._output = None
        self._log_lines = []
        log = self._log_view
        log.clear()
        if row is None:
            self._info_view.update("No run selected.")
            self._last_signature = ()
            self._show_output_text(Text(""))
            return
        cached = self._cache.get(row.run_id)
        if cached is not None:
            self._info, self._output, self._log_lines = cached
            log.write_lines(self._log_lines)
            self._render_info()
            self._render_output()
            return
        self._render_info()
        self._show_output_text(Text("loading…", style="dim"))
        self._wake = asyncio.Event()
        self._follow(row.run_id, row.app_id)

    def poke(self) -> None:
        """The queue saw this run change: fetch now instead of waiting for the schedule."""
        self._wake.set()

    def tick(self) -> None:
        """Re-render time-in-state (called every second by the app)."""
        if self.run_id is not None:
            self._render_info()

    # --- the worker (posts messages only) ------------------------------------------------

    async def _sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if ``poke`` cut it short."""
        wake = self._wake
        try:
            await asyncio.wait_for(wake.wait(), timeout=max(0.0, seconds))
        except asyncio.TimeoutError:
            return False
        wake.clear()
        return True

    @work(group="detail", exclusive=True, exit_on_error=False, name="detail")
    async def _follow(self, run_id: str, app_id: str) -> None:
        await asyncio.sleep(DEBOUNCE)
        client = self._get_client()
        schedule = PollSchedule(DETAIL_POLLING)
        attempt = 0
        failures = 0
        since: str | None = None
        tailing = False
        info_due = 0.0
        logs_due = 0.0
        status = RunStatus.NONE
        while True:
            now = time.monotonic()
            if now >= info_due:
                try:
                    info = await client.run_information(app_id, run_id)
                except Exception as exc:  # any fault: show it, back off, keep going
                    failures += 1
                    retry = min(30.0, 2.0**failures)
                    self.post_message(DetailFailed(run_id, exc, retry))
                    if isinstance(exc, NotFoundError):
                        return
                    await self._sleep(retry)
                    continue
                failures = 0
                attempt += 1
                status = info.status
                self.post_message(DetailLoaded(info))
                info_due = time.monotonic() + schedule.delay_after(attempt)
                if status.is_final:
                    await self._final_logs(app_id, run_id, since, tailing)
                    await self._load_output(info)
                    return
            if status == RunStatus.RUNNING and time.monotonic() >= logs_due:
                try:
                    live = await client.live_logs(app_id, run_id, since)
                except Exception:
                    live = None
                if live is not None:
                    lines = [item.log for item in live.items]
                    if lines or not tailing:
                        self.post_message(DetailLogs(run_id, lines, reset=not tailing))
                    tailing = True
                    since = live.next_page_token or since
                    logs_due = time.monotonic() + max(0.5, live.next_available_in_seconds)
                else:
                    logs_due = time.monotonic() + 2.0
            wait = info_due - time.monotonic()
            if status == RunStatus.RUNNING:
                wait = min(wait, logs_due - time.monotonic())
            if await self._sleep(wait):
                info_due = 0.0

    async def _final_logs(self, app_id: str, run_id: str, since: str | None, tailing: bool) -> None:
        try:
            if tailing:
                live = await self._get_client().live_logs(app_id, run_id, since)
                lines = [item.log for item in live.items]
                if lines:
                    self.post_message(DetailLogs(run_id, lines))
            else:
                text = await self._get_client().logs(app_id, run_id)
                lines = text.splitlines()[-LOG_MAX_LINES:]
                self.post_message(DetailLogs(run_id, lines, reset=True))
        except Exception:
            return

    async def _load_output(self, info: RunInformation) -> None:
        meta = info.metadata
        run_id = info.id
        fmt = meta.format.output.type
        if info.status != RunStatus.SUCCEEDED:
            how = {"failed": "failed", "canceled": "was canceled"}.get(
                info.status.value, f"ended as {info.status.value}"
            )
            text = f"No output: the run {how}."
            if meta.error:
                text += f"\n{meta.error}"
            self.post_message(DetailOutput(run_id, text, False))
            return
        if fmt != "json" or meta.output_size > PREVIEW_MAX_BYTES:
            self.post_message(
                DetailOutput(
                    run_id,
                    f"{fmt} output, {human_bytes(meta.output_size)}: not previewed here. "
                    "Press w to save it to a file.",
                    False,
                )
            )
            return
        try:
            app_id = meta.application_id or self._app_id
            result = await self._get_client().run_result(app_id, run_id)
        except Exception as exc:
            self.post_message(DetailOutput(run_id, f"Output not loaded: {exc}", False))
            return
        if result.output is None:
            self.post_message(DetailOutput(run_id, "The run returned no output.", False))
            return
        text, truncated = preview_json(result.output)
        if truncated:
            text += (
                f"\n… truncated ({human_bytes(meta.output_size)} in all); "
                "press w to save the whole output."
            )
        self.post_message(DetailOutput(run_id, text, True))

    # --- message handlers (own the pane's state) -----------------------------------------

    @on(DetailLoaded)
    def _loaded(self, message: DetailLoaded) -> None:
        if message.info.id != self.run_id:
            return
        key = message.info.model_dump_json()
        if key == self._info_key and not self._error:
            return  # polled again, nothing changed: no repaint
        self._info_key = key
        self._info = message.info
        self._error = ""
        self._render_info()
        if self._output is None and not message.info.status.is_final:
            self._show_output_text(
                Text("The output preview appears when the run has finished.", style="dim")
            )

    @on(DetailFailed)
    def _failed(self, message: DetailFailed) -> None:
        if message.run_id != self.run_id:
            return
        if isinstance(message.error, NotFoundError):
            self._error = "This run no longer exists on the server (deleted)."
            self._info = None
        else:
            self._error = f"{message.error} — retrying in {message.retry_in:.0f}s"
        self._render_info()

    @on(DetailLogs)
    def _logs(self, message: DetailLogs) -> None:
        if message.run_id != self.run_id:
            return
        log = self._log_view
        if message.reset:
            log.clear()
            self._log_lines = []
        self._log_lines.extend(message.lines)
        if len(self._log_lines) > LOG_MAX_LINES:
            del self._log_lines[: len(self._log_lines) - LOG_MAX_LINES]
        log.write_lines(message.lines)

    @on(DetailOutput)
    def _output_loaded(self, message: DetailOutput) -> None:
        if message.run_id != self.run_id:
            return
        self._output = (message.text, message.is_json)
        self._render_output()
        if self._info is not None and self._info.status.is_final:
            self._cache[message.run_id] = (self._info, self._output, list(self._log_lines))
            self._cache.move_to_end(message.run_id)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    # --- rendering ---------------------------------------------------------------------

    @property
    def info(self) -> RunInformation | None:
        return self._info

    def output_text(self) -> str:
        return self._output[0] if self._output else ""

    def _show_output_text(self, text: Text) -> None:
        if text.plain != self._output_shown:
            self._output_shown = text.plain
            self._output_view.update(text)

    def _render_output(self) -> None:
        if self._output is None:
            self._show_output_text(Text(""))
            return
        text, is_json = self._output
        if is_json:
            self._show_output_text(JSONHighlighter()(Text(text)))
        else:
            self._show_output_text(Text(text, style="italic"))

    def _render_info(self) -> None:
        signature = self._signature()
        if signature == self._last_signature:
            return  # the per-second tick changed nothing visible
        same_shape = signature[:-2] == self._last_signature[:-2]
        self._last_signature = signature
        # Only the ages changed: same number of lines, so no layout pass is needed.
        self._info_view.update(self.render_info(), layout=not same_shape)

    def _signature(self) -> tuple[object, ...]:
        """What the info block shows, cheaply: its inputs plus the rounded ages."""
        now = self._clock()
        row, info = self._row, self._info
        since = info.metadata.status_changed_at if info else None
        if since is None and row is not None:
            since = row.status_since
        created = info.metadata.created_at if info else None
        return (
            self._info_key, row.run_id if row else None,
            row.status_word if row else None,
            self._error,
            format_age((now - since).total_seconds()) if since else "",
            format_age((now - created).total_seconds()) if created else "",
        )

    def render_info(self) -> RenderableType:
        row = self._row
        info = self._info
        now = self._clock()
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True, max_width=18, overflow="ellipsis")
        grid.add_column(overflow="fold")
        if row is None and info is None:
            return Text("No run selected.")
        run_id = info.id if info else (row.run_id if row else "")
        grid.add_row("Run", run_id)
        name = (info.name if info else "") or (row.name if row else "")
        if name:
            grid.add_row("Name", name)
        if info is not None:
            meta = info.metadata
            status = meta.status_v2
            since = meta.status_changed_at
            if since is None and row is not None and row.status == status:
                since = row.status_since
            word = status.value
            state = Text(word, style="bold")
            if since is not None:
                state.append(f" for {format_age((now - since).total_seconds())}")
            grid.add_row("Status", state)
            grid.add_row("Application", meta.application_id or "-")
            grid.add_row("Instance", meta.application_instance_id or "-")
            grid.add_row("Version", meta.application_version_id or "-")
            grid.add_row("Class", meta.execution_class or "-")
            if meta.queuing_priority:
                grid.add_row("Priority", str(meta.queuing_priority))
            created = meta.created_at
            grid.add_row(
                "Created",
                f"{created:%Y-%m-%d %H:%M:%S}Z ({format_age((now - created).total_seconds())} ago)",
            )
            grid.add_row("Duration", _duration_text(meta, since, now))
            grid.add_row(
                "Input", f"{meta.format.input.type}, {human_bytes(meta.input_size)}"
            )
            output = f"{meta.format.output.type}"
            if status == RunStatus.SUCCEEDED:
                output += f", {human_bytes(meta.output_size)}"
            elif status.is_final:
                output += " (none)"
            grid.add_row("Output", output)
            if info.user_email:
                grid.add_row("User", info.user_email)
            options = meta.options.request_options if meta.options else None
            if options:
                grid.add_row(
                    "Options", ", ".join(f"{k}={v}" for k, v in options.items())
                )
            if meta.error:
                grid.add_row(Text("Error", style="bold red"), Text(meta.error, style="red"))
            for key, value in flatten_stats(meta.statistics):
                grid.add_row(Text(key, style="dim"), value)
        elif row is not None:
            grid.add_row("Status", f"{row.status_word} (loading details…)")
            grid.add_row("Application", row.app_id or "-")
        parts: list[RenderableType] = [grid]
        if self._error:
            parts.append(Text(self._error, style="bold red"))
        return Group(*parts)


def _duration_text(meta: Metadata, running_since: datetime | None, now: datetime) -> str:
    """A running run is counted live from its timestamps, so it agrees with "running for"
    between polls; a queued run has not started; otherwise the server's figures."""
    status = meta.status_v2
    if status is RunStatus.QUEUED:
        return "- (not started)"
    if status is RunStatus.RUNNING:
        text = human_ms(max(0.0, (now - meta.created_at).total_seconds() * 1000))
        if running_since is not None:
            executing = max(0.0, (now - running_since).total_seconds() * 1000)
            text += f" (execution {human_ms(executing)})"
        return text
    text = human_ms(meta.duration) if meta.duration else "-"
    if meta.execution_duration:
        text += f" (execution {human_ms(meta.execution_duration)})"
    return text
