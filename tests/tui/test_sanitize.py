"""Untrusted text never reaches the terminal raw (issue 8 §3).

Hostile run names go through the REAL service (in-process), and a test app
(``tests/tui/apps/hostile``) writes escape sequences and markup to stderr and into its
output and statistics. The assertions are on what the app would write to the terminal: the
compositor's full frame as terminal bytes (SGR colours and cursor moves are Textual's own;
no OSC, no clear-screen, no BEL/BS, no C1 byte may come from data) and its plain text (the
visible stand-ins ``␛`` and the literal markup are there, and every run is still listed).
"""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text

from nextmv_tui.cloud.models import CreateRunRequest, Format, Queuing, RunConfiguration
from nextmv_tui.tui.format import clean, safe
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for, knapsack_request

HOSTILE_APP = Path(__file__).parent / "apps" / "hostile"
SIZE = (200, 50)
HOSTILE_NAMES = [
    "\x1b]2;X\x1b\\",
    "\x1b[2J\x1b[H" + "…" * 3,
    "[bold red]x[/]",
    "[link=https://evil.example]click[/link]",
]
_OURS = re.compile(r"\x1b\[[0-9;]*[mHABCDJK]|\x1b\[\?[0-9;]*[hl]")
"""Textual's own sequences: colours, cursor moves. Everything else must not appear."""


def terminal_frame(app) -> str:
    """The bytes a full repaint of the current screen writes to the terminal."""
    update = app.screen._compositor.render_full_update()
    return update.render_segments(app.console)


def assert_no_raw_controls(frame: str) -> str:
    """Strip Textual's own sequences, then no control character may remain; returns text."""
    assert "\x1b[2J" not in frame and "\x1b]" not in frame
    text = _OURS.sub("", frame)
    bad = sorted({f"{ord(ch):#04x}" for ch in text if (ord(ch) < 0x20 and ch != "\n")
                  or 0x7F <= ord(ch) <= 0x9F})
    assert bad == [], f"raw control characters reached the terminal: {bad}"
    return text


def test_clean_replaces_controls_visibly_and_safe_never_reads_markup():
    assert clean("\x1b]2;X\x1b\\") == "␛]2;X␛\\"
    assert clean("a\tb\nc\x07\x9b\u202e") == "a b␊c␇\\x9b\\u202e"
    # colour codes are dropped (one rule with the headless commands: cloud/text.py)
    assert clean("line 1\r\n\tline 2\x1b[0m", multiline=True) == "line 1\n    line 2"
    assert clean("plain, ünïcode ✔") == "plain, ünïcode ✔"
    text = safe("[bold red]x[/]")
    assert isinstance(text, Text) and text.plain == "[bold red]x[/]" and not text.spans


async def test_hostile_run_names_are_shown_visibly_and_every_run_stays_listed(
    make_inprocess_service,
):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        ids = [await client.create_run("knapsack", knapsack_request(name=name))
               for name in HOSTILE_NAMES]
        ids += [await client.create_run("knapsack", knapsack_request(name=f"plain {i}"))
                for i in range(16)]
        app = app_for(service)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: all(app.main.table.has_run(r) for r in ids), 15)
            app.main.select_run(ids[0])
            await wait_until(pilot, lambda: app.main.detail.info is not None, 10)
            await pilot.pause()
            text = assert_no_raw_controls(terminal_frame(app))
            assert "␛]2;X␛\\" in text, "the title sequence is shown, not obeyed"
            assert "␛[2J␛[H" in text
            assert "[bold red]x[/]" in text, "markup in a name is literal text"
            assert app.main.table.row_count == 20, "a hostile name hides no run"
            await pilot.press("c")  # the cancel confirmation shows the name too
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmCancelScreen")
            await pilot.pause()
            assert "␛]2;X" in assert_no_raw_controls(terminal_frame(app))


async def test_hostile_logs_output_statistics_and_error_are_sanitized(make_inprocess_service):
    service = await make_inprocess_service(app=[HOSTILE_APP])
    request = CreateRunRequest(
        input={"any": "thing"}, name="hostile output",
        configuration=RunConfiguration(format=Format(), queuing=Queuing()),
    )
    async with client_for(service) as client:
        good = await client.create_run("hostile", request)
        bad = await client.create_run(
            "hostile", request.model_copy(update={"name": "hostile error",
                                                  "options": {"fail": "1"}}))
        app = app_for(service, app_id="hostile")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.main.table.has_run(good)
                             and app.main.table.has_run(bad), 15)
            app.main.select_run(good)
            await wait_until(pilot, lambda: "PWNED-OUTPUT" in app.main.detail.output_text(), 30)
            await wait_until(pilot, lambda: any("evil bidi" in line
                                                for line in app.main.detail._log_lines), 10)
            await pilot.pause()
            text = assert_no_raw_controls(terminal_frame(app))
            assert "␛]2;PWNED-TITLE" in text, "stderr escapes shown visibly in the log"
            assert "[bold red]markup?[/]" in text
            assert "␛]2;PWNED-STAT" in text, "statistics labels and values too"
            assert "PWNED-OUTPUT" in text
            app.main.select_run(bad)
            await wait_until(pilot, lambda: app.main.detail.info is not None
                             and app.main.detail.info.id == bad
                             and app.main.detail.info.status.is_final, 30)
            await pilot.pause()
            text = assert_no_raw_controls(terminal_frame(app))
            assert "␛]2;PWNED-ERROR" in text, "the run's error message"
