"""The submit modal: pick or type an input, fill the run fields, upload with progress.

Nothing reaches the network before both the form and the input packaging have validated;
their messages are shown in the modal, it stays open, and focus goes back to the field at
fault with its text selected (typing replaces it). The upload can be aborted; once the
upload is complete the run is being created and abort is refused (the run may already exist).

It offers what is known (``tui/choices.py``): applications, instances and execution classes
as completions, and the chosen application's options with their types and defaults, checked
before sending. Keys typed while the dialog opens are not lost: the text fields are ready at
once (the file tree is listed after the first paint), and printable keys that reach the
screen before a field had focus are typed into the focused field.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Literal

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, ProgressBar, Static, Switch
from textual.worker import Worker, WorkerState

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.errors import ApiError, InputError, NextmvError
from nextmv_tui.cloud.models import CreateRunRequest
from nextmv_tui.cloud.packaging import PackagedInput, package_input
from nextmv_tui.cloud.units import human_bytes
from nextmv_tui.tui.choices import AppChoices, Choices
from nextmv_tui.tui.forms import SubmitForm, SubmittedRun
from nextmv_tui.tui.screens.dialog import MessageLine
from nextmv_tui.tui.screens.input_tree import InputPicker
from nextmv_tui.tui.screens.submit_choices import OffersChoices

Phase = Literal["idle", "packaging", "uploading", "creating"]

_TEXT_FIELDS = (
    ("path", "Input (file/dir)", "pick on the left or type: .json, .txt, dir, .tar.gz"),
    ("app_id", "Application ID", "e.g. knapsack"),
    ("instance_id", "Instance ID", "empty: the application's default instance"),
    ("name", "Name", "optional"),
    ("description", "Description", "optional"),
    ("options", "Options", "key=value, key=value (e.g. duration=30)"),
    ("execution_class", "Execution class", "empty: the default class"),
    ("batch_experiment_id", "Batch experiment", "optional batch experiment ID"),
)
_HINTED = {"app_id", "options", "execution_class"}
"""Fields with a hint line under them (what is known for them)."""
_ERROR_FIELDS = (
    ("input path", "path"), ("application", "app_id"), ("instance", "instance_id"),
    ("option", "options"), ("execution class", "execution_class"),
    ("execution_class", "execution_class"), ("priority", "priority"),
    ("batch", "batch_experiment_id"),
)
"""Which field an error is about, by the words it names (the input path otherwise)."""


def field_at_fault(error: BaseException) -> str:
    """The field to return to after ``error``: the one it names, else the input path."""
    subject = error.path if isinstance(error, InputError) else ""
    text = f"{subject} {error if isinstance(error, ApiError) else ''}".lower()
    for words, field in _ERROR_FIELDS:
        if words in text:
            return field
    return "path"


class UploadProgress(Message):
    """Bytes sent so far; a newer one replaces a queued older one."""

    def __init__(self, sent: int, total: int) -> None:
        super().__init__()
        self.sent = sent
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, UploadProgress)


class _PhaseChanged(Message):
    """The worker moved to another phase; the handler updates the widgets."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, _PhaseChanged)


