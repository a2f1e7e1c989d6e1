"""The header line (where, who, connection, data age) and the per-state summary line.

Both are plain ``Static`` widgets fed by the app; they hold no state of their own, so what
they show is always derived from the app's state at the last ``show`` call. Each line is
made of parts with a priority: on a narrow terminal the least important parts are left out
whole (``format.fit_by_priority``) instead of the line being cut in the middle of a word.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from rich.text import Text
from textual.widgets import Static

from nextmv_tui.tui.columns import STATUS_GLYPHS
from nextmv_tui.tui.format import display_endpoint, fit_by_priority, format_age, safe, utc_stamp
from nextmv_tui.tui.poller import ConnectionState

PROBLEM_STATES = ("offline", "error", "limited", "auth", "tls")
SEPARATOR = " │ "
Part = tuple[int, Text]
"""``(priority, text)``: 0 is always shown; larger numbers are left out first."""


def join_parts(parts: list[Part], width: int, separator: str = SEPARATOR) -> Text:
    """The parts that fit in ``width`` cells, whole, joined by ``separator``."""
    kept = fit_by_priority([(p, t.cell_len) for p, t in parts], width, len(separator))
    text = Text()
    for n, index in enumerate(kept):
        if n:
            text.append(separator)
        text.append_text(parts[index][1])
    return text


def _interval(seconds: float) -> str:
    return f"{seconds:g}s"


class HeaderInfo(msgspec.Struct):
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
    _info: HeaderInfo | None = None

    def on_resize(self) -> None:
        if self._info is not None:
            self.show(self._info)

    def show(self, info: HeaderInfo) -> None:
        self._info = info
        text = render_header(info, self.size.width or 160)
        key = f"{info.state}{info.stale}{text.plain}"
        if key == self._last:
            return  # called every second: repaint only when the line changes
        self._last = key
        self.update(text, layout=False)  # always one line: no layout pass needed
        self.set_class(info.state in PROBLEM_STATES, "-offline")
        self.set_class(info.stale, "-stale")


def render_header(info: HeaderInfo, width: int = 160) -> Text:
    """The header for ``width`` cells: the connection state, the data age, a pause and
    read-only mode always; the endpoint, profile, interval and title as room allows."""
    state = Text()
    _append_state(state, info)
    age = Text()
    _append_age(age, info)
    refresh = Text()
    if info.paused:
        refresh.append("PAUSED", style="bold reverse")
        refresh.append(" (p resumes)")
    else:
        refresh.append(f"every {_interval(info.interval)}")
        if info.effective_interval > info.interval + 1e-9 and info.state == "online":
            refresh.append(f" ({_interval(info.effective_interval)} unfocused)")
    profile = Text("profile ")
    profile.append_text(safe(info.profile, "bold"))
    parts: list[Part] = [
        (6, Text("nextmv-tui", style="bold")),
        (3, safe(display_endpoint(info.endpoint))),
        (4, profile),
        (0, state),
        (1, age),
        (0 if info.paused else 5, refresh),
    ]
    if info.read_only:
        parts.append((0, Text("READ-ONLY", style="bold")))
    line = Text(" ")
    line.append_text(join_parts(parts, max(1, width - 1)))
    return line


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


class Summary(msgspec.Struct):
    """Everything the summary line shows."""

    counts: dict[str, int]
    shown: int = 0
    total: int = 0
    sort_label: str = "active first"
    reverse: bool = False
    filter_text: str = ""
    above: str = ""
    picked: int = 0
    batch: str = ""
    """Filtering by a batch: its progress, shown instead of the counts."""
    loading: bool = False
    """The run history's first load is still running."""


class SummaryLine(Static):
    """Counts per state, plus what is picked, the sort and the filter."""

    _last: str = ""
    _summary: Summary | None = None

    def on_resize(self) -> None:
        if self._summary is not None:
            self.show(self._summary)

    def show(self, summary: Summary) -> None:
        self._summary = summary
        text = render_summary(summary, self.size.width or 160)
        if text.plain != self._last:
            self._last = text.plain
            self.update(text, layout=False)


def _counts(counts: dict[str, int], compact: bool, batch: str = "") -> Text:
    """Counts per state or, filtering by a batch, its progress."""
    if batch:
        return safe(batch, "bold")
    text = Text()
    if not counts:
        text.append("no runs yet")
    for index, (word, count) in enumerate(counts.items()):
        glyph = STATUS_GLYPHS.get(word, "?")
        if compact:
            text.append(f"{' ' if index else ''}{glyph}{count}")
        else:
            text.append(f"{' · ' if index else ''}{glyph} {count} {word}")
    return text


def render_summary(summary: Summary, width: int = 160) -> Text:
    """The summary for ``width`` cells; counts lose their words before anything is cut."""
    parts: list[Part] = [(0, Text())]
    if summary.picked:
        parts.append((0, Text(f"✓ {summary.picked} picked (esc clears)", style="bold")))
    if summary.filter_text:
        part = Text("filter ")
        part.append_text(safe(repr(summary.filter_text), "bold"))
        part.append(f" ({summary.shown} of {summary.total})")
        parts.append((0, part))
    sort = Text("sort ")
    sort.append(f"{summary.sort_label} {'↓' if summary.reverse else '↑'}", style="bold")
    parts.append((2, sort))
    if summary.loading:
        parts.append((3, Text("history loading…", style="dim")))
    if summary.above:
        parts.append((1, Text(summary.above, style="bold reverse")))
    room = max(1, width - 1)
    parts[0] = (0, _counts(summary.counts, False, summary.batch))
    whole = sum(t.cell_len for _, t in parts) + len(SEPARATOR) * (len(parts) - 1)
    if whole > room:  # narrow: "▶2 …30 ✔100" before leaving anything out
        parts[0] = (0, _counts(summary.counts, True, summary.batch))
    line = join_parts(parts, room)
    text = Text(" ")
    text.append_text(line)
    return text
