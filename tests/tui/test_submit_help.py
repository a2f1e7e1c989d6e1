"""A submit dialog that helps: back to the field at fault with its text selected, keys typed
while it opens kept, per-run fields empty, a tree that shows where it is and goes up, and
the applications, instances, classes and typed options the service knows.

The choices come from the REAL local service (in-process); the no-network checks use a
client pointed at a port where nothing listens (a request would show its connection error).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from textual import events
from textual.widgets import Input, Label

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.tui.choices import Choices
from nextmv_tui.tui.forms import SubmitForm
from nextmv_tui.tui.screens.input_tree import InputPicker, display_dir
from nextmv_tui.tui.screens.submit import SubmitScreen
from tests.conftest import InProcessService
from tests.tui.conftest import wait_until
from tests.tui.fixed_app import fixed_app, settled
from tests.tui.fixtures.host import ModalHost
from tests.tui.helpers import app_for, client_for
from tests.tui.test_submit_flow import open_submit, submit_via_modal

INPUTS = Path(__file__).parent / "fixtures" / "inputs"


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "work" / "inputs"
    shutil.copytree(INPUTS, root)
    monkeypatch.chdir(root)
    return root


def host(client: NextmvClient, form: SubmitForm, choices: Choices | None = None) -> ModalHost:
    return ModalHost(lambda: SubmitScreen(client, form, choices=choices))


async def screen_of(app: ModalHost, pilot) -> SubmitScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen))
    assert isinstance(app.screen, SubmitScreen)
    return app.screen


def field(screen: SubmitScreen, name: str) -> Input:
    return screen.query_one(f"#field-{name}", Input)


def all_selected(widget: Input) -> bool:
    return (widget.selection.start, widget.selection.end) == (0, len(widget.value))


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        ("path", "nope.json", "nope.json: no such file or directory"),
        ("options", "duration", "options: item 1 'duration' is not key=value"),
        ("app_id", "knap sack", "application ID: 'knap sack' must not contain spaces"),
        ("instance_id", "a b", "instance ID: 'a b' must not contain spaces"),
    ],
)
async def test_after_an_error_focus_returns_to_the_field_with_its_text_selected(
    dead_client: NextmvClient, inputs: Path, name: str, bad: str, message: str
) -> None:
    app = host(dead_client, SubmitForm(path="knapsack.json", app_id="knapsack"))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await screen_of(app, pilot)
        field(screen, name).value = bad
        field(screen, "name").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: message in screen.message_text)
        await wait_until(pilot, lambda: app.focused is field(screen, name), 5)
        assert all_selected(field(screen, name)), "typing replaces the refused text"
        await pilot.press(*"tiny")
        assert field(screen, name).value == "tiny", "typed text lands in the field"


async def test_keys_typed_while_the_dialog_opens_are_not_lost() -> None:
    app = fixed_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot, app, "run-8p0a2s4d")
        await pilot.press("s", *"tiny.json")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), 5)
        screen = app.screen
        await wait_until(pilot, lambda: field(screen, "path").value == "tiny.json", 5)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main, 5)
        # A faster typist: every key is queued before the app handles the first one. Sent
        # to the queue table first, they come back after "s" opened the dialog: "y" must
        # not copy and "q" must not quit, they are typed into the path field.
        for char in "squery.json":
            key = "full_stop" if char == "." else char
            app._driver.send_message(events.Key(key, char))
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), 5)
        screen = app.screen
        await wait_until(pilot, lambda: field(screen, "path").value == "query.json", 5)
        assert app.clipboard == "", "y reached the main screen (it copies a run ID there)"
        assert app.is_running


async def test_keys_typed_fast_after_tab_go_to_the_next_field() -> None:
    """A burst (a fast typist, a paste, tmux send-keys): every key is queued before the app
    handles the first. Tab must move focus before the keys after it are handed out; as a
    plain binding it waited for the path field to pass it back, and "knap" was appended to
    the path (found trying the dialog in tmux)."""
    app = fixed_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settled(pilot, app, "run-8p0a2s4d")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), 5)
        screen = app.screen
        await wait_until(pilot, lambda: screen.focused is field(screen, "path"), 5)
        burst = [*(("full_stop" if c == "." else c, c) for c in "in.json"), ("tab", None),
                 *((c, c) for c in "knap"), ("shift+tab", None), ("x", "x")]
        for key, char in burst:
            app._driver.send_message(events.Key(key, char))
        # A field selects its text when focused, so typing replaces it: "knap" replaced the
        # default application, and "x", after shift+tab, the path.
        await wait_until(pilot, lambda: field(screen, "path").value == "x", 5)
        assert field(screen, "app_id").value == "knap"


async def test_per_run_fields_start_empty_application_options_class_are_remembered(
    inprocess_service: InProcessService,
) -> None:
    app = app_for(inprocess_service)
    async with app.run_test(size=(160, 45)) as pilot:
        await submit_via_modal(
            app, pilot, path=str(INPUTS / "knapsack.json"), app_id="knapsack", name="first",
            description="try 1", options="duration=3", execution_class="local",
        )
        screen = await open_submit(app, pilot)
        values = {name: field(screen, name).value for name in
                  ("name", "description", "app_id", "options", "execution_class")}
        assert values == {"name": "", "description": "", "app_id": "knapsack",
                          "options": "duration=3", "execution_class": "local"}


async def test_the_tree_shows_its_root_goes_up_and_its_root_is_not_an_input(
    dead_client: NextmvClient, inputs: Path
) -> None:
    app = host(dead_client, SubmitForm(app_id="knapsack", path="knapsack.json"))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await screen_of(app, pilot)
        picker = screen.query_one(InputPicker)
        await wait_until(pilot, lambda: picker.input_tree is not None
                         and len(picker.input_tree.root.children) == 4, 10)
        tree = picker.input_tree
        assert tree is not None
        assert picker.query_one("#picker-root", Label).render().plain == display_dir(inputs)
        assert str(tree.root.label) == "inputs"
        tree.focus()
        tree.move_cursor(tree.root)
        await pilot.press("enter")  # the root: neither "." in the path nor a collapse
        await pilot.pause(0.2)
        assert field(screen, "path").value == "knapsack.json"
        assert tree.root.is_expanded
        await pilot.press("backspace")
        await wait_until(pilot, lambda: Path(tree.path) == inputs.parent, 5)
        await wait_until(pilot, lambda: picker.query_one("#picker-root", Label).render().plain
                         == display_dir(inputs.parent), 5)
        await wait_until(pilot, lambda: [str(n.label) for n in tree.root.children]
                         == ["inputs"], 5)
        await pilot.click("#picker-up")
        await wait_until(pilot, lambda: Path(tree.path) == inputs.parent.parent, 5)
        await wait_until(pilot, lambda: [str(n.label) for n in tree.root.children]
                         == ["work"], 5)


def test_display_dir_uses_tilde_for_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert display_dir(tmp_path / "data" / "in") == "~/data/in"
    assert display_dir(Path("/elsewhere")) == "/elsewhere"


async def test_known_apps_instances_classes_and_typed_options_are_offered(
    inprocess_service: InProcessService, inputs: Path
) -> None:
    async with client_for(inprocess_service) as client:
        choices = Choices(lambda: client)
        app = host(client, SubmitForm(path="knapsack.json", app_id="routing"), choices)
        async with app.run_test(size=(140, 40)) as pilot:
            screen = await screen_of(app, pilot)
            hint = screen.query_one("#hint-options")
            await wait_until(pilot, lambda: "duration (float, default 10)" in str(hint.render()),
                             10)
            assert "seed (int, default 0)" in " ".join(str(hint.render()).split())
            assert "knapsack, routing" in str(screen.query_one("#hint-app_id").render())
            assert "local" in str(screen.query_one("#hint-execution_class").render())
            assert await field(screen, "app_id").suggester.get_suggestion("kn") == "knapsack"
            assert await field(screen, "instance_id").suggester.get_suggestion("la") == "latest"
            field(screen, "options").value = "duration=abc, seed=2"
            before = len(inprocess_service.requests)
            await pilot.press("enter")
            expected = "options: 'duration' must be a number (float), got 'abc'"
            await wait_until(pilot, lambda: expected in screen.message_text, 5)
            options = field(screen, "options")
            assert app.focused is options and all_selected(options)
            assert not any(method == "POST" for method, _ in inprocess_service.requests[before:])
            field(screen, "app_id").value = "knapsack"  # cached after the first listing
            await wait_until(pilot, lambda: "algorithm (string, default auto)"
                             in " ".join(str(hint.render()).split()), 10)


def _no_instances(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/applications":
        return httpx.Response(200, json={"items": [{"id": "routing"}]})
    return httpx.Response(404, json={"error": "no such route"})


async def test_without_option_types_values_are_checked_for_syntax_only(inputs: Path) -> None:
    """Like a Cloud account where the instances route says nothing useful (a fake answers
    404 there: the real service always serves it)."""
    config = ClientConfig(endpoint="https://api.example.test", api_key="k")
    async with NextmvClient(config, transport=httpx.MockTransport(_no_instances)) as client:
        choices = Choices(lambda: client)
        app = host(client, SubmitForm(path="knapsack.json", app_id="routing"), choices)
        async with app.run_test(size=(140, 40)) as pilot:
            screen = await screen_of(app, pilot)
            hint = screen.query_one("#hint-options")
            await wait_until(pilot, lambda: "checked for syntax only"
                             in " ".join(str(hint.render()).split()), 10)
            field(screen, "options").value = "duration=abc"
            await pilot.press("enter")
            await wait_until(pilot, lambda: screen.message_text
                             and "must be a number" not in screen.message_text, 10)
