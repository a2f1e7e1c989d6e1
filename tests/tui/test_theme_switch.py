"""Switching themes with runs listed (issue 8 §2).

The crash was ``DuplicateKey`` from ``QueueTable.add_row``: the table forgot which rows it
showed on a theme change, so the next refresh re-added every row. Now a theme change only
marks rows for restyling and the main screen runs the same keyed ``sync`` as a refresh.
"""

from __future__ import annotations

import pytest
from textual.command import CommandInput, CommandPalette

from tests.tui.conftest import palette_hit, wait_until
from tests.tui.helpers import app_for, client_for, knapsack_request

THEMES = ["nord", "gruvbox", "textual-light", "dracula", "textual-dark"]


@pytest.mark.slow
async def test_switching_themes_with_runs_listed_keeps_the_app_and_every_row(
    make_inprocess_service,
):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        ids = [await client.create_run("knapsack", knapsack_request(name=f"run {i}"))
               for i in range(6)]
        app = app_for(service)
        async with app.run_test(size=(160, 45)) as pilot:
            table = app.main.table
            await wait_until(pilot, lambda: all(table.has_run(r) for r in ids), 15)
            app.main.select_run(ids[2])
            for theme in THEMES:
                app.theme = theme
                polls = app.queue.polls_completed
                await wait_until(pilot, lambda polls=polls: app.queue.polls_completed > polls + 1,
                                 10, message=f"polls go on after switching to {theme}")
                assert app.is_running
                assert table.row_count == 6 and all(table.has_run(r) for r in ids)
                assert table.key_at_cursor() == ids[2], "the selection stays on its run"
                colour = app.get_css_variables()["warning"]
                style = table.get_cell(ids[0], "status").style
                assert str(style.color.triplet.hex).lower() == colour.lower()[:7], theme


async def test_theme_picked_twice_through_the_palette(make_inprocess_service):
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        run_id = await client.create_run("knapsack", knapsack_request(name="listed"))
        app = app_for(service)
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_until(pilot, lambda: app.main.table.has_run(run_id), 15)
            for theme in ("nord", "gruvbox"):
                await pilot.press("ctrl+p")
                await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
                first = app.screen
                first.query_one(CommandInput).value = "theme"
                await wait_until(pilot, lambda: palette_hit(app) == "Theme")
                await pilot.press("enter")
                await wait_until(pilot, lambda first=first: isinstance(app.screen, CommandPalette)
                                 and app.screen is not first, message="the theme picker")
                app.screen.query_one(CommandInput).value = theme
                await wait_until(pilot, lambda theme=theme: palette_hit(app) == theme)
                await pilot.press("enter")
                await wait_until(pilot, lambda theme=theme: app.theme == theme
                                 and app.screen is app.main, 10)
                polls = app.queue.polls_completed
                await wait_until(pilot, lambda polls=polls: app.queue.polls_completed > polls + 1)
            assert app.is_running and app.main.table.has_run(run_id)
