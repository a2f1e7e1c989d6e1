"""Switching profiles without a restart, and screenshots that say where they went.

Two REAL local services (in-process) stand for two accounts; a small transport routes each
endpoint's host to its service (the monitor's client takes one transport for every
endpoint). The profiles live in a temporary ``~/.nextmv/config.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from textual.widgets import OptionList

from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.tui.app import make_app
from nextmv_tui.tui.screens.profiles import ProfileScreen
from nextmv_tui.tui.settings import Settings
from tests.conftest import InProcessService
from tests.tui.conftest import wait_until
from tests.tui.fixed_app import fixed_app, settled
from tests.tui.helpers import SlowQueue, client_for, knapsack_request

SIZE = (120, 36)


class ByHost(httpx.AsyncBaseTransport):
    """Routes ``http://a.test`` and ``http://b.test`` to two in-process services."""

    def __init__(self, routes: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.routes = routes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.routes[request.url.host].handle_async_request(request)


def header(app) -> str:
    return app.main.header_line.render().plain


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def said_by(app, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every toast the app shows, kept: a toast on screen expires (5 s), and a loaded
    machine can take longer than that to reach the assertion."""
    said: list[str] = []
    notify = app.notify

    def record(message, *args, **kwargs):
        said.append(str(message))
        return notify(message, *args, **kwargs)

    monkeypatch.setattr(app, "notify", record)
    return said


async def test_switching_profile_reconnects_without_a_restart(
    make_inprocess_service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    a: InProcessService = await make_inprocess_service(concurrency=0)
    b: InProcessService = await make_inprocess_service(concurrency=0)
    (tmp_path / ".nextmv").mkdir()
    (tmp_path / ".nextmv" / "config.yaml").write_text(
        f"apikey: {a.api_key}\nendpoint: http://a.test\n"
        f"other:\n  apikey: {b.api_key}\n  endpoint: http://b.test\n"
    )
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NEXTMV_API_KEY", "sk-from-the-environment")  # not used by a pick
    async with client_for(a) as ca, client_for(b) as cb:
        run_a = await ca.create_run("knapsack", knapsack_request(name="on a"))
        run_b = await cb.create_run("knapsack", knapsack_request(name="on b"))
    slow_a = SlowQueue(a.transport)
    config = ClientConfig(endpoint="http://a.test", api_key=a.api_key, source="flag")
    app = make_app(Settings(config=config, refresh=0.5, max_backoff=2.0,
                            transport=ByHost({"a.test": slow_a, "b.test": b.transport})))
    said = said_by(app, monkeypatch)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.main.table.has_run(run_a), 15)
        assert "http://a.test" in header(app)
        slow_a.hold = True  # a poll of the old endpoint is in flight during the switch
        await wait_until(pilot, lambda: slow_a.waiting > 0, 10)
        await pilot.press("P")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfileScreen), 5)
        listing = str(app.screen.query_one(OptionList).get_option_at_index(2).prompt)
        assert "other" in listing and "http://b.test" in listing
        assert all(key not in str(opt.prompt) for opt in app.screen.query_one(OptionList).options
                   for key in (a.api_key, b.api_key))
        await pilot.press("down", "down", "enter")
        await wait_until(pilot, lambda: app.screen is app.main, 5)
        await wait_until(pilot, lambda: app.main.table.has_run(run_b), 15)
        assert "http://b.test" in header(app) and "profile other" in header(app)
        assert app.settings.config.api_key == b.api_key
        slow_a.let_go()
        polls = app.queue.polls_completed
        await wait_until(pilot, lambda: app.queue.polls_completed >= polls + 2, 10)
        assert run_a not in app.store, "the old endpoint's late answer was dropped"
        assert any("Now watching http://b.test" in t for t in said)
        # and back to the connection it was started with
        await pilot.press("P")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfileScreen), 5)
        await pilot.press("enter")  # "started with" is listed first
        await wait_until(pilot, lambda: app.main.table.has_run(run_a), 15)
        assert run_b not in app.store and "http://a.test" in header(app)


async def test_screenshots_go_to_the_chosen_folder_and_never_hold_the_key(tmp_path: Path):
    secret = "sk-SECRET-4b1d"
    app = fixed_app(screenshot_dir=tmp_path / "shots")
    app.settings.config = ClientConfig(
        endpoint=f"https://ana:{secret}@api.cloud.nextmv.io", api_key=secret,
        profile="production", source="~/.nextmv/config.yaml",
    )
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settled(pilot, app, "run-8p0a2s4d")
        assert secret not in header(app) and "https://api.cloud.nextmv.io" in header(app)
        saved = app.deliver_screenshot()
        assert saved is not None
        path = Path(saved)
        assert path.parent == tmp_path / "shots" and path.suffix == ".svg"
        await wait_until(pilot, lambda: any(f"Saved to {path.resolve()}" in t
                                            for t in toasts(app)), 5)
        svg = path.read_text()
        assert "run-8p0a2s4d" in svg and secret not in svg and "ana:" not in svg
        (tmp_path / "blocked").write_text("a file, not a folder")
        app.settings.screenshot_dir = tmp_path / "blocked" / "shots"
        assert app.deliver_screenshot() is None
        await wait_until(pilot, lambda: any("Screenshot not saved: cannot write" in t
                                            for t in toasts(app)), 5)
