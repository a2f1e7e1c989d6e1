"""The run actions of the main screen: submit, cancel, copy, save output, mark, jump.

A mixin of ``MainScreen`` (kept apart so each file holds one concept). Destructive and
slow actions capture the run ID when they start and act on it later, whatever the
selection does meanwhile; workers post messages and the handlers here apply them. Every
toast is plain text (``markup=False``) built from sanitized data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual import on, work
from textual.screen import Screen

from nextmv_tui.cloud.errors import NotFoundError
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui.format import clean
from nextmv_tui.tui.messages import CancelFinished, JumpFound, JumpMissed, OutputSaved
from nextmv_tui.tui.state import Change, RunRow, RunStore

if TYPE_CHECKING:
    from nextmv_tui.cloud.client import NextmvClient
    from nextmv_tui.tui.forms import SubmitForm, SubmittedRun
    from nextmv_tui.tui.settings import Settings
    from nextmv_tui.tui.widgets.run_detail import RunDetail

Severity = Literal["information", "warning", "error"]
JUMP_APPS_TRIED = 10


class RunActions(Screen[None]):
    """Actions on the selected run (``action_<id>`` of ``tui/actions.py``, scope main)."""

    DYNAMIC_ACTIONS = ("cancel_run", "copy_run_id", "save_output", "mark")
    """Actions whose availability depends on the selected run (see check_action)."""

    settings: Settings
    store: RunStore
    get_client: Callable[[], NextmvClient]
    poll_now: Callable[[], None]
    detail: RunDetail
    form: SubmitForm | None = None
    """The last submitted form: the next submit starts from it."""

    def apply_change(
        self, change: Change, *, force_sort: bool = False, select: str | None = None
    ) -> None:
        raise NotImplementedError

    def select_run(self, run_id: str) -> bool:
        raise NotImplementedError

    def say(self, message: str, *, title: str = "", severity: Severity = "information",
            timeout: float = 5) -> None:
        """A toast of untrusted text: sanitized, never read as markup."""
        self.notify(clean(message, multiline=True), title=clean(title), severity=severity,
                    timeout=timeout, markup=False)

    def selected_row(self) -> RunRow | None:
        return self.store.get(self.store.selected)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        read_only = self.settings.read_only
        row = self.selected_row()
        if action == "submit":
            return not read_only
        if action == "cancel_run":
            return False if read_only else (True if row is not None and row.is_active else None)
        if action in ("copy_run_id", "mark"):
            return True if row is not None else None
        if action == "save_output":
            return True if row is not None and row.status == RunStatus.SUCCEEDED else None
        return True

    def notify_finished(self, run_id: str) -> None:
        row = self.store.get(run_id)
        if row is None or not (row.marked or row.submitted):
            return
        label = row.run_id + (f" ({row.name})" if row.name else "")
        word = row.status_word
        severities: dict[str, Severity] = {"succeeded": "information", "failed": "error"}
        severity = severities.get(word, "warning")
        message = f"Run {label} {word}." + (f"\n{row.error}" if row.error else "")
        self.say(message, title="Run finished", severity=severity, timeout=8)
        if self.settings.bell:
            self.app.bell()

    # --- submit -----------------------------------------------------------------------------

    def action_submit(self) -> None:
        from nextmv_tui.tui.forms import SubmitForm
        from nextmv_tui.tui.screens.submit import SubmitScreen

        if self.settings.read_only:
            return
        row = self.selected_row()
        default_app = self.settings.app_id or (row.app_id if row else "")
        form = self.form or SubmitForm(app_id=default_app)
        if not form.app_id and default_app:
            form.app_id = default_app
        self.app.push_screen(SubmitScreen(self.get_client(), form), self.submitted)

    def submitted(self, result: SubmittedRun | None) -> None:
        if result is None:
            return
        self.form = result.form
        change = self.store.add_submitted(
            result.run_id, result.app_id, result.name, self.settings.clock(),
            instance_id=result.form.instance_id,
        )
        self.apply_change(change)
        self.select_run(result.run_id)
        self.say(f"Submitted run {result.run_id}.", title="Run submitted")

    # --- cancel -----------------------------------------------------------------------------

    def action_cancel_run(self) -> None:
        from nextmv_tui.tui.screens.confirm_cancel import ConfirmCancelScreen

        row = self.selected_row()
        if row is None or not row.is_active or self.settings.read_only:
            return
        run_id, app_id = row.run_id, row.app_id  # captured now, acted on later

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._cancel(run_id, app_id)

        self.app.push_screen(ConfirmCancelScreen(run_id, app_id, row.name), confirmed)

    @work(group="cancel", exit_on_error=False, name="cancel")
    async def _cancel(self, run_id: str, app_id: str) -> None:
        try:
            await self.get_client().cancel_run(app_id, run_id)
        except Exception as exc:
            self.post_message(CancelFinished(run_id, app_id, False, str(exc)))
            return
        self.post_message(CancelFinished(run_id, app_id, True, f"Run {run_id} canceled."))

    @on(CancelFinished)
    def _cancel_finished(self, message: CancelFinished) -> None:
        if message.ok:
            self.apply_change(self.store.set_canceled(message.run_id, self.settings.clock()))
            self.say(message.message, title="Canceled")
            if self.store.selected == message.run_id:
                self.detail.follow(self.store.get(message.run_id))
        else:
            self.say(message.message, title="Cancel refused", severity="error", timeout=8)
            self.poll_now()

    # --- copy, save, mark -------------------------------------------------------------------

    def action_copy_run_id(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.app.copy_to_clipboard(row.run_id)
        self.say(row.run_id, timeout=8,
                 title="Run ID copied (OSC 52; select it here if your terminal cannot)")

    def action_save_output(self) -> None:
        from nextmv_tui.tui.screens.save_output import SaveOutputScreen

        row = self.selected_row()
        if row is None or row.status != RunStatus.SUCCEEDED:
            return
        info = self.detail.info if self.detail.run_id == row.run_id else None
        json_output = info is None or info.metadata.format.output.type == "json"
        default = Path.cwd() / f"{row.run_id}-output{'.json' if json_output else '.tar.gz'}"
        run_id, app_id = row.run_id, row.app_id

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._save(run_id, app_id, path)

        self.app.push_screen(SaveOutputScreen(default), chosen)

    @work(group="save", exit_on_error=False, name="save output")
    async def _save(self, run_id: str, app_id: str, path: Path) -> None:
        try:
            written = await self.get_client().save_output(app_id, run_id, path)
        except Exception as exc:
            self.post_message(OutputSaved(run_id, None, str(exc)))
            return
        self.post_message(OutputSaved(run_id, written))

    @on(OutputSaved)
    def _output_saved(self, message: OutputSaved) -> None:
        if message.path is not None:
            self.say(f"Output of {message.run_id} saved to {message.path}.", timeout=6)
        else:
            self.say(f"Output of {message.run_id} not saved: {message.error}",
                     severity="error", timeout=8)

    def action_mark(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        if row.is_final and not row.marked:
            self.say(f"{row.run_id} has already finished ({row.status_word}).", timeout=3)
            return
        marked = self.store.toggle_mark(row.run_id)
        self.apply_change(Change(changed=[row.run_id]))
        if marked:
            self.say(f"Marked {row.run_id}: you will be told when it finishes.", timeout=3)
        else:
            self.say(f"Unmarked {row.run_id}.", timeout=2)

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
