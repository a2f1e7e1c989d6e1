"""Pure formatting for display, Textual-free: sanitized text, sizes, durations, statistics,
previews and the detail pane's information block.

``clean``/``safe`` are the monitor's thin wrappers over ``cloud.text.sanitize``, the one
implementation shared with the headless commands: every untrusted text (run names,
descriptions, IDs, emails, options, log lines, error messages, outputs, statistics labels,
app IDs) goes through them. Colour codes are dropped and every other control character is
shown as a visible stand-in (ESC -> ``␛``, C1 and bidi controls -> ``\\x9b`` /
``\\u202e``), so a run named ``"\\x1b]2;X\\x1b\\\\"`` can neither set the terminal
title nor blank the screen. ``safe`` returns a ``rich.text.Text``: data is never parsed as
Rich markup (``[bold]`` in a name stays literal text).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.cloud.text import sanitize
from nextmv_tui.cloud.units import human_bytes, utc_stamp

if TYPE_CHECKING:
    from nextmv_tui.cloud.models import Metadata, RunInformation
    from nextmv_tui.tui.state import RunRow

__all__ = ["human_bytes", "utc_stamp"]

PREVIEW_MAX_BYTES = 1024 * 1024
"""Outputs above this are not fetched inline; ``w`` saves them."""
PREVIEW_MAX_LINES = 400
PREVIEW_MAX_CHARS = 40_000


def clean(text: str, *, multiline: bool = False) -> str:
    """``text`` made terminal-safe by ``cloud.text.sanitize`` (the one rule: colour codes
    dropped, every other control shown as a stand-in); newlines kept only when
    ``multiline``, where tabs are also expanded (4 columns) for the panes."""
    if multiline and "\t" in text:
        text = text.expandtabs(4)
    return sanitize(text, keep_newlines=multiline)


def safe(text: str, style: str = "", *, multiline: bool = False) -> Text:
    """Untrusted ``text`` as a ``Text``: sanitized, never interpreted as markup."""
    return Text(clean(text, multiline=multiline), style=style)


# --- fitting text into a width: never split a value mid-token ---------------------------

ELLIPSIS = "…"


def truncate(text: str, width: int) -> str:
    """``text`` in at most ``width`` terminal cells: whole when it fits, else cut and ended
    with ``…`` (so a cut value never reads as a different, complete one)."""
    if width <= 0:
        return ""
    if len(text) <= width and (text.isascii() or cell_len(text) <= width):
        return text  # the common case, without measuring (ASCII: one cell per character)
    if text.isascii():
        return text[: width - 1].rstrip() + ELLIPSIS
    kept: list[str] = []
    used = 0
    for char in text:
        size = cell_len(char)
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    return "".join(kept).rstrip() + ELLIPSIS


def wrap_words(text: str, width: int, max_lines: int | None = None) -> list[str]:
    """``text`` wrapped at spaces into lines of at most ``width`` cells.

    A word longer than a line is truncated with ``…`` rather than split across lines; past
    ``max_lines`` the last line ends with ``…``. Empty text gives no lines."""
    if width <= 0:
        return []
    lines: list[str] = []
    line = ""
    for word in text.split():
        word = truncate(word, width)
        if line and cell_len(line) + 1 + cell_len(word) <= width:
            line += " " + word
            continue
        if line:
            lines.append(line)
        line = word
    if line:
        lines.append(line)
    if max_lines is not None and len(lines) > max_lines:
        if max_lines <= 0:
            return []
        tail = " ".join(lines[max_lines - 1:])
        lines = [*lines[: max_lines - 1], truncate(tail, width)]
    return lines


def fit_by_priority(sizes: Sequence[tuple[int, int]], available: int, gap: int = 0) -> list[int]:
    """Indices of the items to keep, in order, so that they fit in ``available`` cells.

    ``sizes`` are ``(priority, width)``: the largest priority number is dropped first (the
    rightmost one among equals); priority 0 is never dropped, even when it does not fit.
    ``gap`` cells separate kept items."""
    kept = list(range(len(sizes)))

    def total() -> int:
        return sum(sizes[i][1] for i in kept) + gap * max(0, len(kept) - 1)

    while total() > available:
        droppable = [i for i in kept if sizes[i][0] > 0]
        if not droppable:
            break
        worst = max(droppable, key=lambda i: (sizes[i][0], i))
        kept.remove(worst)
    return kept


class ColumnFit(msgspec.Struct, frozen=True):
    """What ``plan_columns`` needs to know about a column (widths exclude padding)."""

    key: str
    priority: int
    natural: int
    """Width of its widest value (or its title), capped at its maximum."""
    minimum: int
    """Narrowest it may get; values are truncated with ``…`` below ``natural``."""


def plan_columns(columns: Sequence[ColumnFit], available: int, padding: int = 2) -> dict[str, int]:
    """Which columns to show and how wide, in ``available`` cells (``padding`` per column).

    Columns are dropped by priority until their minimum widths fit; the room left is then
    given to the kept columns, most important first, up to their natural widths."""
    sizes = [(c.priority, min(c.minimum, c.natural) + padding) for c in columns]
    kept = [columns[i] for i in fit_by_priority(sizes, available)]
    widths = {c.key: min(c.minimum, c.natural) for c in kept}
    spare = available - sum(widths.values()) - padding * len(kept)
    for column in sorted(kept, key=lambda c: c.priority):
        if spare <= 0:
            break
        grow = min(spare, column.natural - widths[column.key])
        widths[column.key] += grow
        spare -= grow
    return {c.key: widths[c.key] for c in kept}


def display_endpoint(endpoint: str) -> str:
    """The endpoint as shown on screen: any ``user:password@`` part of the URL is left out,
    so a credential put in an endpoint can never reach the header or a screenshot."""
    scheme, sep, rest = endpoint.partition("://")
    if not sep:
        scheme, rest = "", endpoint
    host, slash, path = rest.partition("/")
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    return f"{scheme}{sep}{host}{slash}{path}"


def format_age(seconds: float) -> str:
    """Compact relative duration: ``5s``, ``3m12s``, ``25m``, ``2h05m``, ``4d03h``.

    Seconds are shown only for the first ten minutes: past that the text changes once a
    minute, so a table of old runs costs no repaint per second (idle CPU)."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    minutes, s = divmod(s, 60)
    if minutes < 10:
        return f"{minutes}m{s:02d}s"
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def human_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return format_age(ms / 1000) if ms >= 60_000 else f"{ms / 1000:.1f} s"


