"""Main-screen actions that fetch a run from the server: jump to a run by ID, and clone a run
into the submit dialog. The base of ``RunActions`` (one concept per file).

Clone captures the run when pressed, fetches its information and input in a worker
(``tui/clone.py``: inline JSON streamed to a file, large and multi-file inputs downloaded
through ``format=url``), then opens the submit dialog pre-filled for editing. The input lives
in a temporary folder removed when the dialog closes (and when the app exits).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual import on, work
from textual.screen import Screen

from nextmv_tui.cloud.errors import NotFoundError
from nextmv_tui.tui.format import clean
from nextmv_tui.tui.messages import CloneFailed, CloneReady, JumpFound, JumpMissed
from nextmv_tui.tui.state import Change, RunRow, RunStore

if TYPE_CHECKING:
    from nextmv_tui.cloud.client import NextmvClient
    from nextmv_tui.tui.forms import SubmitForm
    from nextmv_tui.tui.settings import Settings
    from nextmv_tui.tui.widgets.run_detail import RunDetail

Severity = Literal["information", "warning", "error"]
JUMP_APPS_TRIED = 10


class FindActions(Screen[None]):
    """Jump and clone; shared helpers of the main screen's actions."""

    settings: Settings
    store: RunStore
    get_client: Callable[[], NextmvClient]
    poll_now: Callable[[], None]
    detail: RunDetail

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clone_dirs: set[Path] = set()

    def apply_change(
        self, change: Change, *, select: str | None = None
    ) -> None:
        raise NotImplementedError

    def select_run(self, run_id: str) -> bool:
        raise NotImplementedError

    def why_not(self, action: str) -> str | None:
        raise NotImplementedError

    def open_submit(self, form: SubmitForm, on_close: object = None) -> None:
        raise NotImplementedError

    def say(self, message: str, *, title: str = "", severity: Severity = "information",
            timeout: float = 5) -> None:
        """A toast of untrusted text: sanitized, never read as markup."""
        self.notify(clean(message, multiline=True), title=clean(title), severity=severity,
                    timeout=timeout, markup=False)

    def cursor_run_id(self) -> str | None:
        """The run under the cursor (the main screen reads its table)."""
        return self.store.selected

    def selected_row(self) -> RunRow | None:
        """The run the user sees selected: under the cursor, even when keys typed in a burst
        arrive before the table's highlight messages have updated the selection."""
        return self.store.get(self.cursor_run_id())

    # --- clone ------------------------------------------------------------------------------

    def action_clone(self) -> None:
        row = self.selected_row()
        if row is None or self.why_not("clone"):
            return
        work_dir = Path(tempfile.mkdtemp(prefix="nextmv-tui-clone-"))
        self._clone_dirs.add(work_dir)
        self.say(f"Fetching the input of {row.run_id}…", timeout=3)
        self._clone(row.run_id, row.app_id, work_dir)

    @work(group="clone", exclusive=True, exit_on_error=False, name="clone")
    async def _clone(self, run_id: str, app_id: str, work_dir: Path) -> None:
        from nextmv_tui.tui.clone import clone_form

        try:
            form = await clone_form(self.get_client(), app_id, run_id, work_dir)
        except Exception as exc:
            self.post_message(CloneFailed(run_id, work_dir, str(exc)))
            return
        self.post_message(CloneReady(run_id, work_dir, form))

    @on(CloneReady)
    def _clone_ready(self, message: CloneReady) -> None:
        self.open_submit(message.form, lambda: self.drop_clone_dir(message.work_dir))

    @on(CloneFailed)
    def _clone_failed(self, message: CloneFailed) -> None:
        self.drop_clone_dir(message.work_dir)
        self.say(f"Cannot clone {message.run_id}: {message.error}", severity="error", timeout=8)

    def drop_clone_dir(self, work_dir: Path | None = None) -> None:
        """Remove a clone's temporary input (all of them when ``work_dir`` is None)."""
        dirs = self._clone_dirs
        for path in list(dirs) if work_dir is None else [work_dir]:
            shutil.rmtree(path, ignore_errors=True)
            dirs.discard(path)

    def on_unmount(self) -> None:
        self.drop_clone_dir()

    # --- jump -------------------------------------------------------------------------------

    def action_jump(self) -> None:
        from nextmv_tui.tui.screens.jump import JumpScreen

        def chosen(text: str | None) -> None:
            if not text:
                return
            app_id, _, run_id = text.rpartition("/")  # "APP/RUN_ID" names the application
            if not self.select_run(run_id):
                self._locate(run_id, app_id)

        self.app.push_screen(JumpScreen(), chosen)

    def _jump_apps(self, app_hint: str) -> list[str]:
        apps: list[str] = []
        listed = (row.app_id for row in self.store.rows.values())
        for app_id in (app_hint, self.settings.app_id or "", *listed):
            if app_id and app_id not in apps:
                apps.append(app_id)
        return apps[:JUMP_APPS_TRIED]

    @work(group="jump", exit_on_error=False, name="jump")
    async def _locate(self, run_id: str, app_hint: str = "") -> None:
        """Find a run that is not listed by trying the applications we know of."""
        apps = self._jump_apps(app_hint)
        errors: list[str] = []
        for app_id in apps:
            try:
                info = await self.get_client().run_information(app_id, run_id)
            except NotFoundError:
                continue
            except Exception as exc:
                errors.append(str(exc))
                break
            self.post_message(JumpFound(info))
            return
        reason = errors[0] if errors else (
            f"not found in {', '.join(apps) or 'any known application'}; "
            "type APP/RUN_ID to look in another application"
        )
        self.post_message(JumpMissed(run_id, reason))

    @on(JumpFound)
    def _jump_found(self, message: JumpFound) -> None:
        self.apply_change(self.store.apply_info(message.info, self.settings.clock()))
        self.select_run(message.info.id)

    @on(JumpMissed)
    def _jump_missed(self, message: JumpMissed) -> None:
        self.say(f"Run {message.run_id}: {message.reason}", severity="warning", timeout=6)
