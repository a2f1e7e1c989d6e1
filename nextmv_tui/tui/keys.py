"""The app's keys: the user's keymap, the palette, help, why a refused key did nothing, and
keys typed faster than a dialog opens.

A mixin of the app (one concept per module). Every key comes from the one action table
(``tui/actions.py``). When a key's action cannot act, Textual skips it silently; here the
same reason that dims the key in the footer (``RunActions.why_not``, from the action's
``needs``) is shown as a toast, and the palette says the same.

Typed ahead: Textual hands each key to the focused widget as soon as it arrives and runs
bindings when the key comes back up to the app. Type ``s`` then a file name quickly and all
those keys go to the queue table before ``s`` has opened the submit dialog; back at the app
they would meet the dialog's bindings (``q`` would quit) and be lost. So the app notes which
screen each key was sent to, and a key that comes back after another screen took over is
sent again to that screen's focused widget, as if it had been typed there.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from nextmv_tui.tui import actions
from nextmv_tui.tui.keymap import KeymapError, load_keymap

if TYPE_CHECKING:
    from nextmv_tui.tui.screens.main import MainScreen
    from nextmv_tui.tui.settings import Settings


TYPED_AHEAD_TRACKED = 64
"""Keys remembered until they come back to the app (a key a widget consumed never does)."""


class KeysMixin(App[int]):
    """Keymap, palette, help and refused-key toasts of ``NextmvTuiApp``."""

    settings: Settings
    main: MainScreen
    keymap: dict[str, str]
    def __init__(self) -> None:
        super().__init__()
        self._key_screens: OrderedDict[int, Screen[object]] = OrderedDict()
        self.exiting = False

    def exit(self, *args: Any, **kwargs: Any) -> None:
        self.exiting = True
        super().exit(*args, **kwargs)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            if self.exiting:
                return  # "qs" typed fast: nothing opens on an app that is closing
            if not event.is_forwarded:
                self._note_key(event)
            elif self._typed_ahead(event):
                return
        await super().on_event(event)

    def _note_key(self, event: events.Key) -> None:
        self._key_screens[id(event)] = self.screen
        while len(self._key_screens) > TYPED_AHEAD_TRACKED:
            self._key_screens.popitem(last=False)

    def _typed_ahead(self, event: events.Key) -> bool:
        """Send a key typed for a screen that has since been covered to the new screen."""
        sent_to = self._key_screens.pop(id(event), None)
        if sent_to is None or sent_to is self.screen or sent_to is not self.main:
            return False
        target = self.screen.focused or self.screen
        target._forward_event(events.Key(event.key, event.character))
        return True

    def _load_keymap(self) -> None:
        path = self.settings.keymap_path
        if path is None:
            return
        try:
            self.keymap = load_keymap(path)
        except KeymapError as error:
            self.notify(str(error), title="Keymap", severity="error", timeout=20, markup=False)
            return
        self.set_keymap(self.keymap)

    def key_display(self, key: str) -> str:
        return self.get_key_display(Binding(key, ""))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's commands (themes…) plus every action of the table, with its keys."""
        yield from super().get_system_commands(screen)
        for action in actions.ACTIONS:
            if action.scope == "main" and screen is not self.main:
                continue
            keys = ", ".join(self.key_display(k) for k in actions.keys_of(action, self.keymap))
            target = self if action.scope == "app" else self.main
            yield SystemCommand(action.title, f"{keys} · {action.help}",
                                lambda a=action.id, t=target: self._run_command(a, t))

    async def _run_command(self, action: str, target: App[int] | Screen[None]) -> None:
        if target.check_action(action, ()):
            await target.run_action(action)
        else:
            reason = self.main.why_not(action) or "not available now"
            self.main.say(f"{actions.BY_ID[action].title}: {reason}", severity="warning",
                          timeout=4)

    def action_help(self) -> None:
        from nextmv_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(actions.help_sections(self.keymap, self.key_display)))

    def on_key(self, event: events.Key) -> None:
        """A key of the main screen whose action cannot act says why (Textual skipped it).

        Keys typed into a field never get here (the field consumed them), nor do keys of a
        dialog: only the main screen's keys are explained."""
        if self.screen is not self.main:
            return
        for action in actions.actions_for_key(event.key, self.keymap):
            reason = self.main.why_not(action)
            if reason is not None:
                self.main.say(reason, severity="warning", timeout=3)
                return
