"""Workarounds for Textual bugs (``tui/textual_fixes.py``): each one still needed and working."""

from __future__ import annotations

import asyncio
import gc
import threading

from textual.app import App, ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual.widgets import Label

from nextmv_tui.tui import textual_fixes
from tests.tui.conftest import wait_until


class _Cards(App[None]):
    CSS = "Label { background: $panel; border: round $accent; }"

    def compose(self) -> ComposeResult:
        yield Vertical(id="cards")


def _caches_alive(ids: set[int]) -> int:
    """How many of these ``StylesCache``s still exist (by id and type: a freed one's address
    may be reused, though not by another ``StylesCache`` while no app runs)."""
    from textual._styles_cache import StylesCache

    gc.collect()
    return sum(1 for obj in gc.get_objects() if id(obj) in ids and type(obj) is StylesCache)


def test_an_ended_apps_styles_caches_are_freed():
    """Textualize/textual#6665: without the fix, the labels' ``StylesCache``s (and every
    line they rendered) stay referenced by ``get_inner_outer``'s cache after the widgets,
    here the whole app, are gone. The app runs on its own thread and event loop, so
    nothing of the test's (its task's context names the active app) keeps it alive."""
    assert textual_fixes.apply()
    ids: set[int] = set()

    async def show_cards() -> None:
        app = _Cards()
        async with app.run_test(size=(60, 60)) as pilot:
            labels = [Label(f"card {i}") for i in range(40)]
            await app.query_one("#cards").mount_all(labels)
            await wait_until(pilot, lambda: all(label.region.height for label in labels))
            await pilot.pause()
            ids.update(id(label._styles_cache) for label in labels)

    runner = threading.Thread(target=asyncio.run, args=(show_cards(),))
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive() and len(ids) == 40
    assert _caches_alive(ids) == 0


def test_the_fix_gives_textuals_colours():
    from textual._styles_cache import StylesCache

    textual_fixes.apply()
    base, background = Color(10, 20, 30), Color(200, 100, 50, 0.5)
    inner, outer = StylesCache().get_inner_outer(base, background)
    assert inner.background == base + background and outer.background == base
