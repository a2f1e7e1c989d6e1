"""The monitor exits cleanly whatever is still opening: a dialog pushed by the key just
before the terminal closed, or the main screen before its first frame.

Textual mounts a screen pushed just before exit after its children were removed; a dialog
that looked its widgets up with ``query_one`` when mounted raised there and the monitor
ended with a traceback (CI caught it once in ``test_keys_in_a_burst_act_on_the_run_under
_the_cursor``). These tests push each dialog of the real monitor and exit at once, every
time, so they fail on every run while any dialog does that, not once in a while.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.screen import ModalScreen, Screen

import nextmv_tui.tui.screens as screens_package
from nextmv_tui.tui.actions import help_sections
from nextmv_tui.tui.app import NextmvTuiApp
from nextmv_tui.tui.forms import SubmitForm
from nextmv_tui.tui.screens.confirm_cancel import ConfirmCancelScreen
from nextmv_tui.tui.screens.dialog import DialogScreen, OnceModal
from nextmv_tui.tui.screens.help import HelpScreen
from nextmv_tui.tui.screens.jump import JumpScreen
from nextmv_tui.tui.screens.palette import SafeCommandPalette
from nextmv_tui.tui.screens.profiles import ProfileScreen
from nextmv_tui.tui.screens.save_output import SaveOutputScreen
from nextmv_tui.tui.screens.submit import SubmitScreen
from nextmv_tui.tui.screens.submit_choices import OffersChoices
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for

SIZE = (100, 30)
BASES = {OnceModal, DialogScreen, OffersChoices}
"""Shared bases, never pushed themselves."""

DIALOGS: dict[str, Callable[[NextmvTuiApp], Screen[object]]] = {
    "ConfirmCancelScreen": lambda app: ConfirmCancelScreen("run-1", "knapsack", "a name"),
    "ConfirmCancelScreen, several runs": lambda app: ConfirmCancelScreen(
        "run-1", "knapsack", "", others=[("run-2", "knapsack", "")], skipped=1),
    "SaveOutputScreen": lambda app: SaveOutputScreen(Path("out.json")),
    "JumpScreen": lambda app: JumpScreen(),
    "ProfileScreen": lambda app: ProfileScreen(app.settings.config, app.settings.config),
    "HelpScreen": lambda app: HelpScreen(help_sections({}, str)),
    "SubmitScreen": lambda app: SubmitScreen(app.main.get_client(), SubmitForm()),
    "SubmitScreen, with a path": lambda app: SubmitScreen(
        app.main.get_client(), SubmitForm(path="input.json")),
    "SafeCommandPalette": lambda app: SafeCommandPalette(),
}


def test_every_dialog_of_the_package_is_covered() -> None:
    """A new dialog is added to ``DIALOGS`` or this fails."""
    assert all(isinstance(base, type) for base in BASES)
    ours: set[str] = set()
    for module in pkgutil.iter_modules(screens_package.__path__):
        loaded = importlib.import_module(f"{screens_package.__name__}.{module.name}")
        for name, value in vars(loaded).items():
            if (inspect.isclass(value) and issubclass(value, ModalScreen)
                    and value.__module__ == loaded.__name__ and value not in BASES):
                ours.add(name)
    covered = {name.split(",")[0] for name in DIALOGS}
    assert ours - covered == set()


@pytest.mark.parametrize("pauses", [0, 2])
@pytest.mark.parametrize("dialog", DIALOGS)
async def test_a_dialog_opened_just_before_exit_never_ends_in_a_traceback(
    make_inprocess_service, dialog: str, pauses: int
) -> None:
    """``pauses`` moves the exit through the dialog's first moments: 0 exits with its mount
    still queued, more let it mount and run what it scheduled after its first refresh."""
    service = await make_inprocess_service(concurrency=0)
    app = app_for(service)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.is_mounted, 10)
        app.push_screen(DIALOGS[dialog](app))
        for _ in range(pauses):
            await pilot.pause()
    assert app._exception is None
    assert app.return_code in (0, None)


async def test_the_monitor_exiting_before_its_first_frame_never_ends_in_a_traceback(
    make_inprocess_service,
) -> None:
    service = await make_inprocess_service(concurrency=0)
    app = app_for(service)
    async with app.run_test(size=SIZE):
        pass
    assert app._exception is None


FOCUSED_FIRST = {
    "ConfirmCancelScreen": "confirm-no",  # the safe button: a reflexive enter keeps the run
    "ConfirmCancelScreen, several runs": "confirm-no",
    "SaveOutputScreen": "save-path",
    "JumpScreen": "jump-run-id",
    "ProfileScreen": "profile-list",
    "SubmitScreen": "field-path",
    "SubmitScreen, with a path": "field-app_id",
}


@pytest.mark.parametrize("dialog", FOCUSED_FIRST)
async def test_a_dialog_that_stays_open_focuses_its_first_field(
    make_inprocess_service, dialog: str
) -> None:
    """The same dialogs, left open: each focuses where typing belongs (``AUTO_FOCUS`` and
    the submit dialog's own choice), so the guard against exit costs nothing here."""
    service = await make_inprocess_service(concurrency=0)
    app = app_for(service)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.is_mounted, 10)
        screen = DIALOGS[dialog](app)
        app.push_screen(screen)
        await wait_until(pilot, lambda: app.screen is screen and screen.focused is not None, 5)
        await pilot.pause()
        assert screen.focused is not None and screen.focused.id == FOCUSED_FIRST[dialog]
