"""The benchmark harness itself (cheap checks; the benchmarks' ``--quick`` runs take about a
minute together, too long for the suite, so they are not run here).

- the synthetic API answers what the product's wire models accept, and changes the stated
  fraction of runs per refresh;
- the pty + terminal-emulator reader finds run IDs and the highlighted row, and dates a
  screen change after a key press;
- percentiles are nearest-rank (p99 of 1,000 samples is the 10th-worst, not the maximum).
"""

from __future__ import annotations

import sys
import textwrap
import time

import httpx
import pytest

pytest.importorskip("pyte")

from benchmarks.harness import stats, subjects
from benchmarks.harness.servers import FakeApi
from benchmarks.harness.term import PtyApp, highlighted_id
from nextmv_tui.cloud.models import QueueResponse, RunInformation


def test_synthetic_api_speaks_the_wire_models_and_changes_the_stated_fraction():
    with FakeApi(200, 0.1) as api:
        first = QueueResponse.model_validate(httpx.get(api.endpoint + "/v1/account/queue").json())
        second = QueueResponse.model_validate(httpx.get(api.endpoint + "/v1/account/queue").json())
        delta = httpx.get(api.endpoint + "/bench/delta").json()
        run = first.runs[7]
        info = httpx.get(f"{api.endpoint}/v1/applications/{run.application_id}/runs/"
                         f"{run.id}/metadata")
        missing = httpx.get(f"{api.endpoint}/v1/applications/x/runs/bench-9999999/metadata")
        events = []
        deadline = time.monotonic() + 10  # the server reports after answering: wait for it
        while len(events) < 3 and time.monotonic() < deadline:
            events += api.events(timeout=0.5)
    assert len(first.runs) == len(second.runs) == 200
    changed = [a.id for a, b in zip(first.runs, second.runs, strict=True)
               if a.status_v2 != b.status_v2]
    assert len(changed) == 20
    assert len(delta["runs"]) == 20 and delta["generation"] == 2
    assert RunInformation.model_validate(info.json()).id == run.id
    assert missing.status_code == 404
    assert [event.generation for event in events] == [0, 1, 2]
    assert all(e.received <= e.sending <= e.written for e in events)


SCREEN = textwrap.dedent(
    r"""
    import sys, tty
    tty.setraw(0)
    def draw(cursor):
        out = "\x1b[H\x1b[2J" + "header\r\n"
        for row in range(5):
            color = "44" if row == cursor else "40"
            out += f"\x1b[{color}m bench-{row:07d}  queued \x1b[0m\r\n"
        out += "\r\n detail: bench-0000000\r\n"
        sys.stdout.write(out)
        sys.stdout.flush()
    draw(0)
    cursor = 0
    while sys.stdin.read(1) != "q":
        cursor += 1
        draw(cursor)
    """
)


def test_pty_reader_finds_the_highlighted_row_and_dates_a_key():
    app = PtyApp([sys.executable, "-c", SCREEN], cols=40, rows=12)
    try:
        app.wait_for(lambda s: highlighted_id(s, subjects.RUN_ID) == "bench-0000000", 10)
        assert subjects.table_ids(app.screen) == {f"bench-{i:07d}" for i in range(5)}
        written = app.send(b"j")
        seen = app.wait_for(
            lambda s: highlighted_id(s, subjects.RUN_ID) == "bench-0000001", 10)
        assert written <= seen <= time.monotonic()
    finally:
        app.close()
    assert app.proc.returncode is not None


def test_percentiles_are_nearest_rank_samples():
    samples = [float(i) for i in range(1, 1001)]
    assert stats.percentile(samples, 99) == 990.0
    assert stats.percentile(samples, 50) == 500.0
    assert stats.percentile(samples, 100) == 1000.0
    assert stats.spread([3.0, 1.0, 2.0]) == (2.0, 1.0, 3.0)
    assert stats.paired_ratios([2.0, 6.0], [1.0, 3.0]) == [2.0, 2.0]
