"""Textual's command palette, hardened against keys that arrive faster than it settles.

Found by the monkey (``tests/tui/test_monkey.py``, ``benchmarks/tui_monkey.py``): typed as
fast as a terminal delivers it (ctrl+p, ``theme``, enter, ``nord``, enter), Textual 8.2's
``CommandPalette`` ended the app in four ways:

- an enter already queued to its input when a first enter closed it is handled after the
  close: the palette dismisses itself a second time, which pops the screen below it or,
  with only the main screen left, raises ``ScreenStackError``;
- its search worker, started or still running when the palette closed, looks for the
  command list after the palette's widgets are gone: ``NoMatches``;
- page up/down before its command list has laid out its lines: ``KeyError``;
- ctrl+p while the palette just closed is still being removed: ``DuplicateIds``.

And in one way it ran the wrong command: an enter typed before the search for the typed
text had answered selected the hit the list still showed from an earlier search. Typed as a
burst (ctrl+p, ``reverse sort``, enter), that hit was Quit. An enter now waits for the search
of what was typed, then selects its first hit.

``SafeCommandPalette`` ignores input, selections and search results once it is no longer
the active screen; ``SafePaletteApp`` makes the app open it for ctrl+p and for the theme
picker. Everything else is Textual's.
"""

from __future__ import annotations

from typing import Any, cast

from textual import on, work
from textual.app import App
from textual.command import CommandInput, CommandList, CommandPalette
from textual.css.query import NoMatches
from textual.message import Message
from textual.theme import ThemeProvider
from textual.widgets import Button, Input, LoadingIndicator
from textual.worker import get_current_worker


class SafeCommandPalette(CommandPalette):
    """A ``CommandPalette`` that does nothing once it has been closed, and whose enter
    selects from the answer to what was typed."""

    _searched: str | None = None
    """The text whose search last ran to its end (the list shows its hits)."""
    _select_pending = False
    """An enter came before the search of the typed text answered."""

    @property
    def is_active_palette(self) -> bool:
        """True while this palette is the screen keys go to."""
        return self.is_attached and self.app.screen is self

    @on(Input.Submitted)
    @on(Input.Changed)
    @on(Button.Pressed)
    def _drop_when_closed(self, event: Message) -> None:
        """Runs before Textual's handlers (subclass first); stops them when closed."""
        if not self.is_active_palette:
            event.stop()
            event.prevent_default()

    def _select_or_command(self, event: Any = None) -> None:
        if self.is_active_palette:
            super()._select_or_command(event)

    @work(exclusive=True, group=CommandPalette._GATHER_COMMANDS_GROUP)
    async def _gather_commands(self, search_value: str) -> None:
        """Textual's search, as its own worker; a palette closed before (or while) the search
        runs has no command list to fill: that ends the search, not the app."""
        search = CommandPalette._gather_commands.__wrapped__  # type: ignore[attr-defined]
        try:
            await search(self, search_value)
        except NoMatches:
            return
        if not get_current_worker().is_cancelled:
            self._searched = search_value
            if self._select_pending and self.is_active_palette and self._typed() == search_value:
                self._select_pending = False
                self._select_or_command()

    def _typed(self) -> str:
        """The search text as Textual searches it."""
        return self.query_one(CommandInput).value.strip()

    def _action_command_list(self, action: str) -> None:
        """Page keys before the command list has laid out its lines raised ``KeyError``
        in ``OptionList._move_page`` (the monkey's fourth palette crash): ignored. A select
        (enter) before the typed text's search has answered waits for that answer."""
        if action == "select" and self.is_active_palette and self._searched != self._typed():
            self._select_pending = True
            return
        try:
            super()._action_command_list(action)
        except KeyError:
            return

    def _watch__list_visible(self) -> None:
        try:
            super()._watch__list_visible()
        except NoMatches:  # the palette's widgets are gone: it has been closed
            return

    def _watch__show_busy(self) -> None:  # type: ignore[override]
        """Textual's (async for no reason: a coroutine left unawaited on a closed palette)."""
        try:
            self.query_one(LoadingIndicator).set_class(self._show_busy, "--visible")
            self.query_one(CommandList).set_class(self._show_busy, "--populating")
        except NoMatches:
            return

    def _start_no_matches_countdown(self, search_value: str) -> None:
        if self.is_active_palette:
            super()._start_no_matches_countdown(search_value)


class SafePaletteApp(App[int]):
    """Opens ``SafeCommandPalette`` where Textual opens its own palette."""

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(cast("App[object]", self)):
            # No id (Textual gives its palette "--command-palette"): a palette opened while
            # the one just closed is still being removed would have a duplicate ID.
            self.push_screen(SafeCommandPalette())

    def search_themes(self) -> None:
        self.push_screen(
            SafeCommandPalette(providers=[ThemeProvider], placeholder="Search for themes…")
        )