class SubmitScreen(OffersChoices):
    """Returns the created run, or None when closed without submitting."""

    BINDINGS = [
        Binding("escape", "close", "Close / abort", show=False),
    ]
    AUTO_FOCUS = "#submit-fields Input"
    """Focus a text field the moment the screen is shown (keys typed while it opens land
    there), never the tree or a button."""

    def __init__(
        self,
        client: NextmvClient,
        defaults: SubmitForm,
        *,
        choices: Choices | None = None,
        known_apps: list[str] | None = None,
        known_classes: list[str] | None = None,
    ) -> None:
        super().__init__()
        self._client = client
        self._defaults = defaults
        self._phase: Phase = "idle"
        self._worker: Worker[SubmittedRun | NextmvError] | None = None
        self._upload_started = 0.0
        self._start_dir = self._resolve_start_dir(defaults.start_dir)
        self._choices = choices
        self._known_apps = list(known_apps or [])
        self._known_classes = list(known_classes or [])
        self._app_choices: AppChoices | None = None

    @staticmethod
    def _resolve_start_dir(text: str) -> Path:
        path = Path(text or ".").expanduser()
        try:
            return path if path.is_dir() else Path(".")
        except OSError:
            return Path(".")

    @property
    def phase(self) -> Phase:
        """``idle`` until submit; then ``packaging``, ``uploading``, ``creating``."""
        return self._phase

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        form = self._defaults
        with Vertical(id="submit-dialog", classes="dialog") as dialog:
            dialog.border_title = f"Clone {form.cloned_from}" if form.cloned_from else (
                "Submit a run"
            )
            dialog.border_subtitle = "enter submit · tab next field · esc close"
            with Horizontal(id="submit-body"):
                yield InputPicker(self._start_dir, id="submit-picker")
                with VerticalScroll(id="submit-fields"):
                    for field, label, placeholder in _TEXT_FIELDS[:7]:
                        row = self._text_row(field, label, placeholder, getattr(form, field))
                        yield row.set_class(field in _HINTED, "-hinted")
                        if field in _HINTED:
                            yield Horizontal(
                                Label("", classes="field-label"),
                                Static("", id=f"hint-{field}", classes="field-hint"),
                                classes="hint-row", id=f"hint-row-{field}",
                            )
                    yield from self._priority_row(form)
                    for field, label, placeholder in _TEXT_FIELDS[7:]:
                        yield self._text_row(field, label, placeholder, getattr(form, field))
            yield MessageLine(id="submit-message")
            with Horizontal(id="submit-progress-row"):
                yield ProgressBar(id="submit-progress", show_eta=True)
                yield Label("", id="submit-rate")
            with Horizontal(id="submit-buttons", classes="buttons"):
                yield Button("Abort upload", id="submit-abort", variant="error")
                yield Button("Close", id="submit-close")
                yield Button("Submit", id="submit-go", variant="primary")

    @staticmethod
    def _text_row(field: str, label: str, placeholder: str, value: str) -> Horizontal:
        return Horizontal(
            Label(label, classes="field-label"),
            Input(value, placeholder=placeholder, id=f"field-{field}", compact=True),
            classes="field-row",
            id=f"row-{field}",
        )

    @staticmethod
    def _priority_row(form: SubmitForm) -> ComposeResult:
        with Horizontal(classes="field-row", id="row-priority"):
            yield Label("Priority (1-9)", classes="field-label")
            yield Input(
                str(form.priority),
                id="field-priority",
                restrict=r"[1-9]?",
                max_length=1,
                compact=True,
                tooltip="1 is the highest priority, 9 the lowest",
            )
            yield Label("Queuing", id="label-queuing")
            yield Switch(form.queuing, id="field-queuing")

    def on_mount(self) -> None:
        # Start in a text field, never on a button: typed text must land somewhere. With a
        # remembered path the field's text is selected, so typing replaces it and enter
        # submits the same input again.
        needs_app = self._defaults.path and not self._defaults.app_id
        first = self.query("#field-app_id" if needs_app else "#field-path")
        if not first:
            return  # closed before it was mounted (e.g. esc typed ahead): nothing to set up
        first.first().focus()
        self.call_after_refresh(self._offer_known)

    def _offer_known(self) -> None:
        """After the first layout (hints are wrapped to their width): what the session
        knows now, then what the API lists."""
        self._offer_apps(self._known_apps)
        self._offer_classes([])
        if self._choices is not None:
            self._load_choices(self._defaults.app_id.strip())

    def on_key(self, event: events.Key) -> None:
        """A printable key that reached the screen itself, while a text field has focus, was
        typed before that field was focused (the dialog was opening): type it there."""
        focused = self.focused
        if event.is_printable and event.character and isinstance(focused, Input):
            event.stop()
            event.prevent_default()
            selection = focused.selection
            if selection.is_empty:
                focused.insert_text_at_cursor(event.character)
            else:
                focused.replace(event.character, *selection)

    # --- reading the form -----------------------------------------------------------------

    def current_form(self) -> SubmitForm:
        """The values on screen (priority falls back to the default if empty)."""
        priority_text = self._value("priority").strip()
        values = {field: self._value(field) for field, _, _ in _TEXT_FIELDS}
        return replace(
            self._defaults,
            priority=int(priority_text) if priority_text.isdigit() else self._defaults.priority,
            queuing=self.query_one("#field-queuing", Switch).value,
            **values,
        )

    # --- input picker -----------------------------------------------------------------------

    def _display_path(self, path: Path) -> str:
        """Show a picked path relative to the starting folder when it lies inside it."""
        try:
            return str(path.relative_to(self._start_dir.expanduser().resolve()))
        except ValueError:
            return str(path)

    @on(InputPicker.Picked)
    def _path_picked(self, event: InputPicker.Picked) -> None:
        event.stop()
        self.query_one("#field-path", Input).value = self._display_path(event.path)

    # --- messages in the modal --------------------------------------------------------------

    def _set_phase(self, phase: Phase) -> None:
        self._phase = phase
        self.set_class(phase != "idle", "-busy")
        self.set_class(phase == "uploading", "-uploading")
        self.query_one("#submit-body").disabled = phase != "idle"
        abort = self.query_one("#submit-abort", Button)
        abort.disabled = phase == "creating"
        if phase != "idle":
            abort.focus()

    def _back_to(self, field: str) -> None:
        """Focus ``field`` with its text selected: typing replaces what was refused."""
        widget = self.query_one(f"#field-{field}", Input)
        widget.focus()
        widget.select_all()

    # --- submit -----------------------------------------------------------------------------

    @on(Button.Pressed, "#submit-go")
    @on(Input.Submitted)
    def _submit_requested(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        """Validate the form, then package and send in a worker."""
        if self._phase != "idle":
            return
        try:
            priority_text = self._value("priority").strip()
            if not priority_text:
                raise InputError("priority", "must be from 1 to 9")
            form = self.current_form()
            specs = self._app_choices.options if self._app_choices is not None else []
            request = form.to_request(specs)
            path = form.input_path()
        except InputError as error:
            self.show_message(str(error), "error")
            self._back_to(field_at_fault(error))
            return
        self.show_message(f"Checking {form.path.strip()}…", "info")
        self._set_phase("packaging")
        self._worker = self.run_worker(
            self._submit_outcome(form, request, path),
            name="submit",
            group="submit",
            exclusive=True,
            exit_on_error=False,
        )

    async def _submit_outcome(
        self, form: SubmitForm, request: CreateRunRequest, path: Path
    ) -> SubmittedRun | NextmvError:
        """The submit, with its expected failures (bad input, the API's refusals) returned,
        not raised: the worker succeeds, and a worker that fails is a bug (the monkey's rule:
        it found a typed path that does not exist ending this worker in ERROR)."""
        try:
            return await self._submit(form, request, path)
        except NextmvError as error:
            return error

    async def _submit(
        self, form: SubmitForm, request: CreateRunRequest, path: Path
    ) -> SubmittedRun:
        package = await self._package(path)
        try:
            app_id = form.app_id.strip()
            if package.needs_upload:
                self._upload_started = time.monotonic()
                self.post_message(UploadProgress(0, package.size))
                self._phase = "uploading"
            else:
                self._phase = "creating"
            self.post_message(_PhaseChanged())
            run_id = await self._client.submit(
                app_id,
                package,
                request,
                instance_id=form.instance_id.strip() or None,
                progress=self._on_progress,
            )
        finally:
            package.cleanup()
        return SubmittedRun(run_id=run_id, app_id=app_id, name=form.name.strip(), form=form)

    @staticmethod
    async def _package(path: Path) -> PackagedInput:
        """Package off the UI thread (directories are tarred); clean up if aborted meanwhile."""
        future = asyncio.ensure_future(asyncio.to_thread(package_input, path))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(_cleanup_discarded)
            raise

    def _on_progress(self, sent: int, total: int) -> None:
        """Client callback (may run off the UI loop): record the phase, post for the UI."""
        if total and sent >= total and self._phase == "uploading":
            self._phase = "creating"
            self.post_message(_PhaseChanged())
        self.post_message(UploadProgress(sent, total))

    @on(UploadProgress)
    def _show_progress(self, event: UploadProgress) -> None:
        bar = self.query_one("#submit-progress", ProgressBar)
        bar.update(total=max(event.total, 1), progress=event.sent)
        elapsed = time.monotonic() - self._upload_started
        rate = event.sent / elapsed if elapsed > 0 and event.sent else 0.0
        text = f"{human_bytes(event.sent)} / {human_bytes(event.total)}"
        if rate:
            text += f" · {human_bytes(rate)}/s"
        self.query_one("#submit-rate", Label).update(text)

    @on(_PhaseChanged)
    def _refresh_phase(self) -> None:
        if self._phase == "idle":
            return
        self._set_phase(self._phase)
        if self._phase == "uploading":
            self.show_message("Uploading… (esc or Abort stops it; nothing is created)", "info")
        elif self._phase == "creating":
            self.show_message("Creating the run…", "info")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return
        if event.state == WorkerState.SUCCESS:
            result = event.worker.result
            self._worker = None
            if isinstance(result, SubmittedRun):
                self.dismiss(result)
            else:
                self._failed(result)
        elif event.state == WorkerState.ERROR:
            self._worker = None
            self._failed(event.worker.error)
        elif event.state == WorkerState.CANCELLED:
            self._worker = None
            self._set_phase("idle")
            self.show_message("Upload aborted: nothing was created.", "info")
            self._back_to("path")

    def _failed(self, error: BaseException | None) -> None:
        """Nothing was created: say why, and go back to the field at fault."""
        self._set_phase("idle")
        if isinstance(error, NextmvError):
            self.show_message(str(error), "error")
        else:
            self.show_message(f"Submit failed: {type(error).__name__}: {error}", "error")
        self._back_to(field_at_fault(error) if error is not None else "path")

    # --- close / abort ----------------------------------------------------------------------

    @on(Button.Pressed, "#submit-close")
    def _close_pressed(self) -> None:
        self.action_close()

    @on(Button.Pressed, "#submit-abort")
    def _abort_pressed(self) -> None:
        self.action_abort()

    def action_close(self) -> None:
        """Escape: close when idle, abort while packaging or uploading."""
        if self._phase == "idle":
            self.dismiss(None)
        else:
            self.action_abort()

    def action_abort(self) -> None:
        if self._phase in ("packaging", "uploading") and self._worker is not None:
            self._worker.cancel()
        elif self._phase == "creating":
            self.show_message(
                "The upload is complete and the run is being created: wait for it.", "info"
            )


def _cleanup_discarded(future: asyncio.Future[PackagedInput]) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().cleanup()