def preview_json(document: Any) -> tuple[str, bool]:
    """Pretty JSON cut at PREVIEW_MAX_LINES / PREVIEW_MAX_CHARS; returns (text, truncated).

    JSON escapes C0 controls inside strings; the rest is for ``clean`` when shown."""
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


def duration_text(meta: Metadata, running_since: datetime | None, now: datetime) -> str:
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


NO_SELECTION_HINT = "No run selected — use ↑/↓ to choose one"


LABEL_WIDTH = 18
NARROW_LABEL_WIDTH = 12


def _grid(label_width: int = LABEL_WIDTH) -> Table:
    """Labels never wrap; values wrap at spaces and a word wider than the pane ends with
    ``…`` (Rich's ellipsis overflow): a run ID or a date is never split across lines."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True, max_width=label_width, overflow="ellipsis")
    grid.add_column(overflow="ellipsis")
    return grid


class DetailExtras(msgspec.Struct, frozen=True):
    """What the detail pane shows beyond the run's own information (from the store)."""

    position: str = ""
    """A waiting run's place in its queue: ``#3 of 12 in class local``."""
    batch: str = ""
    """The run's batch experiment and its progress: ``bx-42: 7/10 done, 1 failed``."""


def render_info(
    row: RunRow | None,
    info: RunInformation | None,
    now: datetime,
    *,
    frozen: bool = False,
    extras: DetailExtras | None = None,
    hint: str = NO_SELECTION_HINT,
    label_width: int = LABEL_WIDTH,
) -> RenderableType:
    """The detail pane's information block, key results first (status, objective,
    duration, error), then the run's particulars, then its statistics. ``now`` is the last
    good poll's time when the data is ``frozen`` (stale): live counters stop, "as of".
    With no run, the ``hint`` says what to do. Labels longer than ``label_width`` end
    with ``…``."""
    if row is None and info is None:
        return Text(hint, style="dim")
    extras = extras or DetailExtras()
    grid = _grid(label_width)
    grid.add_row("Run", safe(info.id if info else row.run_id if row else ""))
    name = (info.name if info else "") or (row.name if row else "")
    if name:
        grid.add_row("Name", safe(name))
    if info is not None:
        _key_rows(grid, row, info, now, frozen, extras)
        _info_rows(grid, info, now)
    elif row is not None:
        grid.add_row("Status", safe(f"{row.status_word} (loading details…)"))
        if row.objective is not None:
            grid.add_row("Objective", Text(format_objective(row.objective), style="bold"))
        _extra_rows(grid, extras)
        grid.add_row("Application", safe(row.app_id or "-"))
    stats = (info.metadata.statistics or info.metadata.metrics) if info is not None else None
    if not stats:
        return Group(grid)
    return Group(grid, Text(""), statistics_table(stats))


