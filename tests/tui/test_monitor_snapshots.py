"""SVG snapshots of the monitor at 80x24, 100x30 and 160x45: the main screen, the detail
pane (zoomed) and the submit dialog, plus a sorted and filtered view.

Determinism: a fixed wall clock and monotonic clock (relative times and data age never move)
and the constant ``FixedApi`` transport (see its docstring for why a fake is used here). The
submit dialog's tree is rooted in ``tests/tui/fixtures/inputs`` with HOME set to its parent,
so the picker shows ``~/inputs`` on every machine.

Before each snapshot the screen's text (what the SVG shows) is checked: every run ID, date,
status, name, application, class and endpoint appears whole or cut with ``…``, never split
mid-token, and ``?`` (help) and ``q`` (quit) are on the key line.
Update with ``pytest tests/tui/test_monitor_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from nextmv_tui.cloud.units import utc_stamp
from nextmv_tui.tui.screens.submit import SubmitScreen
from tests.tui.conftest import wait_until
from tests.tui.fixed_api import NOW, RUNS
from tests.tui.fixed_app import fixed_app, settled
from tests.tui.screen_check import screen_text, split_values

__all__ = ["fixed_app", "settled"]

SIZES = [(80, 24), (100, 30), (160, 45)]
INPUTS = Path(__file__).parent / "fixtures" / "inputs"


def known_values() -> list[str]:
    values = ["https://api.cloud.nextmv.io", "ana@example.com", "production", "latest",
              "v1.4.2"]
    for run_id, name, app, status, final, created, _since, _prio, klass in RUNS:
        values += [run_id, name, app, status, final or status, klass,
                   utc_stamp(NOW - timedelta(minutes=created))]
    return values


def check_screen(app: Any) -> list[str]:
    """The screen's text, checked: no value split mid-token, help and quit shown."""
    lines = screen_text(app)
    problems = split_values(lines, known_values())
    assert problems == [], "\n".join(problems)
    keys = lines[-1]
    assert "? Help" in keys and "q Quit" in keys, keys
    return lines


def test_the_checker_catches_the_splits_of_issue_12() -> None:
    values = ["run-aycozlpk5fi9", "succeeded", "2026-11-28 10:00:00Z"]
    bad = ["Run  run-ay │ x", "     cozlpk", "Status  succee", "Created 2026-11-2", "8"]
    assert len(split_values(bad, values)) == 3
    good = ["Run  run-aycozlpk5fi9", "Status  succeeded", "Created 2026-11-28", "10:00:00Z",
            "  ✔ succ…  run-aycozl…", "run-aycozzzzz"]
    assert split_values(good, values) == []


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen_running_run_with_log(snap_compare: Any, size: tuple[int, int]) -> None:
    app = fixed_app()

    async def run_before(pilot: Any) -> None:
        await settled(pilot, app, "run-7h3k2m9p")
        lines = check_screen(app)
        assert sum("run-" in line for line in lines) >= 8, "every run ID is on screen"

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_detail_pane_zoomed_on_a_failed_run(snap_compare: Any, size: tuple[int, int]) -> None:
    app = fixed_app()

    async def run_before(pilot: Any) -> None:
        await settled(pilot, app, "run-3f5g7h9j")
        await pilot.press("z")
        table = app.main.table

        def zoomed_on_the_run() -> bool:
            rows = table.size.height - 1  # below the header
            return app.main.zoomed and rows < 8 and (
                table.scroll_y <= table.cursor_row < table.scroll_y + rows)

        await wait_until(pilot, zoomed_on_the_run, 5)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        lines = check_screen(app)
        text = "\n".join(lines)
        assert "run-3f5g7h9j" in text and "'vehicles' must be a" in text

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_submit_dialog(
    snap_compare: Any, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(INPUTS)
    monkeypatch.setenv("HOME", str(INPUTS.parent))
    app = fixed_app()

    async def run_before(pilot: Any) -> None:
        await settled(pilot, app, "run-7h3k2m9p")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), 5)
        screen = app.screen
        for widget in screen.query(Input):
            widget.cursor_blink = False
        picker = screen.query_one("#submit-picker")
        await wait_until(pilot, lambda: picker.input_tree is not None  # type: ignore[attr-defined]
                         and len(picker.input_tree.root.children) == 4, 10)  # type: ignore[attr-defined]
        hint = screen.query_one("#hint-options")
        await wait_until(pilot, lambda: "syntax only" in str(hint.render()).replace("\n", " "),
                         10)
        await pilot.pause()
        text = "\n".join(check_screen(app))
        assert "~/inputs" in text and "routing" in text

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_succeeded_run_output_sorted_and_filtered(snap_compare: Any) -> None:
    app = fixed_app(read_only=True)

    async def run_before(pilot: Any) -> None:
        await settled(pilot, app, "run-8p0a2s4d")
        app.main._resort("column:name", True)
        app.main.filter_bar.cursor_blink = False
        app.main.action_filter()
        app.main.filter_bar.value = "knapsack"
        await wait_until(pilot, lambda: app.main.filter_text == "knapsack", 5)
        await pilot.pause()
        check_screen(app)

    assert snap_compare(app, terminal_size=(160, 45), run_before=run_before)


def test_main_screen_history_objective_column_and_plotted_series(snap_compare: Any) -> None:
    """Runs listed by the history only (hours old), the objective, duration, position and
    batch columns, and the detail pane of a routing run: key results first, statistics
    with full labels, the objective series plotted."""
    app = fixed_app()

    async def run_before(pilot: Any) -> None:
        await settled(pilot, app, "run-1a2b3c4d")
        await wait_until(pilot, lambda: app.main.detail.plotted, 5)
        await pilot.pause()
        check_screen(app)

    assert snap_compare(app, terminal_size=(160, 45), run_before=run_before)
