"""The submit modal against the real local service: upload progress, abort, success.

The abort test needs an upload that is still in flight when escape is pressed; in-process a
6 MiB PUT finishes in milliseconds, so a wrapping transport stalls the PUT body after its
first chunk (a stall is a fault the real server cannot produce). Everything
else - upload URL, create run, listing - is the real service.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.message import Message
from textual.widgets import Label

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.models import MAX_INLINE_BYTES
from nextmv_tui.tui.forms import SubmitForm, SubmittedRun
from nextmv_tui.tui.screens.submit import SubmitScreen, UploadProgress
from tests.conftest import InProcessService
from tests.tui.conftest import wait_until
from tests.tui.fixtures.host import ModalHost


class _StalledBody(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, release: asyncio.Event) -> None:
        self._inner = inner
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        first = True
        async for chunk in self._inner:
            yield chunk
            if first:
                first = False
                await self._release.wait()


class StallingUploads(httpx.AsyncBaseTransport):
    """The real service, except that a PUT body stops after its first chunk until released."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.release = asyncio.Event()
        self.puts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            self.puts += 1
            assert isinstance(request.stream, httpx.AsyncByteStream)
            request.stream = _StalledBody(request.stream, self.release)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        self.release.set()
        await self._inner.aclose()


class StallingCreate(httpx.AsyncBaseTransport):
    """The real service, except that the create-run POST waits until released (a slow server)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.release = asyncio.Event()
        self.creates = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/runs"):
            self.creates += 1
            await self.release.wait()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        self.release.set()
        await self._inner.aclose()


def big_knapsack(path: Path) -> Path:
    """A valid knapsack input a little over the 5 MiB inline limit (so it is uploaded)."""
    document: dict[str, Any] = {
        "items": [{"id": f"item-{n}", "value": n % 97 + 1, "weight": n % 13 + 1}
                  for n in range(40)],
        "weight_capacity": 60,
        "notes": "x" * (MAX_INLINE_BYTES + 512 * 1024),
    }
    path.write_text(json.dumps(document))
    return path


def _config(service: InProcessService) -> ClientConfig:
    return ClientConfig(endpoint=service.endpoint, api_key=service.api_key)


async def _runs(client: NextmvClient, app_id: str) -> list[str]:
    return [run.id async for run in client.iter_runs(app_id)]


async def test_escape_during_upload_aborts_and_creates_nothing(
    inprocess_service: InProcessService, tmp_path: Path
) -> None:
    big = big_knapsack(tmp_path / "big.json")
    transport = StallingUploads(inprocess_service.transport)
    client = NextmvClient(_config(inprocess_service), transport=transport)
    form = SubmitForm(path=str(big), app_id="knapsack", name="never")
    app = ModalHost(lambda: SubmitScreen(client, form))
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen))
            screen = app.screen
            assert isinstance(screen, SubmitScreen)
            await pilot.press("enter")
            rate = screen.query_one("#submit-rate", Label)
            await wait_until(pilot, lambda: screen.phase == "uploading" and transport.puts == 1)
            await wait_until(pilot, lambda: "MiB" in str(rate.content))
            assert screen.has_class("-uploading")
            assert "Uploading" in screen.message_text

            await pilot.press("escape")
            await wait_until(pilot, lambda: screen.phase == "idle")
            assert screen.message_text == "Upload aborted: nothing was created."
            assert app.screen is screen and app.results == []
            assert await _runs(client, "knapsack") == []
            assert await client.account_queue() == []

            # Escape again, now idle, closes the modal.
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.results == [None])
    finally:
        await client.aclose()
        await transport.aclose()


async def test_upload_reports_progress_then_returns_the_run(
    inprocess_service: InProcessService, tmp_path: Path
) -> None:
    big = big_knapsack(tmp_path / "big.json")
    client = NextmvClient(_config(inprocess_service), transport=inprocess_service.transport)
    form = SubmitForm(path=str(big), app_id="knapsack", name="big one", options="duration=5")
    app = ModalHost(lambda: SubmitScreen(client, form))
    messages: list[Message] = []
    try:
        async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen))
            await pilot.press("enter")
            await wait_until(pilot, lambda: len(app.results) == 1, timeout=30)
        result = app.results[0]
        assert isinstance(result, SubmittedRun)
        assert (result.app_id, result.name, result.form) == ("knapsack", "big one", form)
        progress = [m for m in messages if isinstance(m, UploadProgress)]
        size = big.stat().st_size
        assert progress and progress[-1].sent == progress[-1].total == size
        info = await client.run_information("knapsack", result.run_id)
        assert info.name == "big one"
        assert info.metadata.format.input.type == "json"
        assert await _runs(client, "knapsack") == [result.run_id]
    finally:
        await client.aclose()


async def test_abort_is_refused_once_the_run_is_being_created(
    inprocess_service: InProcessService, tmp_path: Path
) -> None:
    """After the upload the run may already exist: escape must not pretend to abort it."""
    big = big_knapsack(tmp_path / "big.json")
    transport = StallingCreate(inprocess_service.transport)
    client = NextmvClient(_config(inprocess_service), transport=transport)
    form = SubmitForm(path=str(big), app_id="knapsack", name="created anyway")
    app = ModalHost(lambda: SubmitScreen(client, form))
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen))
            screen = app.screen
            assert isinstance(screen, SubmitScreen)
            await pilot.press("enter")
            await wait_until(pilot, lambda: transport.creates == 1, timeout=20)
            await wait_until(pilot, lambda: screen.phase == "creating")
            await pilot.press("escape")
            await wait_until(pilot, lambda: "being created" in screen.message_text)
            assert screen.phase == "creating"
            assert app.screen is screen
            transport.release.set()
            await wait_until(pilot, lambda: len(app.results) == 1, timeout=20)
        result = app.results[0]
        assert isinstance(result, SubmittedRun)
        assert await _runs(client, "knapsack") == [result.run_id]
    finally:
        await client.aclose()
        await transport.aclose()


@pytest.mark.parametrize("kind", ["json", "text", "multi-file"])
async def test_each_input_kind_is_created_with_its_format(
    inprocess_service: InProcessService, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where a directory is tarred
    inputs = Path(__file__).parent / "fixtures" / "inputs"
    path = {"json": "knapsack.json", "text": "notes.txt", "multi-file": "multi"}[kind]
    client = NextmvClient(_config(inprocess_service), transport=inprocess_service.transport)
    form = SubmitForm(path=path, app_id="knapsack", start_dir=str(inputs), priority=2)
    app = ModalHost(lambda: SubmitScreen(client, form))
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen))
            await pilot.press("enter")
            await wait_until(pilot, lambda: len(app.results) == 1, timeout=20)
        result = app.results[0]
        assert isinstance(result, SubmittedRun)
        info = await client.run_information("knapsack", result.run_id)
        assert info.metadata.format.input.type == kind
        assert list(scratch.iterdir()) == [], "the temporary archive is cleaned up"
    finally:
        await client.aclose()
