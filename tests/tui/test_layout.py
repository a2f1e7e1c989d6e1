"""Small terminals and keys that explain themselves, on the real app with fixed data.

Columns drop by priority and come back on resize, the key bar keeps ``?`` and ``q`` at every
width, the header leaves parts out whole, ``z``/``enter`` zoom the detail pane, a key that
cannot act says why, empty screens say what to do, and sorting speaks the user's words.
Data comes from ``FixedApi`` (see its docstring for why a fake is used here).
"""

from __future__ import annotations

import httpx
import pytest
from rich.text import Text
from textual import events

from nextmv_tui.tui.app import NextmvTuiApp
from tests.tui.conftest import wait_until
from tests.tui.fixed_app import fixed_app, settled

SIZES = [(80, 24), (100, 30), (160, 45)]


def toasts(app: NextmvTuiApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def header_label(app: NextmvTuiApp, key: str) -> str:
    return app.main.table.header_label(key)


@pytest.mark.parametrize("size", SIZES)
async def test_help_and_quit_are_always_in_the_key_bar_most_important_first(size) -> None:
    app = fixed_app()
    async with app.run_test(size=size) as pilot:
        await settled(pilot, app, "run-8p0a2s4d")
        keys = app.main.key_bar.plain
        assert "? Help" in keys and "q Quit" in keys, keys
        assert keys.strip().startswith("s Submit  c Cancel"), keys
        assert len(keys) <= size[0]
        header = app.main.header_line.render().plain  # type: ignore[attr-defined]
        assert "● online" in header and "data 0s old" in header
        assert not header.rstrip().endswith("…"), "parts are left out whole, never cut"


async def test_columns_drop_by_priority_and_come_back_when_the_terminal_grows() -> None:
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app, "run-8p0a2s4d")
        table = app.main.table
        assert table.shown_columns == ["status", "id", "name", "app", "created", "in_state"]
        assert table.key_at_cursor() == "run-8p0a2s4d"
        await pilot.resize_terminal(160, 45)
        await wait_until(pilot, lambda: {"user", "class", "duration", "objective", "pos"}
                         <= set(table.shown_columns), 5)
        assert table.key_at_cursor() == "run-8p0a2s4d", "the selection survives the rebuild"
        assert table.row_count == len(app.store)
        await pilot.resize_terminal(100, 30)
        await wait_until(pilot, lambda: "user" not in table.shown_columns, 5)
        assert {"created", "in_state", "duration", "objective"} <= set(table.shown_columns)


async def test_z_and_enter_zoom_the_detail_pane_and_escape_unzooms() -> None:
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app, "run-3f5g7h9j")
        normal = app.main.detail.size.height
        await pilot.press("z")
        await wait_until(pilot, lambda: app.main.detail.size.height >= normal + 5, 5)
        assert app.main.zoomed and app.main.table.key_at_cursor() == "run-3f5g7h9j"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.main.zoomed, 5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.main.zoomed, 5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.main.zoomed, 5)


def dimmed(app: NextmvTuiApp) -> set[str]:
    """The labels the key bar shows dimmed, read from what it renders."""
    text = app.main.key_bar.content
    assert isinstance(text, Text)
    return {text.plain[s.start:s.end].strip() for s in text.spans if "dim" in str(s.style)}


async def test_the_key_bar_dims_what_cannot_act_and_brightens_it_again() -> None:
    app = fixed_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot, app, "run-7h3k2m9p")  # running
        assert "Cancel" not in dimmed(app) and "Save" in dimmed(app)
        app.main.select_run("run-8p0a2s4d")  # succeeded
        await wait_until(pilot, lambda: "Cancel" in dimmed(app) and "Save" not in dimmed(app))
        app.main.select_run("run-7h3k2m9p")
        await wait_until(pilot, lambda: "Cancel" not in dimmed(app))


