"""The session's connection and its pictures: switch profiles live, save screenshots.

A mixin of the app (one concept per module).

Switching profiles (``P``, a picker over ``~/.nextmv/config.yaml`` that never shows keys)
reconnects without a restart: in-flight requests are dropped, a new client is made for the
new endpoint, the queue poller starts afresh (its connection state, backoff and data age
belong to the old endpoint), and the header shows the new endpoint and profile. The runs
listed are cleared, whatever the endpoint: another key may be another account, and runs of
one account must never be shown (or canceled) under the name of another. Answers to polls
started before the switch are dropped (``RunStore.is_current``).

Screenshots (the palette's *Screenshot*) go to ``--screenshot-dir`` (default: the folder the
monitor was started in) and the toast says where, or why not. The header shows no key
(and no ``user:password@`` of an endpoint), so no screenshot can hold one.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App

from nextmv_tui.cloud.config import ClientConfig, profile_config
from nextmv_tui.cloud.errors import NextmvError
from nextmv_tui.tui.format import display_endpoint
from nextmv_tui.tui.poller import Poller
from nextmv_tui.tui.state import Change, RunStore
from nextmv_tui.tui.timers import PollTimer

if TYPE_CHECKING:
    from nextmv_tui.cloud.client import NextmvClient
    from nextmv_tui.cloud.queue_reader import QueueReader
    from nextmv_tui.tui.history_link import HistoryLink
    from nextmv_tui.tui.screens.main import MainScreen
    from nextmv_tui.tui.screens.profiles import ProfileChoice
    from nextmv_tui.tui.settings import Settings

WORKER_GROUPS = ("queue", "final", "history")


class SessionMixin(App[int]):
    """Profile switching and screenshots of ``NextmvTuiApp``."""

    settings: Settings
    main: MainScreen
    store: RunStore
    queue_reader: QueueReader
    queue: Poller
    _client: NextmvClient | None
    _queue_timer: PollTimer
    _first_config: ClientConfig
    history: HistoryLink

    def _new_queue_poller(self) -> Poller:
        raise NotImplementedError

    def _start_poll(self) -> None:
        raise NotImplementedError

    # --- profiles ---------------------------------------------------------------------------

    def action_profile(self) -> None:
        from nextmv_tui.tui.screens.profiles import ProfileScreen

        self.push_screen(
            ProfileScreen(self._first_config, self.settings.config), self._profile_chosen
        )

    def _profile_chosen(self, choice: ProfileChoice | None) -> None:
        if choice is None:
            return
        if choice.config is not None:
            config = choice.config
        else:
            try:
                config = profile_config(choice.name)
            except NextmvError as error:
                self.main.say(str(error), title="Profile not switched", severity="error",
                              timeout=10)
                return
        self.switch_config(config)

    def switch_config(self, config: ClientConfig) -> None:
        """Reconnect to ``config`` now: new client, empty list, polling from scratch."""
        for group in WORKER_GROUPS:
            self.workers.cancel_group(self, group)
        self._queue_timer.cancel()
        old, self._client = self._client, None
        old_history = self.history.detach()
        for client in (old, old_history):
            if client is not None:
                self.run_worker(client.aclose(), group="close", exit_on_error=False)
        self.settings.config = config
        self.settings.prefetch = None
        self.settings.demo = False
        self.store.reset()
        self.queue_reader.reset()
        self.queue = self._new_queue_poller()
        self._queue_timer = PollTimer(self, self.queue, self._start_poll, "queue poll")
        self.main.reconnected(self.queue)
        self.main.apply_change(Change())
        self._queue_timer.apply(self.queue.start())
        where = display_endpoint(config.endpoint)
        self.main.say(f"Now watching {where} (profile {self.settings.profile}).",
                      title="Profile switched", timeout=5)

    # --- screenshots ------------------------------------------------------------------------

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Save an SVG of the screen in the screenshot folder; the toast says where."""
        folder = Path(path or self.settings.screenshot_dir or Path.cwd()).expanduser()
        stamp = datetime.now().strftime("%Y-%m-%dT%H-%M-%S")
        name = filename or f"nextmv-tui-{stamp}.svg"
        target = folder / name
        partial = target.with_name(f".{target.name}.part")
        try:
            svg = self.export_screenshot()
            folder.mkdir(parents=True, exist_ok=True)
            partial.write_text(svg, encoding="utf-8")
            partial.replace(target)
        except OSError as error:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            reason = error.strerror or type(error).__name__
            self.notify(f"Screenshot not saved: cannot write {target}: {reason}",
                        title="Screenshot", severity="error", timeout=10, markup=False)
            return None
        self.notify(f"Saved to {target.resolve()}", title="Screenshot", timeout=8,
                    markup=False)
        return str(target)
