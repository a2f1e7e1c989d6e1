"""The run actions of the main screen: submit, cancel, copy, save output, mark.

A mixin of ``MainScreen`` (kept apart so each file holds one concept; clone and jump are in
``screens/find_actions.py``). Whether an action can act is decided in one place:
``why_not`` checks the action table's ``needs`` (``tui/availability.py``); ``check_action``
turns the answer into shown/dimmed/hidden keys, and the app shows the reason when a refused
key is pressed. Destructive and slow actions capture the run IDs when they start and act on
them later, whatever the selection does meanwhile. Cancel, copy and save act on the runs
picked with space, else on the selected run. Workers post messages and the handlers here
apply them. Every toast is plain text (``markup=False``) built from sanitized data.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual import on, work

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.tui import actions, availability
from nextmv_tui.tui.format import clean
from nextmv_tui.tui.messages import BulkFinished, CancelFinished, OutputSaved
from nextmv_tui.tui.screens.find_actions import FindActions
from nextmv_tui.tui.state import Change, RunRow

if TYPE_CHECKING:
    from nextmv_tui.tui.choices import Choices
    from nextmv_tui.tui.forms import SubmitForm, SubmittedRun

Severity = Literal["information", "warning", "error"]
BULK_CONCURRENCY = 4
"""Requests in flight at once for a bulk cancel or save."""
FAILURES_LISTED = 8


class RunActions(FindActions):
    """Actions on the selected or picked runs (``action_<id>``, scope main)."""

    DYNAMIC_ACTIONS = ("cancel_run", "copy_run_id", "save_output", "mark", "pick", "clone")
    """Actions whose availability depends on the selected or picked runs."""

    form: SubmitForm | None = None
    """What the next submit starts from (the last submit's application, options...)."""
    _choices: Choices | None = None

    @property
    def choices(self) -> Choices:
        """Applications, instances, classes and options offered when submitting."""
        if self._choices is None:
            from nextmv_tui.tui.choices import Choices  # pydantic's catalog: on first use

            self._choices = Choices(self.get_client)
        return self._choices

    # --- availability: one place for every key --------------------------------------------

    def availability(self) -> availability.Context:
        return availability.Context(
            read_only=self.settings.read_only, selected=self.selected_row(),
            picked=self.store.picked(), has_rows=len(self.store) > 0,
        )

    def why_not(self, action: str) -> str | None:
        """Why ``action`` cannot act now (None: it can). Only main-screen actions have needs."""
        spec = actions.BY_ID.get(action)
        if spec is None or not spec.needs:
            return None
        return availability.why_not(action, spec.needs, self.availability())

    @staticmethod
    def hidden(reason: str | None) -> bool:
        return availability.is_hidden(reason)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        reason = self.why_not(action)
        if reason is None:
            return True
        return False if availability.is_hidden(reason) else None

    def _targets(self) -> list[RunRow]:
        return self.availability().targets

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

        if self.why_not("submit"):
            return
        row = self.selected_row()
        default_app = self.settings.app_id or (row.app_id if row else "")
        form = self.form or SubmitForm(app_id=default_app)
        if not form.app_id and default_app:
            form.app_id = default_app
        self.open_submit(form)

    def open_submit(self, form: SubmitForm, on_close: object = None) -> None:
        """The submit dialog for ``form``, offering what the session knows."""
        from nextmv_tui.tui.screens.submit import SubmitScreen

        rows = self.store.rows.values()
        known_apps = sorted({row.app_id for row in rows if row.app_id})
        known_classes = sorted({row.execution_class for row in rows if row.execution_class})
        screen = SubmitScreen(self.get_client(), form, choices=self.choices,
                              known_apps=known_apps, known_classes=known_classes)

        def closed(result: SubmittedRun | None) -> None:
            if callable(on_close):
                on_close()
            self.submitted(result)

        self.app.push_screen(screen, closed)

    def submitted(self, result: SubmittedRun | None) -> None:
        if result is None:
            return
        self.form = result.form.for_next_run()
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

        if self.why_not("cancel_run"):
            return
        targets = self._targets()
        active = [(r.run_id, r.app_id, r.name) for r in targets if r.is_active]
        skipped = len(targets) - len(active)
        bulk = len(targets) > 1  # captured now, acted on later

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._cancel([(run_id, app_id) for run_id, app_id, _ in active], bulk)

        first, *others = active
        self.app.push_screen(
            ConfirmCancelScreen(*first, others=others, skipped=skipped), confirmed
        )

    @work(group="cancel", exit_on_error=False, name="cancel")
    async def _cancel(self, runs: list[tuple[str, str]], bulk: bool) -> None:
        gate = asyncio.Semaphore(BULK_CONCURRENCY)

        async def one(run_id: str, app_id: str) -> tuple[str, str]:
            async with gate:
                try:
                    await self.get_client().cancel_run(app_id, run_id)
                except Exception as exc:
                    self.post_message(CancelFinished(run_id, app_id, False, str(exc), bulk))
                    return run_id, str(exc)
            self.post_message(
                CancelFinished(run_id, app_id, True, f"Run {run_id} canceled.", bulk)
            )
            return run_id, ""

        results = await asyncio.gather(*(one(run_id, app_id) for run_id, app_id in runs))
        if bulk:
            self.post_message(BulkFinished(
                "cancel", [r for r, error in results if not error],
                [(r, error) for r, error in results if error],
            ))

    @on(CancelFinished)
    def _cancel_finished(self, message: CancelFinished) -> None:
        if message.ok:
            self.apply_change(self.store.set_canceled(message.run_id, self.settings.clock()))
            if not message.bulk:
                self.say(message.message, title="Canceled")
            if self.store.selected == message.run_id:
                self.detail.follow(self.store.get(message.run_id))
        elif not message.bulk:
            self.say(message.message, title="Cancel refused", severity="error", timeout=8)
            self.poll_now()

    @on(BulkFinished)
    def _bulk_finished(self, message: BulkFinished) -> None:
        """One toast for a bulk action: how many worked, and why each other one did not."""
        total = len(message.done) + len(message.failed)
        verb = {"cancel": "Canceled", "save": "Saved the output of"}[message.action]
        lines = [f"{verb} {len(message.done)} of {total} runs{message.where}."]
        for run_id, error in message.failed[:FAILURES_LISTED]:
            lines.append(f"✘ {run_id}: {error}")
        if len(message.failed) > FAILURES_LISTED:
            lines.append(f"… and {len(message.failed) - FAILURES_LISTED} more")
        severity: Severity = "error" if message.failed else "information"
        self.say("\n".join(lines), title="Partly done" if message.failed else "Done",
                 severity=severity, timeout=12 if message.failed else 6)
        if message.action == "cancel":
            self.apply_change(Change(changed=self.store.clear_picks()))
            if message.failed:
                self.poll_now()

    # --- copy, save, mark -------------------------------------------------------------------

    def action_copy_run_id(self) -> None:
        targets = self._targets()
        if not targets:
            return
        ids = [row.run_id for row in targets]
        self.app.copy_to_clipboard("\n".join(ids))
        if len(ids) == 1:
            self.say(ids[0], timeout=8,
                     title="Run ID copied (OSC 52; select it here if your terminal cannot)")
        else:
            shown = "\n".join(ids[:FAILURES_LISTED]) + ("\n…" if len(ids) > FAILURES_LISTED else "")
            self.say(shown, timeout=8, title=f"{len(ids)} run IDs copied (one per line)")

    def action_save_output(self) -> None:
        from nextmv_tui.tui.screens.save_output import SaveOutputScreen

        if self.why_not("save_output"):
            return
        ready = [r for r in self._targets() if r.status == RunStatus.SUCCEEDED and not r.gone]
        if len(self._targets()) > 1:
            runs = [(r.run_id, r.app_id) for r in ready]
            skipped = len(self._targets()) - len(ready)

            def chosen_dir(path: Path | None) -> None:
                if path is not None:
                    self._save_many(runs, path, skipped)

            self.app.push_screen(SaveOutputScreen(Path.cwd(), count=len(runs)), chosen_dir)
            return
        row = ready[0]
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

    @work(group="save", exit_on_error=False, name="save outputs")
    async def _save_many(self, runs: list[tuple[str, str]], folder: Path, skipped: int) -> None:
        """Each output into ``folder`` as ``<run>-output.json`` (or ``.tar.gz``)."""
        gate = asyncio.Semaphore(BULK_CONCURRENCY)

        async def one(run_id: str, app_id: str) -> tuple[str, str]:
            async with gate:
                try:
                    await self.get_client().save_output(app_id, run_id, folder)
                except Exception as exc:
                    return run_id, str(exc)
            return run_id, ""

        results = await asyncio.gather(*(one(run_id, app_id) for run_id, app_id in runs))
        without = "1 picked run has" if skipped == 1 else f"{skipped} picked runs have"
        note = f" to {folder}" + (f" ({without} no output)" if skipped else "")
        self.post_message(BulkFinished(
            "save", [r for r, error in results if not error],
            [(r, error) for r, error in results if error], note,
        ))

    @on(OutputSaved)
    def _output_saved(self, message: OutputSaved) -> None:
        if message.path is not None:
            self.say(f"Output of {message.run_id} saved to {message.path}.", timeout=6)
        else:
            self.say(f"Output of {message.run_id} not saved: {message.error}",
                     severity="error", timeout=8)

    def action_mark(self) -> None:
        row = self.selected_row()
        if row is None or self.why_not("mark"):
            return
        marked = self.store.toggle_mark(row.run_id)
        self.apply_change(Change(changed=[row.run_id]))
        if marked:
            self.say(f"Marked {row.run_id}: you will be told when it finishes.", timeout=3)
        else:
            self.say(f"Unmarked {clean(row.run_id)}.", timeout=2)
