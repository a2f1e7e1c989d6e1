"""NextmvClient against the REAL local service (a ``nextmv-tui serve`` subprocess on loopback)."""

from __future__ import annotations

import contextlib
import json
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from nextmv_tui.cloud import packaging
from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.config import ClientConfig, resolve_config
from nextmv_tui.cloud.errors import AuthError, NotCancelableError, NotFoundError
from nextmv_tui.cloud.models import CreateRunRequest, RunInformation
from nextmv_tui.cloud.packaging import package_input
from nextmv_tui.cloud.polling import PollingOptions, poll_until_final
from nextmv_tui.cloud.retry import RetryPolicy
from nextmv_tui.cloud.status import RunStatus

APP = "knapsack"
ITEMS = {
    "items": [
        {"id": "a", "value": 10, "weight": 5},
        {"id": "b", "value": 40, "weight": 4},
        {"id": "c", "value": 30, "weight": 6},
        {"id": "d", "value": 50, "weight": 3},
    ],
    "weight_capacity": 10,
}
FAST = PollingOptions(
    initial_delay=0, delay=0.05, backoff=0.0, jitter=0.0, max_delay=0.2, max_duration=60
)


def client_for(service, **kwargs) -> NextmvClient:
    config = ClientConfig(service.endpoint, service.api_key, verify=service.verify)
    return NextmvClient(config, **kwargs)


async def wait_final(client: NextmvClient, run_id: str) -> RunInformation:
    """Poll until the run is final (condition with a 60 s deadline, no fixed sleeps)."""
    final = await poll_until_final(lambda: client.run_information(APP, run_id), FAST)
    assert final is not None
    return final


async def wait_status(client: NextmvClient, run_id: str, status: RunStatus) -> None:
    async def fetch() -> RunInformation:
        return await client.run_information(APP, run_id)

    seen = await poll_until_final(fetch, FAST)
    assert seen is not None and seen.status is status


async def test_inline_run_result_logs_and_output(local_service, tmp_path: Path):
    path = tmp_path / "in.json"
    path.write_text(json.dumps(ITEMS))
    async with client_for(local_service) as client:
        request = CreateRunRequest(name="live inline", options={"duration": 5})
        run_id = await client.submit(APP, package_input(path), request)
        final = await wait_final(client, run_id)
        assert final.status is RunStatus.SUCCEEDED, final.metadata.error
        assert final.name == "live inline"
        assert final.metadata.format.input.type == "json"

        result = await client.run_result(APP, run_id)
        assert result.output is not None
        assert result.output["solution"]["value"] == 90

        saved = await client.save_output(APP, run_id, tmp_path)
        assert json.loads(saved.read_text())["solution"]["value"] == 90

        assert await client.run_input(APP, run_id) == ITEMS
        assert isinstance(await client.logs(APP, run_id), str)

        live = await client.live_logs(APP, run_id)
        assert live.status_v2 is RunStatus.SUCCEEDED
        collected = list(live.items)
        if live.next_page_token:
            more = await client.live_logs(APP, run_id, since=live.next_page_token)
            collected += more.items
        full = await client.logs(APP, run_id)
        assert "".join(item.log for item in collected).replace("\n", "") == full.replace("\n", "")

        with pytest.raises(NotFoundError):
            await client.run_information(APP, "no-such-run")


async def test_submit_through_upload(local_service, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(packaging, "MAX_INLINE_BYTES", 10)  # force the upload flow
    path = tmp_path / "in.json"
    path.write_text(json.dumps(ITEMS, indent=2))
    package = package_input(path)
    assert package.needs_upload
    progress: list[tuple[int, int]] = []
    async with client_for(local_service) as client:
        run_id = await client.submit(
            APP, package, CreateRunRequest(), progress=lambda a, b: progress.append((a, b))
        )
        final = await wait_final(client, run_id)
        assert final.status is RunStatus.SUCCEEDED, final.metadata.error
        assert progress[-1] == (package.size, package.size)
        result = await client.run_result(APP, run_id)
        assert result.output is not None and result.output["solution"]["value"] == 90


async def test_queue_list_pagination_and_cancel(make_local_service):
    service = make_local_service(concurrency=0)  # every run stays queued
    async with client_for(service) as client:
        # One more run than the service's page size (100), so listing takes two pages.
        created = [
            await client.create_run(APP, CreateRunRequest(input=ITEMS, name=f"q{i}"))
            for i in range(101)
        ]
        queue = await client.account_queue()
        queued = {run.id: run for run in queue}
        assert set(created) <= set(queued)
        assert all(queued[r].status_v2 is RunStatus.QUEUED for r in created)
        assert queued[created[0]].application_id == APP

        first = await client.list_runs(APP)
        assert first.next_page_token and 0 < len(first.runs) < len(created)
        second = await client.list_runs(APP, first.next_page_token)
        assert {r.id for r in first.runs}.isdisjoint(r.id for r in second.runs)
        listed = [run.id async for run in client.iter_runs(APP)]
        assert len(listed) == len(set(listed)) == len(created)
        assert set(listed) == set(created)

        await client.cancel_run(APP, created[0])
        await wait_status(client, created[0], RunStatus.CANCELED)
        with pytest.raises(NotCancelableError):
            await client.cancel_run(APP, created[0])
        assert created[0] not in {run.id for run in await client.account_queue()}


async def test_wrong_key_is_an_auth_error(local_service):
    config = ClientConfig(local_service.endpoint, "wrong-key-123")
    async with NextmvClient(config, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(AuthError) as info:
            await client.account_queue()
    assert "wrong-key-123" not in str(info.value)


def start_tls_service(make_local_service: Any) -> Any:
    """Start a TLS service; tolerate the fixture probing before the certificate is written."""
    service = make_local_service(tls=True, start=False)
    try:
        service.start()
    except FileNotFoundError:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError, httpx.HTTPError):
                context = ssl.create_default_context(cafile=str(service.cert))
                if httpx.get(service.endpoint + "/healthz", verify=context).is_success:
                    break
            assert time.monotonic() < deadline, service.log()
            time.sleep(0.05)
    return service


async def test_tls_with_ca_bundle_from_env(make_local_service, tmp_path: Path):
    service = start_tls_service(make_local_service)
    env = {"REQUESTS_CA_BUNDLE": str(service.cert), "NEXTMV_API_KEY": service.api_key}
    endpoint = service.endpoint.removeprefix("https://")  # bare host:port gets https://
    config = resolve_config(endpoint=endpoint, home=tmp_path, environ=env)
    async with NextmvClient(config) as client:
        assert isinstance(await client.account_queue(), list)
