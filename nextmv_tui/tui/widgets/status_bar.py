"""The header line (where, who, connection, data age) and the per-state summary line.

Both are plain ``Static`` widgets fed by the app; they hold no state of their own, so what
they show is always derived from the app's state at the last ``show`` call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from nextmv_tui.tui.columns import STATUS_GLYPHS
from nextmv_tui.tui.format import format_age, safe, utc_stamp
from nextmv_tui.tui.poller import ConnectionState

PROBLEM_STATES = ("offline", "error", "limited", "auth", "tls")


def _interval(seconds: float) -> str:
    return f"{seconds:g}s"


@dataclass
class HeaderInfo:
    """Everything the header line shows."""

    endpoint: str
    profile: str
    state: ConnectionState = "connecting"
    detail: str = ""
    data_age: float | None = None
    retry_in: float | None = None
    failures: int = 0
    interval: float = 2.0
    effective_interval: float = 2.0
    paused: bool = False
    read_only: bool = False
    stale: bool = False
    as_of: datetime | None = None
    """Wall-clock time of the last good poll (shown while the data is stale)."""
    failing_since: datetime | None = None
    history: str = ""
    """What is wrong with the run history (its own line: the queue may be fine)."""


class HeaderLine(Static):
    """One line: endpoint, profile, connection state, data age, refresh interval."""

    _last: str = ""

    def show(self, info: HeaderInfo) -> None:
        text = render_header(info)
        key = f"{info.state}{info.stale}{text.plain}"
        if key == self._last:
            return  # called every second: repaint only when the line changes
        self._last = key
        self.update(text, layout=False)  # always one line: no layout pass needed
        self.set_class(info.state in PROBLEM_STATES, "-offline")
        self.set_class(info.stale, "-stale")


def render_header(info: HeaderInfo) -> Text:
    text = Text()
    text.append(" nextmv-tui ", style="bold")
    text.append("│ ")
    text.append(safe(info.endpoint))
    text.append(" │ profile ")
    text.append(safe(info.profile, "bold"))
    text.append(" │ ")
    _append_state(text, info)
    text.append(" │ ")
    _append_age(text, info)
    text.append(" │ ")
    if info.paused:
        text.append("PAUSED", style="bold reverse")
        text.append(" (p resumes)")
    else:
        text.append(f"every {_interval(info.interval)}")
        if info.effective_interval > info.interval + 1e-9 and info.state == "online":
            text.append(f" ({_interval(info.effective_interval)} unfocused)")
    if info.read_only:
        text.append(" │ ")
        text.append("READ-ONLY", style="bold")
    return text


def _append_state(text: Text, info: HeaderInfo) -> None:
    if info.state == "online":
        text.append("● online", style="bold")
    elif info.state == "connecting":
        text.append("◌ connecting…")
    elif info.state == "auth":
        text.append("✘ not authorized", style="bold")
    elif info.state == "tls":
        text.append("✘ TLS certificate not trusted", style="bold")
    else:
        word = {"error": "server error", "limited": "rate limited"}.get(info.state, "offline")
        text.append(f"✘ {word}", style="bold")
        if info.failing_since is not None:
            text.append(f" since {utc_stamp(info.failing_since, date=False)}", style="bold")
        text.append(f" — retrying in {max(0, round(info.retry_in or 0))}s")
        if info.failures > 1:
            text.append(f" (attempt {info.failures})")


def _append_age(text: Text, info: HeaderInfo) -> None:
    if info.data_age is None:
        text.append("no data yet")
    elif info.stale and info.as_of is not None:
        text.append(" STALE ", style="bold reverse")
        text.append(f" rows as of {utc_stamp(info.as_of, date=False)}")
        text.append(f" ({format_age(info.data_age)} ago)")
    else:
        text.append(f"data {format_age(info.data_age)} old")


class ProblemLine(Static):
    """Why the queue cannot be read, in full (wraps), and what is wrong with the run
    history, on a line of its own; shown only while there is a problem."""

    _last: str = ""

    def show(self, info: HeaderInfo) -> None:
        lines = [info.detail] if info.state in PROBLEM_STATES and info.detail else []
        if info.history:
            lines.append(info.history)
        detail = "\n".join(f" {line}" for line in lines)
        if detail == self._last:
            return
        self._last = detail
        self.display = bool(detail)
        self.update(safe(detail, multiline=True))


class SummaryLine(Static):
    """Counts per state, plus the current sort and filter."""

    _last: str = ""

    def show(
        self,
        counts: dict[str, int],
        *,
        shown: int,
        total: int,
        sort_column: str,
        reverse: bool,
        filter_text: str,
        above: str = "",
        batch: str = "",
        loading: bool = False,
    ) -> None:
        text = render_summary(counts, shown, total, sort_column, reverse, filter_text, batch)
        if loading:
            text.append(" │ history loading…", style="dim")
        if above:
            text.append("  │ ")
            text.append(above, style="bold reverse")
        if text.plain != self._last:
            self._last = text.plain
            self.update(text, layout=False)


def render_summary(
    counts: dict[str, int],
    shown: int,
    total: int,
    sort_column: str,
    reverse: bool,
    filter_text: str,
    batch: str = "",
) -> Text:
    """Counts per state (or, filtering by a batch, its progress), the sort, the filter."""
    text = Text(" ")
    if batch:
        text.append(safe(batch, "bold"))
    elif not counts:
        text.append("no runs")
    for index, (word, count) in enumerate(() if batch else counts.items()):
        if index:
            text.append(" · ")
        text.append(f"{STATUS_GLYPHS.get(word, '?')} {count} {word}")
    text.append("  │ sort ")
    text.append(f"{sort_column} {'↓' if reverse else '↑'}", style="bold")
    if filter_text:
        text.append(" │ filter ")
        text.append(safe(repr(filter_text), "bold"))
        text.append(f" ({shown} of {total})")
    return text
