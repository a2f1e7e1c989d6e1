"""Regenerate the README screenshots (screenshots/*.svg) from the real app and a real service.

    .venv/bin/python scripts/screenshots.py [--out screenshots] [--only NAME ...]

Starts the local run service in a temporary data dir (through the same launcher as
``nextmv-tui --local``), runs the monitor headless at 160x45, submits runs so that every
state is on screen at once (succeeded, failed, canceled, running, queued) and saves:

- queue.svg           the queue with runs in every state
- queue-80x24.svg     the same at 80x24: columns left out by priority, keys that fit
- run-running.svg     the detail of a running routing run with its live log
- run-failed.svg      a failed run with its error
- submit-upload.svg   the submit modal while a large file uploads (throttled to ~8 MiB/s)
- cancel-confirm.svg  the cancel confirmation
- help.svg            the help screen
- history.svg         runs that finished before the monitor started (run history), with
                      the objective, duration and batch columns
- objective-plot.svg  a finished routing run: key results, statistics, objective plotted

Before the monitor starts, a few runs are made and left to finish (routing runs of a batch
experiment, knapsack runs, one failing): only the run history can list them.
``--only history.svg,objective-plot.svg`` writes just those (the scenario stops after them).

The API key is checked to be absent from every SVG; the script fails if it is not.
``--only queue-80x24.svg`` writes just the named screenshots (the scenario runs whole).
Takes about a minute; needs nothing but the project's virtualenv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from textual.pilot import Pilot
from textual.widgets import Input, Log

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nextmv_tui.cloud.client import NextmvClient  # noqa: E402
from nextmv_tui.cloud.config import ClientConfig  # noqa: E402
from nextmv_tui.cloud.models import (  # noqa: E402
    CreateRunRequest,
    Format,
    FormatInput,
    Queuing,
    RunConfiguration,
)
from nextmv_tui.cloud.samples import make_knapsack_input, make_routing_input  # noqa: E402
from nextmv_tui.cloud.status import RunStatus  # noqa: E402
from nextmv_tui.service.launcher import ensure_running  # noqa: E402
from nextmv_tui.tui.app import NextmvTuiApp, make_app  # noqa: E402
from nextmv_tui.tui.screens.confirm_cancel import ConfirmCancelScreen  # noqa: E402
from nextmv_tui.tui.screens.help import HelpScreen  # noqa: E402
from nextmv_tui.tui.screens.submit import SubmitScreen  # noqa: E402
from nextmv_tui.tui.settings import Settings  # noqa: E402

SIZE = (160, 45)
UPLOAD_RATE = 8 * 1024 * 1024
"""Bytes per second the PUT is throttled to, so the progress bar is caught mid-way."""
LARGE_INPUT_MB = 40


# --- a throttled upload (so the screenshot can catch it in progress) --------------------------


class _ThrottledBody(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, rate: float) -> None:
        self._inner = inner
        self._rate = rate

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk
            await asyncio.sleep(len(chunk) / self._rate)


class ThrottledUploads(httpx.AsyncBaseTransport):
    """Real HTTP; only presigned PUT bodies are slowed down to ``rate`` bytes per second."""

    def __init__(self, rate: float, verify: bool | str) -> None:
        self._inner = httpx.AsyncHTTPTransport(verify=verify)
        self._rate = rate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and isinstance(request.stream, httpx.AsyncByteStream):
            request.stream = _ThrottledBody(request.stream, self._rate)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


# --- helpers ---------------------------------------------------------------------------------


def routing(name: str, duration: int, seed: int, priority: int = 6) -> CreateRunRequest:
    return CreateRunRequest(
        input=make_routing_input(30, 3, seed),
        name=name,
        options={"duration": str(duration)},
        configuration=RunConfiguration(format=Format(), queuing=Queuing(priority=priority)),
    )


def knapsack(name: str, n: int, seed: int, priority: int = 6) -> CreateRunRequest:
    return CreateRunRequest(
        input=make_knapsack_input(n, seed),
        name=name,
        configuration=RunConfiguration(format=Format(), queuing=Queuing(priority=priority)),
    )


def broken_knapsack(name: str) -> CreateRunRequest:
    document = {"items": [{"id": "crate", "value": "heavy", "weight": 4}], "weight_capacity": 9}
    return CreateRunRequest(
        input=document,
        name=name,
        configuration=RunConfiguration(format=Format(input=FormatInput(type="json"))),
    )


async def wait_for(
    pilot: Pilot[Any], what: str, predicate: Callable[[], bool], timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:  # widgets may be mid-update
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        await pilot.pause(0.1)


def status_of(app: NextmvTuiApp, run_id: str) -> RunStatus | None:
    row = app.store.get(run_id)
    return row.status if row is not None else None


def write_large_input(path: Path, megabytes: int) -> None:
    document = make_knapsack_input(60, 7)
    document["notes"] = "padding " * (megabytes * 1024 * 1024 // 8)
    path.write_text(json.dumps(document))


class Shooter:
    def __init__(
        self, app: NextmvTuiApp, out: Path, secret: str, only: set[str] | None = None
    ) -> None:
        self.app = app
        self.out = out
        self.secret = secret
        self.only = only
        self.saved: list[Path] = []
        self.only = only

    @property
    def done(self) -> bool:
        """Every screenshot asked for with ``--only`` is saved."""
        return self.only is not None and self.only <= {p.name for p in self.saved}

    def save(self, name: str) -> None:
        if self.only is not None and name not in self.only:
            return
        path = Path(self.app.save_screenshot(filename=name, path=str(self.out)))
        if self.secret and self.secret in path.read_text():
            path.unlink()
            raise SystemExit(f"screenshots: the API key appeared in {name}; file removed")
        self.saved.append(path)
        print(f"  saved {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


# --- the scenario ------------------------------------------------------------------------------


async def make_history(client: NextmvClient) -> dict[str, str]:
    """Runs made and finished before the monitor starts (the history lists them)."""
    made: dict[str, str] = {}
    for index, (stops, seed) in enumerate(((40, 11), (55, 12), (30, 13))):
        request = routing(f"depot {'NSE'[index]}, {stops} stops", 6, seed, 4).model_copy(
            update={"batch_experiment_id": "bx-42",
                    "input": make_routing_input(stops, 3, seed)})
        made[f"routing {index}"] = await client.create_run("routing", request)
    made["knapsack"] = await client.create_run("knapsack", knapsack("nightly plan", 120, 21))
    made["broken"] = await client.create_run("knapsack", broken_knapsack("nightly bad input"))
    deadline = time.monotonic() + 120
    for key, run_id in made.items():
        app_id = "knapsack" if key in ("knapsack", "broken") else "routing"
        while not (await client.run_information(app_id, run_id)).status.is_final:
            if time.monotonic() > deadline:
                raise SystemExit(f"screenshots: {key} did not finish")
            await asyncio.sleep(0.5)
    return made


async def history_shots(pilot: Pilot[Any], app: NextmvTuiApp, shooter: Shooter,
                        made: dict[str, str]) -> None:
    await wait_for(pilot, "the run history", lambda: app.history.ready is not None
                   and all(run_id in app.store for run_id in made.values()))
    app.main.select_run(made["routing 1"])
    await wait_for(pilot, "the objective plot", lambda: app.main.detail.plotted)
    await pilot.pause(0.5)
    shooter.save("history.svg")
    app.main.detail.query_one("#detail-info-scroll").scroll_to(y=12, animate=False)
    await pilot.pause(0.3)
    shooter.save("objective-plot.svg")


async def scenario(app: NextmvTuiApp, client: NextmvClient, shooter: Shooter,
                   made: dict[str, str]) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, "the first queue poll", lambda: app.queue.polls_completed > 0)
        await history_shots(pilot, app, shooter, made)
        if shooter.done:
            return

        # Finished runs: two short routing runs hold both slots while the others queue up,
        # so the monitor sees every run in the queue before it finishes.
        warm = [
            await client.create_run("routing", routing("depot A, 3 s", 3, 1)),
            await client.create_run("routing", routing("depot B, 3 s", 3, 2)),
        ]
        good = await client.create_run("knapsack", knapsack("knapsack 40 items", 40, 3, 2))
        bad = await client.create_run("knapsack", broken_knapsack("knapsack bad input"))
        dropped = await client.create_run("routing", routing("depot C (dropped)", 30, 3))
        await wait_for(
            pilot, "the queued runs in the panel",
            lambda: all(r in app.store for r in (good, bad, dropped)),
        )
        await client.cancel_run("routing", dropped)
        await wait_for(
            pilot, "finished runs",
            lambda: status_of(app, good) == RunStatus.SUCCEEDED
            and status_of(app, bad) == RunStatus.FAILED
            and status_of(app, dropped) == RunStatus.CANCELED
            and all(status_of(app, r) == RunStatus.SUCCEEDED for r in warm),
        )

        # Live runs: two long routing runs run, two more wait behind them.
        east = await client.create_run("routing", routing("fleet east, 120 s", 120, 4, 3))
        west = await client.create_run("routing", routing("fleet west, 120 s", 120, 5, 3))
        await wait_for(
            pilot, "two running runs",
            lambda: status_of(app, east) == RunStatus.RUNNING
            and status_of(app, west) == RunStatus.RUNNING,
        )
        queued = [
            await client.create_run("knapsack", knapsack("knapsack 200 items", 200, 8, 4)),
            await client.create_run("routing", routing("depot D, 60 s", 60, 9, 7)),
        ]
        await wait_for(
            pilot, "queued runs",
            lambda: all(status_of(app, r) == RunStatus.QUEUED for r in queued),
        )

        log = app.query_one("#detail-log", Log)
        app.main.select_run(good)
        await wait_for(pilot, "the output preview", lambda: bool(app.main.detail.output_text()))
        await pilot.pause(0.3)
        shooter.save("queue.svg")

        app.main.select_run(east)
        await wait_for(pilot, "live log lines", lambda: log.line_count >= 4, timeout=30)
        shooter.save("run-running.svg")
        await narrow(pilot, app, shooter)

        app.main.select_run(bad)
        await wait_for(
            pilot, "the failed run's error",
            lambda: app.main.detail.info is not None and bool(app.main.detail.info.metadata.error),
        )
        await pilot.pause(0.3)
        shooter.save("run-failed.svg")

        app.main.select_run(west)
        await pilot.press("c")
        await wait_for(pilot, "the cancel confirmation",
                       lambda: isinstance(app.screen, ConfirmCancelScreen))
        await pilot.pause(0.3)
        shooter.save("cancel-confirm.svg")
        await pilot.press("n")
        await wait_for(pilot, "the confirmation to close",
                       lambda: not isinstance(app.screen, ConfirmCancelScreen))

        await pilot.press("question_mark")
        await wait_for(pilot, "help", lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause(0.3)
        shooter.save("help.svg")
        await pilot.press("escape")
        await wait_for(pilot, "help to close", lambda: not isinstance(app.screen, HelpScreen))

        app.main.select_run(good)
        await pilot.press("s")
        await wait_for(pilot, "the submit modal", lambda: isinstance(app.screen, SubmitScreen))
        screen = app.screen
        assert isinstance(screen, SubmitScreen)
        for field, value in (
            ("path", "large-input.json"), ("app_id", "knapsack"),
            ("name", "large input upload"), ("options", "duration=10"),
        ):
            screen.query_one(f"#field-{field}", Input).value = value
        for widget in screen.query(Input):
            widget.cursor_blink = False
        screen.action_submit()
        bar = screen.query_one("#submit-progress")
        await wait_for(
            pilot, "the upload to be under way",
            lambda: screen.phase == "uploading" and (getattr(bar, "percentage", 0) or 0) >= 0.4,
        )
        shooter.save("submit-upload.svg")
        await pilot.press("escape")  # abort: nothing is created
        await wait_for(pilot, "the abort", lambda: screen.phase == "idle")
        await pilot.press("escape")

        for run_id, app_id in ((east, "routing"), (west, "routing"), (queued[0], "knapsack"),
                               (queued[1], "routing")):
            try:
                await client.cancel_run(app_id, run_id)
            except Exception as exc:  # already finished: nothing to clean up
                print(f"  note: {run_id}: {exc}")


async def narrow(pilot: Pilot[Any], app: NextmvTuiApp, shooter: Shooter) -> None:
    """The running run at 80x24, then back to the full size."""
    table = app.main.table
    wide = table.shown_columns
    await pilot.resize_terminal(80, 24)
    await wait_for(pilot, "the 80-column layout", lambda: "user" not in table.shown_columns)
    await pilot.pause(0.5)
    shooter.save("queue-80x24.svg")
    await pilot.resize_terminal(*SIZE)
    await wait_for(pilot, "the full layout", lambda: table.shown_columns == wide)


async def main(out: Path, only: set[str] | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nextmv-tui-shots-") as temp:
        work = Path(temp)
        handle = ensure_running(data_dir=work / "service", port=0)
        try:
            config = ClientConfig(
                endpoint=handle.endpoint, api_key=handle.api_key, profile="local",
                source="local service", verify=handle.verify,
            )
            inputs = work / "inputs"
            inputs.mkdir()
            write_large_input(inputs / "large-input.json", LARGE_INPUT_MB)
            (inputs / "orders.json").write_text(json.dumps(make_knapsack_input(30, 1)))
            (inputs / "depots").mkdir()
            (inputs / "depots" / "stops.csv").write_text("id,lon,lat\n")
            os.chdir(inputs)  # the picker starts at "."; no temp path shows in the modal
            transport = ThrottledUploads(UPLOAD_RATE, handle.verify)
            async with NextmvClient(config) as client:
                made = await make_history(client)
            app = make_app(Settings(config=config, refresh=0.5, local=True, transport=transport))
            shooter = Shooter(app, out, handle.api_key, only)
            async with NextmvClient(config) as client:
                await scenario(app, client, shooter, made)
            await transport.aclose()
            print(f"{len(shooter.saved)} screenshots in {out}")
        finally:
            os.chdir(REPO)
            handle.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="save only these screenshots (e.g. queue-80x24.svg)")
    args = parser.parse_args()
    asyncio.run(main(args.out.resolve(), set(args.only) if args.only else None))
