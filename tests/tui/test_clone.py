"""Clone and resubmit (``S``) against the REAL local service: the run's input (inline JSON,
text, a multi-file archive, a JSON over 5 MiB through ``format=url``) and its options, class,
priority and name arrive in the submit dialog for editing; the new run records where it was
cloned from; the temporary copy is removed when the dialog closes."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from textual.widgets import Input

from nextmv_tui.cloud.models import CreateRunRequest, Format, FormatInput, Queuing
from nextmv_tui.cloud.models import RunConfiguration as Config
from nextmv_tui.cloud.packaging import package_input
from nextmv_tui.cloud.samples import make_routing_input
from nextmv_tui.tui.screens.submit import SubmitScreen
from tests.conftest import InProcessService
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for
from tests.tui.test_submit_upload import big_knapsack

INPUTS = Path(__file__).parent / "fixtures" / "inputs"
SIZE = (140, 40)


def value(screen: SubmitScreen, name: str) -> str:
    return screen.query_one(f"#field-{name}", Input).value


async def open_clone(app, pilot, run_id: str) -> SubmitScreen:
    await wait_until(pilot, lambda: app.main.table.has_run(run_id), 15)
    app.main.select_run(run_id)
    await pilot.press("S")
    await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), 20)
    screen = app.screen
    assert isinstance(screen, SubmitScreen)
    return screen


async def test_clone_a_json_run_with_its_options_then_resubmit_it(
    inprocess_service: InProcessService,
) -> None:
    document = make_routing_input(6, 1, 1)
    request = CreateRunRequest(
        input=document, name="orig", description="first try", options={"duration": "1"},
        configuration=Config(format=Format(), queuing=Queuing(priority=3)),
    )
    async with client_for(inprocess_service) as client:
        original = await client.create_run("routing", request)
        app = app_for(inprocess_service)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            screen = await open_clone(app, pilot, original)
            path = Path(value(screen, "path"))
            assert path.name == f"{original}-input.json"
            assert json.loads(path.read_text()) == document
            assert {n: value(screen, n) for n in
                    ("app_id", "instance_id", "name", "description", "options", "priority",
                     "execution_class")} == {
                "app_id": "routing", "instance_id": "latest", "name": "orig",
                "description": "first try", "options": "duration=1", "priority": "3",
                "execution_class": "local"}
            assert "Clone" in str(screen.query_one("#submit-dialog").border_title)
            screen.query_one("#field-options", Input).value = "duration=2"
            screen.query_one("#field-path", Input).focus()
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen is app.main, 20)
            clone = app.store.selected
            assert clone is not None and clone != original
            info = await client.run_information("routing", clone)
            assert info.metadata.tracking is not None
            assert info.metadata.tracking.cloned_run_id == original
            assert info.metadata.options is not None
            assert info.metadata.options.request_options == {"duration": "2"}
            assert not path.parent.exists(), "the temporary input is removed"
            assert app.main.form is not None and app.main.form.path == ""


@pytest.mark.parametrize(
    ("source", "suffix"), [("notes.txt", ".txt"), ("multi", ".tar.gz"), ("big", ".json")],
)
async def test_text_multi_file_and_large_inputs_come_back_whole(
    make_inprocess_service, tmp_path: Path, source: str, suffix: str,
) -> None:
    service = await make_inprocess_service(concurrency=0)
    path = big_knapsack(tmp_path / "big.json") if source == "big" else INPUTS / source
    package = package_input(path)
    async with client_for(service) as client:
        try:
            kind = package.input_format
            request = CreateRunRequest(configuration=Config(
                format=Format(input=FormatInput(type=kind))))
            original = await client.submit("knapsack", package, request)
        finally:
            package.cleanup()
        app = app_for(service)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_clone(app, pilot, original)
            cloned = Path(value(screen, "path"))
            assert cloned.name == f"{original}-input{suffix}"
            if source == "multi":
                with tarfile.open(cloned) as tar:
                    names = sorted(m.name.lstrip("./") for m in tar.getmembers() if m.isfile())
                expected = sorted(p.relative_to(path).as_posix() for p in path.rglob("*")
                                  if p.is_file())
                assert names == expected
            else:
                assert cloned.read_bytes() == path.read_bytes()
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is app.main, 5)
            assert not cloned.exists()


async def test_a_run_that_is_gone_cannot_be_cloned_and_says_why(
    make_inprocess_service,
) -> None:
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        run_id = await client.create_run("routing", CreateRunRequest(
            input=make_routing_input(4, 1, 1), configuration=Config(format=Format())))
        app = app_for(service)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_until(pilot, lambda: app.main.table.has_run(run_id), 15)
            app.main.select_run(run_id)
            async with service.async_client() as http:
                await http.delete(f"/v1/applications/routing/runs/{run_id}")
            await pilot.press("S")
            await wait_until(pilot, lambda: any(
                f"Cannot clone {run_id}" in str(n.message) for n in app._notifications), 10)
            assert app.screen is app.main
