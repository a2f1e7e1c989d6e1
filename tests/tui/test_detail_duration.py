"""The detail pane's duration line: live for a running run, none for a queued one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from nextmv_tui.cloud.models import Metadata
from nextmv_tui.tui.format import duration_text

CREATED = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def meta(status: str, **fields: float) -> Metadata:
    return Metadata(created_at=CREATED, status_v2=status, **fields)  # type: ignore[arg-type]


def test_running_duration_is_counted_live_and_ignores_the_stale_poll():
    now = CREATED + timedelta(seconds=12)
    started = CREATED + timedelta(seconds=2)
    text = duration_text(meta("running", duration=3_000, execution_duration=1_000), started, now)
    assert text == "12.0 s (execution 10.0 s)"


def test_queued_run_has_not_started():
    text = duration_text(meta("queued", duration=1_400), None, CREATED + timedelta(seconds=5))
    assert text == "- (not started)"


def test_final_run_shows_the_server_figures():
    now = CREATED + timedelta(hours=1)
    done = meta("succeeded", duration=2_500, execution_duration=800)
    assert duration_text(done, CREATED, now) == "2.5 s (execution 800 ms)"
