"""The collector is held off during launch and released once the first rows are on screen
(``tui/collector.py``): asserted on the collector's state, no timing."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from nextmv_tui.tui import collector
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for


@pytest.fixture
def held() -> Iterator[None]:
    """Hold the collector like the command line does; undo everything afterwards."""
    assert gc.isenabled()
    collector.hold_for_launch()
    try:
        yield
    finally:
        collector.release_after_launch()
        gc.unfreeze()  # the test process's objects go back to being collected
        gc.enable()


def test_release_does_nothing_unless_held():
    assert not collector.held()
    assert collector.release_after_launch() is False
    assert gc.isenabled()


def test_hold_then_release(held):
    assert not gc.isenabled() and collector.held()
    assert collector.release_after_launch() is True
    assert gc.isenabled() and not collector.held()
    assert gc.get_freeze_count() > 0, "what the launch made is frozen"
    assert collector.release_after_launch() is False, "once"


async def test_released_after_the_first_rows(held, inprocess_service):
    app = app_for(inprocess_service)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: app.queue.polls_completed >= 1, 10)
        await wait_until(pilot, gc.isenabled, 10)
        assert not collector.held()


async def test_released_when_the_first_poll_fails(held):
    from nextmv_tui.cloud.config import ClientConfig
    from nextmv_tui.tui.app import make_app
    from nextmv_tui.tui.settings import Settings

    config = ClientConfig(endpoint="http://127.0.0.1:9", api_key="not-a-real-key")
    app = make_app(Settings(config=config, refresh=0.5, max_backoff=2.0))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: app.queue.connection != "connecting", 15)
        await wait_until(pilot, gc.isenabled, 10)
