"""What the submit dialog knows and offers (a mixin of ``SubmitScreen``, one concept per
file): the applications, and for the chosen application its instances, execution classes
and options with their types and defaults (``tui/choices.py``), as completions of the text
fields and as hint lines under them. They load in a worker; whatever cannot be loaded is not
offered, the fields stay free text, and the hint says so.
"""

from __future__ import annotations

from textual import on, work
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from nextmv_tui.tui.choices import AppChoices, Choices
from nextmv_tui.tui.format import wrap_words
from nextmv_tui.tui.forms import SubmittedRun
from nextmv_tui.tui.screens.dialog import DialogScreen

HINT_LINES = 3


class OffersChoices(DialogScreen[SubmittedRun | None]):
    """Hints and completions of the submit dialog's application, instance, class and
    options fields; ``_app_choices`` holds the chosen application's (option types)."""

    _choices: Choices | None
    _known_apps: list[str]
    _known_classes: list[str]
    _app_choices: AppChoices | None

    def _value(self, field: str) -> str:
        return self.query_one(f"#field-{field}", Input).value

    @work(group="choices", exclusive=True, exit_on_error=False, name="submit choices")
    async def _load_choices(self, app_id: str) -> None:
        choices = self._choices
        if choices is None:
            return
        apps = await choices.load_apps()
        if not self.is_attached:
            return  # closed while the list was loading
        self._offer_apps(apps)
        if app_id:
            app_choices = await choices.load_app(app_id)
            if self.is_attached:
                self._show_app(app_choices)

    def _offer_apps(self, apps: list[str]) -> None:
        known = sorted({*self._known_apps, *apps})
        self._known_apps = known
        field = self.query_one("#field-app_id", Input)
        field.suggester = SuggestFromList(known, case_sensitive=False)
        hint = "known: " + ", ".join(known) if known else ""
        if not known and self._choices is not None and "apps" in self._choices.errors:
            hint = "applications could not be listed: type the ID"
        self._hint("app_id", hint)

    def _offer_classes(self, classes: list[str]) -> None:
        known = sorted({*self._known_classes, *classes})
        self.query_one("#field-execution_class", Input).suggester = SuggestFromList(
            known, case_sensitive=False
        )
        self._hint("execution_class", "known: " + ", ".join(known) if known else "")

    def _show_app(self, choices: AppChoices) -> None:
        if choices.app_id != self._value("app_id").strip():
            return  # the user has moved on to another application
        self._app_choices = choices
        self.query_one("#field-instance_id", Input).suggester = SuggestFromList(
            choices.instances, case_sensitive=False
        )
        self._offer_classes(choices.classes)
        hint = choices.options_hint()
        if hint:
            hint = ("options: " if choices.typed else "instance defaults: ") + hint
        elif self._choices is not None and choices.app_id in self._choices.errors:
            hint = "options of this application are not known: checked for syntax only"
        self._hint("options", hint)

    def _hint(self, field: str, text: str) -> None:
        """A hint under ``field``, at most ``HINT_LINES`` lines (wrapped at spaces, the
        last one ending with ``…``) so a long list never pushes the fields away."""
        hint = self.query_one(f"#hint-{field}", Static)
        width = hint.size.width or self.query_one(f"#field-{field}", Input).size.width or 40
        hint.update("\n".join(wrap_words(text, width, max_lines=HINT_LINES)))
        self.query_one(f"#hint-row-{field}").display = bool(text)

    @on(Input.Changed, "#field-app_id")
    def _app_changed(self, event: Input.Changed) -> None:
        app_id = event.value.strip()
        self._app_choices = None
        if self._choices is None or not app_id:
            self._hint("options", "")
            return
        cached = self._choices.cached(app_id)
        if cached is not None:
            self._show_app(cached)
        elif app_id in self._known_apps:
            self._load_choices(app_id)
        else:
            self._hint("options", "")

    @on(Input.Blurred, "#field-app_id")
    def _app_left(self, event: Input.Blurred) -> None:
        app_id = event.value.strip()
        if self._choices is not None and app_id and self._app_choices is None:
            self._load_choices(app_id)  # an application not listed: ask for its instances