async def test_a_key_that_cannot_act_says_why() -> None:
    app = fixed_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settled(pilot, app, "run-8p0a2s4d")  # succeeded
        await pilot.press("c")
        await wait_until(pilot, lambda: "run already succeeded: nothing to cancel" in toasts(app))
        assert app.screen is app.main, "no dialog"
        await settled(pilot, app, "run-3f5g7h9j")  # failed
        await pilot.press("w")
        await wait_until(pilot, lambda: "run failed: it has no output to save" in toasts(app))
        await pilot.press("m")
        await wait_until(pilot, lambda: "run already failed: nothing to wait for" in toasts(app))
        before = len(toasts(app))
        await pilot.press("r", "o")  # keys that can act say nothing of the sort
        await pilot.pause()
        assert not any("nothing to" in t for t in toasts(app)[before:])


async def test_read_only_mode_hides_the_keys_and_says_why_when_pressed() -> None:
    app = fixed_app(read_only=True)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settled(pilot, app, "run-7h3k2m9p")  # running
        assert "Submit" not in app.main.key_bar.plain and "Cancel" not in app.main.key_bar.plain
        await pilot.press("s")
        await wait_until(pilot, lambda: any(
            t.startswith("read-only mode: submitting is disabled") for t in toasts(app)))
        await pilot.press("c")
        await wait_until(pilot, lambda: any(
            t.startswith("read-only mode: canceling is disabled") for t in toasts(app)))
        assert app.screen is app.main


def _empty_queue(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"runs": []})


async def test_empty_states_say_what_to_do() -> None:
    app = fixed_app(transport=httpx.MockTransport(_empty_queue))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.queue.polls_completed >= 1, 10)
        await wait_until(pilot, lambda: app.main.empty_hint.display, 5)
        assert app.main.empty_text() == "No runs yet — press s to submit one"
        assert "No runs yet — press s to submit one" in str(app.main.detail.render_info())
        assert "no runs yet" in app.main.summary_line.render().plain  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_until(pilot, lambda: "no runs yet — press s to submit one" in toasts(app))


async def test_a_filter_without_a_match_says_how_to_clear_it() -> None:
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app)
        await pilot.press("slash", *"zzz", "enter")
        await wait_until(pilot, lambda: app.main.table.row_count == 0, 5)
        assert app.main.empty_text() == "No run matches 'zzz' — esc clears the filter"
        assert app.main.empty_hint.display
        assert "esc clears the filter" in str(app.main.detail.render_info())
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.main.table.row_count == len(app.store), 5)
        assert not app.main.empty_hint.display


async def test_sorting_speaks_the_users_words_with_an_arrow_on_the_header() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settled(pilot, app, "run-8p0a2s4d")

        def summary() -> str:
            return app.main.summary_line.render().plain  # type: ignore[attr-defined]

        assert "sort active first ↑" in summary() and header_label(app, "status") == "Status ↑"
        await pilot.press("o")
        await wait_until(pilot, lambda: "sort newest first ↑" in summary(), 5)
        assert header_label(app, "created") == "Created ↑"
        assert header_label(app, "status") == "Status"
        assert app.main.table.key_at_cursor() == "run-8p0a2s4d", "selection kept"
        order = app.main.table.shown_ids()
        assert order[0] == "run-5y1u3i9o" and order[-1] == "run-9i0j1k2l", order
        await pilot.press("O")
        await wait_until(pilot, lambda: "sort newest first ↓" in summary(), 5)
        assert header_label(app, "created") == "Created ↓"
        assert app.main.table.shown_ids() == order[::-1]
        for label in ("next to run", "longest first", "objective", "application",
                      "active first"):
            await pilot.press("o")
            await wait_until(pilot, lambda label=label: f"sort {label} ↑" in summary(), 5)
        assert "in_state" not in summary() and "status ↑" not in summary()
        await pilot.click("#queue", offset=(60, 0))  # a header: sorts by it
        await wait_until(pilot, lambda: app.main.table.sort_id != "active", 5)


async def test_keys_typed_right_after_q_open_nothing_on_the_closing_app() -> None:
    app = fixed_app()
    pushed: list[object] = []
    push = app.push_screen
    app.push_screen = lambda screen, *a, **k: (pushed.append(screen), push(screen, *a, **k))[1]
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app, "run-8p0a2s4d")
        for key, char in (("q", "q"), ("s", "s"), ("question_mark", "?")):
            app._driver.send_message(events.Key(key, char))
        await wait_until(pilot, lambda: not app.is_running, 5)
    assert app.return_code == 0 and pushed == [], "nothing opened once q was pressed"
