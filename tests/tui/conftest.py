"""Shared helpers for the TUI tests (used by both monitor and modal-screen tests).

``wait_until`` replaces fixed sleeps: it lets Textual process messages (``pilot.pause()``)
until a condition holds or a deadline passes, so tests are as fast as the app allows and
fail with a clear message instead of hanging.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.retry import NO_RETRY

Predicate = Callable[[], "bool | Awaitable[bool]"]
DEADLINE_SCALE = float(os.environ.get("TEST_DEADLINE_SCALE", "3"))
"""Every deadline is stretched by this factor: a deadline is how long a test may wait for
something that will happen, and on a loaded 2-core machine the app can be several times
slower than alone. A passing wait returns as soon as its condition holds, so this costs
nothing; it only delays the report of a real failure."""


async def wait_until(
    pilot: Pilot[Any],
    predicate: Predicate,
    timeout: float = 10.0,
    *,
    message: str = "",
    step: float = 0.05,
) -> None:
    """Await ``pilot.pause(step)`` until ``predicate()`` is truthy; fail after ``timeout`` s.

    ``predicate`` may be sync or async. Exceptions inside it count as "not yet" (the widget
    may not be mounted yet) and the last one is reported if the deadline passes.
    """
    deadline = time.monotonic() + timeout * DEADLINE_SCALE
    last_error: BaseException | None = None
    while True:
        try:
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            last_error = None
        except Exception as exc:  # the UI may be mid-update; keep waiting
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            what = message or getattr(predicate, "__name__", "condition")
            raise AssertionError(
                f"timed out after {timeout * DEADLINE_SCALE:g}s waiting for {what}{detail}")
        await pilot.pause(step)


async def wait_for_value(
    pilot: Pilot[Any],
    getter: Callable[[], Any],
    timeout: float = 10.0,
    *,
    message: str = "",
) -> Any:
    """Like ``wait_until`` but returns the first truthy value ``getter()`` produced."""
    box: list[Any] = []

    def _check() -> bool:
        value = getter()
        if value:
            box.append(value)
            return True
        return False

    await wait_until(pilot, _check, timeout, message=message)
    return box[-1]


def palette_hit(app: Any) -> str | None:
    """The command the open command palette would run on enter (its highlighted hit)."""
    from textual.command import CommandList, CommandPalette

    if not isinstance(app.screen, CommandPalette):
        return None
    hits = app.screen.query_one(CommandList)
    if not hits.option_count:
        return None
    option = hits.get_option_at_index(hits.highlighted or 0)
    return getattr(getattr(option, "hit", None), "text", None)


async def run_from_palette(pilot: Pilot[Any], title: str, timeout: float = 10.0) -> None:
    """Open the palette, search ``title`` and run it once it is the highlighted hit (the
    search runs in a worker: enter before it answers would run another command, or none)."""
    from textual.command import CommandInput, CommandPalette

    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), timeout,
                     message="the command palette")
    app.screen.query_one(CommandInput).value = title
    await wait_until(pilot, lambda: palette_hit(app) == title, timeout,
                     message=f"{title!r} as the palette's first hit")
    await pilot.press("enter")
    await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette), timeout,
                     message="the palette to close")


@pytest.fixture
async def dead_client() -> AsyncIterator[NextmvClient]:
    """A client pointed at a loopback port where nothing listens: a check that happens
    before sending shows its own message, a request shows this connection error."""
    config = ClientConfig(endpoint="http://127.0.0.1:9", api_key="not-a-real-key")
    client = NextmvClient(config, timeout=2.0, retry=NO_RETRY)
    yield client
    await client.aclose()
