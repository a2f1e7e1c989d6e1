"""Pick a profile of ``~/.nextmv/config.yaml`` to reconnect to (``P``).

Lists the default and named profiles with their endpoints, plus the connection the monitor
was started with (a local service or flags) so one can go back to it. API keys are never
read into the list: a profile only says whether it has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from nextmv_tui.cloud.config import ClientConfig, ProfileInfo, config_path, list_profiles
from nextmv_tui.cloud.errors import NextmvError
from nextmv_tui.tui.format import clean, display_endpoint
from nextmv_tui.tui.screens.dialog import DialogScreen, MessageLine


@dataclass(frozen=True)
class ProfileChoice:
    """A named profile of the file (``name``; None is the default one), or the connection
    the monitor was started with (``config``)."""

    name: str | None = None
    config: ClientConfig | None = None


def _line(label: str, endpoint: str, current: bool, note: str = "") -> Text:
    text = Text("● " if current else "  ", style="bold")
    text.append(clean(label), style="bold")
    text.append(f"  {display_endpoint(endpoint)}", style="dim")
    if note:
        text.append(f"  {note}", style="italic")
    return text


class ProfileScreen(DialogScreen[ProfileChoice | None]):
    """Returns the chosen profile, or None when closed."""

    BINDINGS = [Binding("escape", "close", "Close", show=False)]
    AUTO_FOCUS = "#profile-list"

    def __init__(self, first: ClientConfig, current: ClientConfig) -> None:
        super().__init__()
        self._first = first
        self._current = current
        self._choices: list[ProfileChoice] = []

    def _is_current(self, name: str | None, endpoint: str) -> bool:
        config = self._current
        from_file = "config.yaml" in config.source
        return from_file and config.profile == name and config.endpoint == endpoint

    def _options(self) -> tuple[list[Option], str]:
        options: list[Option] = []
        first = self._first
        if "config.yaml" not in first.source:
            label = f"started with: {first.profile or first.source or 'flags'}"
            options.append(Option(_line(label, first.endpoint, first == self._current)))
            self._choices.append(ProfileChoice(config=first))
        problem = ""
        try:
            profiles: list[ProfileInfo] = list_profiles()
        except NextmvError as error:
            profiles, problem = [], str(error)
        for info in profiles:
            note = "" if info.has_key else "(no apikey)"
            options.append(Option(_line(info.label, info.endpoint,
                                        self._is_current(info.name, info.endpoint), note),
                                  disabled=not info.has_key))
            self._choices.append(ProfileChoice(name=info.name))
        if not profiles and not problem:
            problem = (f"No profiles in {config_path()}: "
                       "create one with `nextmv configuration create`.")
        return options, problem

    def compose(self) -> ComposeResult:
        options, problem = self._options()
        with Vertical(id="profile-dialog", classes="dialog") as dialog:
            dialog.border_title = "Switch profile"
            dialog.border_subtitle = "enter connect · esc close"
            yield OptionList(*options, id="profile-list")
            yield MessageLine(id="profile-message")
        self._problem = problem

    def on_mount(self) -> None:
        if self._problem:
            self.show_message(self._problem, "warning")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._choices[event.option_index])

    def action_close(self) -> None:
        self.dismiss(None)