def _since(row: RunRow | None, info: RunInformation) -> datetime | None:
    since = info.metadata.status_changed_at
    if since is None and row is not None and row.status == info.status:
        since = row.status_since
    return since


def _key_rows(
    grid: Table, row: RunRow | None, info: RunInformation, now: datetime, frozen: bool,
    extras: DetailExtras,
) -> None:
    """What users look for first: state, objective, duration, error."""
    meta = info.metadata
    status = meta.status_v2
    since = _since(row, info)
    state = Text(status.value, style="bold")
    if since is not None:
        state.append(f" for {format_age((now - since).total_seconds())}")
    if frozen and not status.is_final:
        state.append(f" (as of {utc_stamp(now, date=False)})", style="dim")
    grid.add_row("Status", state)
    objective = meta.objective
    if objective is None and row is not None:
        objective = row.objective
    if objective is not None:
        grid.add_row("Objective", Text(format_objective(objective), style="bold"))
    grid.add_row("Duration", Text(duration_text(meta, since, now)))
    if meta.error:
        grid.add_row(Text("Error", style="bold red"), safe(meta.error, "red", multiline=True))
    _extra_rows(grid, extras)


def _extra_rows(grid: Table, extras: DetailExtras) -> None:
    if extras.position:
        grid.add_row("Position", safe(extras.position))
    if extras.batch:
        grid.add_row("Batch", safe(extras.batch))


def _info_rows(grid: Table, info: RunInformation, now: datetime) -> None:
    meta = info.metadata
    status = meta.status_v2
    grid.add_row("Application", safe(meta.application_id or "-"))
    grid.add_row("Instance", safe(meta.application_instance_id or "-"))
    grid.add_row("Version", safe(meta.application_version_id or "-"))
    grid.add_row("Class", safe(meta.execution_class or "-"))
    if meta.queuing_priority:
        grid.add_row("Priority", str(meta.queuing_priority))
    created = meta.created_at
    age = format_age((now - created).total_seconds())
    grid.add_row("Created", Text(f"{utc_stamp(created)} ({age} ago)"))
    grid.add_row("Input", safe(f"{meta.format.input.type}, {human_bytes(meta.input_size)}"))
    output = meta.format.output.type
    if status == RunStatus.SUCCEEDED:
        output += f", {human_bytes(meta.output_size)}"
    elif status.is_final:
        output += " (none)"
    grid.add_row("Output", safe(output))
    if info.user_email:
        grid.add_row("User", safe(info.user_email))
    options = meta.options.request_options if meta.options else None
    if options:
        grid.add_row("Options", safe(", ".join(f"{k}={v}" for k, v in options.items())))


def statistics_table(stats: Any) -> RenderableType:
    """The statistics as an indented table with full labels (they wrap, never cut)."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=False, overflow="fold")
    table.add_column(overflow="fold")
    table.add_row(Text("Statistics", style="bold underline"), "")
    from nextmv_tui.tui.statistics import statistics_rows  # a fetched run's: after launch

    for stat in statistics_rows(stats):
        label = safe("  " * (stat.depth + 1) + stat.label, "bold" if not stat.value else "dim")
        table.add_row(label, safe(stat.value))
    return table


def output_summary(info: RunInformation) -> str | None:
    """Why a final run's output is not previewed, or None when it should be fetched."""
    meta = info.metadata
    if info.status != RunStatus.SUCCEEDED:
        how = {"failed": "failed", "canceled": "was canceled"}.get(
            info.status.value, f"ended as {info.status.value}"
        )
        text = f"No output: the run {how}."
        return text + f"\n{meta.error}" if meta.error else text
    fmt = meta.format.output.type
    if fmt != "json" or meta.output_size > PREVIEW_MAX_BYTES:
        return (
            f"{fmt} output, {human_bytes(meta.output_size)}: not previewed here. "
            "Press w to save it to a file."
        )
    return None


def short_duration(seconds: float) -> str:
    """A finished run's duration for a narrow column: ``0.42s``, ``12.3s``, ``3m12s``."""
    if seconds < 0 or seconds != seconds:  # negative or NaN: nothing sensible to show
        return ""
    if seconds < 1:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    return format_age(seconds)


def format_objective(value: float | None) -> str:
    """An objective in at most 12 characters: integers as such, 2 decimals from 1 up,
    4 significant digits for tiny or huge values."""
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return ""
    magnitude = abs(value)
    if value == int(value) and magnitude < 1e12:
        return str(int(value))
    if magnitude >= 1e7 or magnitude < 1e-3:
        return f"{value:.4g}"
    return f"{value:.2f}" if magnitude >= 1 else f"{value:.4f}"
