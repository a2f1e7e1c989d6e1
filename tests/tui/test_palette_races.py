"""The command palette under input faster than it settles (found by the monkey): an enter
queued before the palette closed, and search results that arrive after it closed, are
dropped instead of ending the app (Textual 8.2's palette raised ScreenStackError and
NoMatches). See ``nextmv_tui/tui/screens/palette.py``."""

from __future__ import annotations

import asyncio

import pytest
from textual.command import CommandInput, CommandList
from textual.system_commands import SystemCommandsProvider

from nextmv_tui.tui.screens.palette import SafeCommandPalette
from tests.tui.conftest import palette_hit, wait_until
from tests.tui.helpers import app_for
from tests.tui.monkey import send_burst

pytestmark = pytest.mark.full_frame_rate
"""The races are between keys and frames: frames at Textual's own rate, as in a terminal."""

SIZE = (120, 40)


async def open_palette(app, pilot, text: str) -> SafeCommandPalette:
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, SafeCommandPalette), 10)
    palette = app.screen
    palette.query_one(CommandInput).value = text
    await wait_until(pilot, lambda: palette_hit(app) == text, 10)
    return palette


async def test_an_enter_queued_before_the_palette_closed_is_dropped(inprocess_service):
    app = app_for(inprocess_service)
    async with app.run_test(size=SIZE) as pilot:
        palette = await open_palette(app, pilot, "Refresh now")
        field = palette.query_one(CommandInput)
        # Two enters reach the input before the first has closed the palette.
        send_burst(app, ["enter", "enter"])
        await wait_until(pilot, lambda: app.screen is app.main and not palette.is_attached, 10)
        await pilot.pause()
        field.post_message(field.Submitted(field, field.value))  # and one more, late
        await pilot.pause()
        assert app._exception is None
        assert app.is_running and app.screen_stack == [app.main]


async def test_search_results_after_the_palette_closed_are_dropped(inprocess_service):
    app = app_for(inprocess_service)
    async with app.run_test(size=SIZE) as pilot:
        palette = await open_palette(app, pilot, "Sort runs")
        hits = palette.query_one(CommandList)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not palette.is_attached, 10)
        # What the search worker does when it finishes after the close:
        palette._refresh_command_list(hits, [], True)
        palette._show_busy = True
        palette._start_no_matches_countdown("zz")
        await pilot.pause()
        assert app._exception is None and app.is_running


async def test_a_search_started_after_the_palette_closed_ends_quietly(inprocess_service):
    app = app_for(inprocess_service)
    async with app.run_test(size=SIZE) as pilot:
        palette = await open_palette(app, pilot, "Sort runs")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not palette.is_attached, 10)
        worker = palette._gather_commands("so")  # e.g. from a mount or a late keystroke
        await wait_until(pilot, lambda: worker.is_finished, 10)
        await pilot.pause()
        assert app._exception is None and app.is_running


async def test_ctrl_p_and_the_theme_picker_open_the_hardened_palette(inprocess_service):
    app = app_for(inprocess_service)
    async with app.run_test(size=SIZE) as pilot:
        before = app.theme
        first = await open_palette(app, pilot, "Theme")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SafeCommandPalette)
                         and app.screen is not first, 10, message="the theme picker")
        target = next(name for name in sorted(app.available_themes) if name != before)
        app.screen.query_one(CommandInput).value = target
        await wait_until(pilot, lambda: palette_hit(app) == target, 10)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.theme == target and app.screen is app.main, 10)


async def test_page_keys_before_the_command_list_is_laid_out_are_ignored(inprocess_service):
    app = app_for(inprocess_service)
    async with app.run_test(size=SIZE) as pilot:
        palette = await open_palette(app, pilot, "Sort runs")
        hits = palette.query_one(CommandList)
        hits._line_cache.clear()  # the state before its lines are built: no index -> line
        hits._update_lines = lambda: None  # and keep it so, as before the first layout
        palette._action_command_list("page_up")
        palette._action_command_list("page_down")
        await pilot.pause()
        assert app._exception is None and app.is_running


async def test_a_palette_opened_while_the_last_one_is_removed_opens(inprocess_service):
    app = app_for(inprocess_service)
    async with app.run_test(size=SIZE) as pilot:
        first = await open_palette(app, pilot, "Sort runs")
        app.pop_screen()  # closed; its widgets are removed later, in the next ticks
        app.action_command_palette()
        await wait_until(pilot, lambda: isinstance(app.screen, SafeCommandPalette)
                         and app.screen is not first, 10)
        await pilot.pause()
        assert app._exception is None and app.is_running


async def test_an_enter_typed_before_the_search_answers_runs_the_typed_command(
    inprocess_service, monkeypatch
):
    """A command name typed and entered faster than the palette searches ran the hit the
    list still showed from an earlier search: the monkey's burst ``ctrl+p`` ``reverse sort``
    ``enter`` quit the monitor (seed 163383716, under load). The search of the typed text is
    held here until the enter has arrived, so the race is certain; the enter must wait for
    it and run "Reverse sort", nothing before."""
    gate, asked = asyncio.Event(), asyncio.Event()
    search = SystemCommandsProvider.search

    async def held(self, query: str):
        if query == "reverse sort":
            asked.set()
            await gate.wait()
        async for hit in search(self, query):
            yield hit

    monkeypatch.setattr(SystemCommandsProvider, "search", held)
    app = app_for(inprocess_service)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, SafeCommandPalette), 10)
        palette = app.screen
        await wait_until(pilot, lambda: palette.query_one(CommandList).option_count > 0, 10,
                         message="the palette's list of every command")
        reverse_before = app.main.table.sort_reverse
        send_burst(app, [*"reverse sort", "enter"])
        await wait_until(pilot, asked.is_set, 10, message="the search of the typed text")
        for _ in range(3):  # the enter, queued behind the text, is handled meanwhile
            await pilot.pause()
        assert app.is_running and app.screen is palette, "nothing ran before the search"
        assert app.main.table.sort_reverse == reverse_before
        gate.set()
        await wait_until(pilot, lambda: not palette.is_attached, 10, message="the palette closed")
        await wait_until(pilot, lambda: app.main.table.sort_reverse != reverse_before, 10,
                         message="the sort reversed")
        assert app.is_running and app._exception is None
