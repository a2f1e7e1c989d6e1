"""The launch-time queue prefetch against the REAL local service: the app's first queue comes
from it, and any failure falls back to the normal client poll."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from nextmv_tui.cloud import queue_reader as queue_reader_module
from nextmv_tui.cloud.errors import MalformedResponseError
from nextmv_tui.tui import collector
from nextmv_tui.tui.prefetch import QueuePrefetch
from nextmv_tui.tui.state import Change
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for, knapsack_request


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_first_queue_comes_from_the_prefetch(make_local_service):
    service = make_local_service(concurrency=0)
    async with client_for(service) as client:
        run_id = await client.create_run("knapsack", knapsack_request(name="early"))
    prefetch = QueuePrefetch.start(service.endpoint, service.api_key, True)
    assert prefetch is not None
    answer = prefetch.wait(10)
    assert answer is not None and answer[0] == 200 and run_id.encode() in answer[1]
    app = app_for(service, prefetch=prefetch)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: app.main.table.has_run(run_id), 10)
        assert app.settings.prefetch is None, "used once, then the client polls"
        await wait_until(pilot, lambda: app.queue.polls_completed >= 2, 10)


async def test_failed_prefetch_falls_back_to_the_client(local_service):
    dead = QueuePrefetch.start(f"http://127.0.0.1:{closed_port()}", "k", True)
    assert dead is not None and dead.wait(5) is None
    wrong_key = QueuePrefetch.start(local_service.endpoint, "wrong", True)
    assert wrong_key is not None
    answer = wrong_key.wait(10)
    assert answer is not None and answer[0] == 401
    app = app_for(local_service, prefetch=wrong_key)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: app.queue.connection == "online", 10)


def test_no_prefetch_through_a_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert QueuePrefetch.start("https://api.cloud.nextmv.io", "k", True) is None


async def test_first_rows_come_from_the_preview_and_validation_changes_none(
    make_local_service, monkeypatch
):
    """The prefetched answer is shown from the msgspec preview, then validated with pydantic
    and applied again: that second apply changes no row (nothing flickers) and makes the
    answer known to the reader (the next poll parses only what changed). Its models are
    all new objects, so they are frozen for the collector like the preview's rows."""
    service = make_local_service(concurrency=0)
    async with client_for(service) as client:
        run_ids = [await client.create_run("knapsack", knapsack_request(name=f"early {i}"))
                   for i in range(3)]
    prefetch = QueuePrefetch.start(service.endpoint, service.api_key, True)
    assert prefetch is not None and prefetch.wait(10) is not None
    app = app_for(service, prefetch=prefetch, refresh=30.0)
    applied: list[tuple[bool, Change]] = []
    real_apply = app.store.apply_queue

    def spy(snapshot: Any, token: int, now: Any) -> Change:
        change = real_apply(snapshot, token, now)
        applied.append((snapshot.provisional, change))
        return change

    app.store.apply_queue = spy  # type: ignore[method-assign]
    settled: list[tuple[str, int]] = []
    monkeypatch.setattr(collector, "settle", lambda count: settled.append(
        (sys._getframe(1).f_code.co_name, count)) or False)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: len(applied) >= 2 and app.queue.polls_completed >= 1,
                         10)
        assert ("_queue_applied", len(run_ids)) in settled, settled
        (first_preview, first), (second_preview, second) = applied[:2]
        assert first_preview and set(run_ids) <= set(first.added)
        assert not second_preview, "then the validated snapshot of the same answer"
        assert not (second.added or second.changed or second.removed), second
        assert all(app.main.table.has_run(run_id) for run_id in run_ids)
        assert app.queue_reader._known, "the validated answer was committed"
        assert app.queue.connection == "online"


class _OneAnswer(BaseHTTPRequestHandler):
    """A queue answer the real service cannot give (a fault injected on purpose)."""

    answer = b""

    def do_GET(self) -> None:
        found = self.path.endswith("/v1/account/queue")
        payload = self.answer if found else b'{"error": "not here"}'
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(entries: list[dict[str, Any]]) -> Iterator[str]:
    handler = type("Answer", (_OneAnswer,), {"answer": json.dumps({"runs": entries}).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def three_runs(**bad: Any) -> list[dict[str, Any]]:
    entries = [{"id": f"r{i}", "created_at": "2026-01-01T00:00:00Z", "status_v2": "queued"}
               for i in range(3)]
    entries[1].update(bad)
    return entries


async def first_answer_fails(endpoint: str, field: str) -> None:
    prefetch = QueuePrefetch.start(endpoint, "k", True)
    assert prefetch is not None and prefetch.wait(10) is not None
    service = SimpleNamespace(endpoint=endpoint, api_key="k", verify=True, transport=None)
    app = app_for(service, prefetch=prefetch, refresh=30.0)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: field in app.main.problem, 10)
        assert app.queue.connection == "error"
        assert len(app.store) == 0, "no row from an answer that does not validate"
        assert not any(app.main.table.has_run(f"r{i}") for i in range(3))


@pytest.mark.parametrize("bad", [{"queuing_priority": "high"}, {"created_at": "yesterday"}])
async def test_a_malformed_first_answer_still_names_the_field(bad):
    """The preview does not take it; pydantic names the field, as before the preview."""
    with serving(three_runs(**bad)) as endpoint:
        await first_answer_fails(endpoint, f"runs.1.{next(iter(bad))}")


async def test_a_previewed_answer_that_fails_validation_is_withdrawn(monkeypatch):
    """If pydantic ever rejected an answer the preview took (the two are meant to agree;
    forced here by patching the validation step), its rows go and the error is shown."""
    real = queue_reader_module._validate

    def reject_r1(model: Any, raw: bytes, label: str, index: int) -> Any:
        if index == 1:
            raise MalformedResponseError(label, "runs.1.name", "rejected on purpose")
        return real(model, raw, label, index)

    monkeypatch.setattr(queue_reader_module, "_validate", reject_r1)
    with serving(three_runs()) as endpoint:
        await first_answer_fails(endpoint, "runs.1.name")
