"""Shared helpers for the TUI tests (used by both monitor and modal-screen tests).

``wait_until`` replaces fixed sleeps: it lets Textual process messages (``pilot.pause()``)
until a condition holds or a deadline passes, so tests are as fast as the app allows and
fail with a clear message instead of hanging.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.retry import NO_RETRY

Predicate = Callable[[], "bool | Awaitable[bool]"]


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
    deadline = time.monotonic() + timeout
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
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{detail}")
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


@pytest.fixture
async def dead_client() -> AsyncIterator[NextmvClient]:
    """A client pointed at a loopback port where nothing listens: a check that happens
    before sending shows its own message, a request shows this connection error."""
    config = ClientConfig(endpoint="http://127.0.0.1:9", api_key="not-a-real-key")
    client = NextmvClient(config, timeout=2.0, retry=NO_RETRY)
    yield client
    await client.aclose()
