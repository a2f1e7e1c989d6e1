"""The launch-time queue prefetch against the REAL local service: the app's first queue comes
from it, and any failure falls back to the normal client poll."""

from __future__ import annotations

import socket

from nextmv_tui.tui.prefetch import QueuePrefetch
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
