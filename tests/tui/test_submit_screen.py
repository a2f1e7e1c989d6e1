"""The submit modal alone: picker, field validation and packaging errors, close.

The client points at a loopback port where nothing listens: a validation error must be
shown *instead of* the connection error that any request would produce, which proves that
nothing was sent. The last test lets the request go out and shows that real connection
failure in the modal.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Switch
from textual.worker import Worker, WorkerState

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.units import human_bytes
from nextmv_tui.tui.forms import SubmitForm
from nextmv_tui.tui.screens.input_tree import InputTree
from nextmv_tui.tui.screens.submit import SubmitScreen
from tests.tui.conftest import wait_until
from tests.tui.fixtures.host import ModalHost

INPUTS = Path(__file__).parent / "fixtures" / "inputs"


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fixture inputs as the working directory (the tree's root)."""
    root = tmp_path / "inputs"
    shutil.copytree(INPUTS, root)
    monkeypatch.chdir(root)
    return root


def _host(client: NextmvClient, **fields: object) -> ModalHost:
    defaults = SubmitForm(**fields)  # type: ignore[arg-type]
    return ModalHost(lambda: SubmitScreen(client, defaults))


async def _screen(app: ModalHost, pilot: object) -> SubmitScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen))  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, SubmitScreen)
    return screen


def _set(screen: SubmitScreen, field: str, value: str) -> None:
    screen.query_one(f"#field-{field}", Input).value = value


async def test_tree_shows_only_directories_and_likely_inputs(
    dead_client: NextmvClient, inputs: Path
) -> None:
    app = _host(dead_client, app_id="knapsack")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _screen(app, pilot)
        tree = screen.query_one(InputTree)
        await wait_until(pilot, lambda: len(tree.root.children) > 0)
        names = [str(node.label) for node in tree.root.children]
        assert names == ["multi", "bad.json", "knapsack.json", "notes.txt"]


async def test_picking_a_file_or_directory_fills_the_path(
    dead_client: NextmvClient, inputs: Path
) -> None:
    app = _host(dead_client, app_id="knapsack")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _screen(app, pilot)
        tree = screen.query_one(InputTree)
        await wait_until(pilot, lambda: len(tree.root.children) == 4)
        tree.focus()
        tree.move_cursor(tree.root.children[2])
        await pilot.press("enter")
        path = screen.query_one("#field-path", Input)
        await wait_until(pilot, lambda: path.value == "knapsack.json")
        tree.move_cursor(tree.root.children[0])
        await pilot.press("enter")
        await wait_until(pilot, lambda: path.value == "multi")
        assert screen.current_form().input_path() == Path("multi")


@pytest.fixture
def worker_failures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Workers that ended in ERROR. A refused submit is an answer, not a failed worker: the
    monkey (which fails on any failed worker) found a typed path that does not exist
    ending the submit worker in ERROR."""
    failures: list[str] = []
    original = Worker._run

    async def run(self: Worker[Any], app: Any) -> None:
        await original(self, app)
        if self.state == WorkerState.ERROR:
            failures.append(f"{self.name}: {self.error!r}")

    monkeypatch.setattr(Worker, "_run", run)
    return failures


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"path": ""}, "input path: choose a file or directory"),
        ({"app_id": " "}, "application ID: must not be empty"),
        ({"options": "duration"}, "options: item 1 'duration' is not key=value"),
        ({"priority": ""}, "priority: must be from 1 to 9"),
        ({"path": "missing.json"}, "missing.json: no such file or directory"),
        ({"path": "bad.json"}, "bad.json: invalid JSON at line 4, column 18"),
    ],
)
async def test_bad_form_or_input_is_shown_and_nothing_is_sent(
    dead_client: NextmvClient, inputs: Path, changes: dict[str, str], expected: str,
    worker_failures: list[str],
) -> None:
    app = _host(dead_client, path="knapsack.json", app_id="knapsack")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _screen(app, pilot)
        for field, value in changes.items():
            _set(screen, field, value)
        await pilot.press("enter")
        await wait_until(pilot, lambda: expected in screen.message_text)
        await wait_until(pilot, lambda: screen.phase == "idle")
        assert "127.0.0.1:9" not in screen.message_text, "a request was sent"
        assert app.screen is screen and app.results == []
    assert worker_failures == []


async def test_connection_failure_is_shown_and_the_modal_stays(
    dead_client: NextmvClient, inputs: Path, worker_failures: list[str]
) -> None:
    app = _host(dead_client, path="knapsack.json", app_id="knapsack")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _screen(app, pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "127.0.0.1:9" in screen.message_text)
        await wait_until(pilot, lambda: screen.phase == "idle")
        assert app.screen is screen and app.results == []
        # The form is usable again: escape now closes it.
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.results == [None])
    assert worker_failures == []


async def test_current_form_reflects_what_is_on_screen(
    dead_client: NextmvClient, inputs: Path
) -> None:
    app = _host(dead_client, app_id="knapsack", start_dir=str(inputs))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _screen(app, pilot)
        _set(screen, "name", "n1")
        _set(screen, "options", "a=1")
        _set(screen, "priority", "3")
        screen.query_one("#field-queuing", Switch).value = False
        form = screen.current_form()
        assert (form.name, form.options, form.priority, form.queuing) == ("n1", "a=1", 3, False)
        assert form.start_dir == str(inputs) and form.app_id == "knapsack"


async def test_priority_accepts_only_one_digit_from_1_to_9(
    dead_client: NextmvClient, inputs: Path
) -> None:
    app = _host(dead_client, app_id="knapsack")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _screen(app, pilot)
        priority = screen.query_one("#field-priority", Input)
        priority.focus()
        priority.value = ""
        await pilot.press("0", "x", "1", "2")
        assert priority.value == "1"


def test_human_bytes() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(6 * 1024 * 1024) == "6.0 MiB"
    assert human_bytes(1536) == "1.5 KiB"


async def test_reopened_with_remembered_values_typing_replaces_the_path(
    dead_client: NextmvClient, inputs: Path
):
    """Focus starts in the path field with its text selected, never on a button."""
    app = _host(dead_client, path="knapsack.json", app_id="knapsack")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _screen(app, pilot)
        path_field = screen.query_one("#field-path", Input)
        assert app.focused is path_field
        await pilot.press(*"notes.txt")
        await wait_until(pilot, lambda: path_field.value == "notes.txt")


async def test_focus_goes_to_the_app_id_when_only_it_is_missing(
    dead_client: NextmvClient, inputs: Path
):
    app = _host(dead_client, path="knapsack.json")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _screen(app, pilot)
        assert app.focused is screen.query_one("#field-app_id", Input)
