"""HTTP-level behaviour of the local service: auth, error statuses, uploads, logs, queue.

All against the real service subprocess over loopback (raw sockets only where httpx cannot
send the malformed request under test).
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import socket
import tarfile
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from nextmv.cloud.account import Queue  # type: ignore[import-untyped]

from tests.conftest import LocalService, module_service
from tests.service.helpers import (
    KNAPSACK_INPUT,
    NAPPER_APP,
    create_run,
    wait_status,
    wait_until,
)

RUNS = "/v1/applications/knapsack/runs"


@pytest.fixture
def held(make_local_service: Callable[..., LocalService]) -> LocalService:
    """A service whose runs stay queued (concurrency 0): API behaviour without executions.
    Its own store: for tests that assert the whole queue."""
    return make_local_service(concurrency=0)


SHARED = pytest.mark.xdist_group("api-shared")
"""Tests on the module's shared services: one worker runs them all, one after the other."""


@pytest.fixture(scope="module")
def shared_held(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """``held`` shared by the module's ``SHARED`` tests that look only at their own requests
    and runs (a service start is about a second; these tests are milliseconds)."""
    yield from module_service(tmp_path_factory, "api-held", concurrency=0)


@pytest.fixture(scope="module")
def shared_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """``local_service`` shared likewise: each test looks only at its own runs and apps."""
    yield from module_service(tmp_path_factory, "api-service")


# --- auth ----------------------------------------------------------------------------------


@SHARED
def test_auth_refusals(shared_service: LocalService) -> None:
    url = shared_service.endpoint
    assert httpx.get(url + "/healthz").status_code == 200  # no key needed
    no_scheme = {"Authorization": shared_service.api_key}
    for headers in ({}, {"Authorization": "Bearer wrong"}, no_scheme):
        for method, path in (
            ("GET", "/v1/account/queue"),
            ("GET", "/v1/applications/knapsack"),
            ("POST", RUNS),
            ("GET", RUNS + "/run-x/metadata"),
            ("PATCH", RUNS + "/run-x/cancel"),
        ):
            response = httpx.request(method, url + path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers)
            assert "API key" in response.json()["error"]
            assert shared_service.api_key not in response.text
    ok = httpx.get(url + "/v1/account/queue", headers=shared_service.headers)
    assert ok.status_code == 200


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"input": [1, 2]}', "input must be a JSON object"),
        (b'{"input": "text"}', "input must be a JSON object"),
        (b"{}", "no input"),
        (b'{"input": {"a": 1}, "upload_id": "u"}', "either input or upload_id"),
        (b'{"input": {}, "configuration": {"queuing": {"priority": 0}}}', "priority"),
        (b'{"input": {}, "configuration": {"format": {"input": {"type": "xml"}}}}', "xml"),
        (b'{"input": {}, "options": "nope"}', "options"),
        (b'{"input": {}, "configuration": {"execution_class": "gpu"}}', "this service runs local"),
        (b'{"input_id": "m-1"}', "not supported"),
        (b'{"input": {"a": NaN}}', "NaN is not valid JSON"),
        (b'{"input": {"b": -Infinity}}', "Infinity is not valid JSON"),
    ],
)
@SHARED
def test_bad_create_run_bodies_are_400(
    shared_held: LocalService, body: bytes, needle: str
) -> None:
    with shared_held.client() as client:
        before = client.get("/v1/account/queue").json()
        response = client.post(RUNS, content=body)
        assert response.status_code == 400, response.text
        assert needle in response.json()["error"]
        assert client.get("/v1/account/queue").json() == before, "nothing was queued"


@SHARED
@pytest.mark.parametrize(
    "body",
    [
        {"configuration": []},
        {"input": {}, "configuration": {"format": "json"}},
        {"input": {}, "configuration": {"format": {"input": "json"}}},
        {"input": {}, "configuration": {"format": {"input": {"type": 5}}}},
        {"input": {}, "configuration": {"queuing": {"priority": "high"}}},
        {"input": {}, "configuration": {"queuing": "yes"}},
        {"input": {}, "configuration": {"run_type": "x"}},
        {"input": {}, "configuration": {"execution_class": 7}},
        {"input": {}, "name": 5},
        {"input": {}, "options": {"a": None}},
        {"input": {}, "tracking": 3},
        {"upload_id": 12},
        {"upload_id": "../../etc/passwd"},
        {"input": None, "upload_id": None},
    ],
)
def test_odd_create_run_bodies_never_give_a_server_error(
    shared_held: LocalService, body: dict[str, Any]
) -> None:
    with shared_held.client() as client:
        response = client.post(RUNS, json=body)
    assert 400 <= response.status_code < 500 or response.status_code == 200, response.text
    assert "error" in response.json() or "run_id" in response.json()


@SHARED
def test_not_found_and_conflict_statuses(shared_service: LocalService) -> None:
    with shared_service.client() as client:
        assert client.get("/v1/applications/nope").status_code == 404
        assert client.post("/v1/applications/nope/runs", json={"input": {}}).status_code == 404
        response = client.get(RUNS + "/run-missing/metadata")
        assert response.status_code == 404
        assert "run-missing" in response.json()["error"]
        missing_upload = client.post(RUNS, json={"upload_id": "upload-nope"})
        assert missing_upload.status_code == 404
        assert client.get("/v1/nothing-here").status_code == 404
        assert "error" in client.get("/v1/nothing-here").json()

        run_id = create_run(client, "knapsack", {"input": KNAPSACK_INPUT})
        wait_status(client, "knapsack", run_id)
        response = client.patch(f"{RUNS}/{run_id}/cancel")
        assert response.status_code == 409
        assert "already succeeded" in response.json()["error"]
        # the run exists under its own app only
        assert client.get(f"/v1/applications/routing/runs/{run_id}/metadata").status_code == 404


@SHARED
def test_inline_input_over_5_mib_is_413_and_points_to_upload(shared_held: LocalService) -> None:
    big = {"items": [], "weight_capacity": 1, "pad": "x" * (5 * 1024 * 1024)}
    with shared_held.client() as client:
        response = client.post(RUNS, json={"input": big})
    assert response.status_code == 413
    assert "uploadurl" in response.json()["error"]


@SHARED
def test_queuing_disabled_on_a_full_class_is_429(shared_held: LocalService) -> None:
    body = {"input": {}, "configuration": {"queuing": {"priority": 2, "disabled": True}}}
    with shared_held.client() as client:
        response = client.post(RUNS, json=body)
        assert response.status_code == 429
        assert "queuing is disabled" in response.json()["error"]
        queued = client.post(RUNS, json={"input": {}, "configuration": {"queuing": {}}})
        assert queued.status_code == 200


@SHARED
def test_applications_create_and_get(shared_service: LocalService) -> None:
    with shared_service.client() as client:
        created = client.post("/v1/applications", json={"id": "my-app", "name": "My app"})
        assert created.status_code == 201
        assert created.json()["id"] == "my-app"
        assert client.get("/v1/applications/my-app").json()["name"] == "My app"
        again = client.post("/v1/applications", json={"id": "my-app", "name": "x"})
        assert again.status_code == 409
        bad = client.post("/v1/applications", json={"id": "a/b", "name": "x"})
        assert bad.status_code == 400
        assert client.post("/v1/applications", json={"id": 5}).status_code == 400
        ids = {app["id"] for app in client.get("/v1/applications").json()}
        assert {"knapsack", "routing", "my-app"} <= ids


# --- uploads ---------------------------------------------------------------------------------


def _upload(client: httpx.Client, data: bytes) -> str:
    grant = client.post(RUNS + "/uploadurl").json()
    put = httpx.put(grant["upload_url"], content=data)  # no Authorization header
    assert put.status_code == 200, put.text
    return str(grant["upload_id"])


@SHARED
def test_upload_flow_and_format_sniffing(shared_held: LocalService) -> None:
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("x.csv")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"a,b\n"))
    cases = [
        (json.dumps(KNAPSACK_INPUT).encode(), "json", "json"),
        (b"plain text, not JSON\n", "text", "json"),
        (tar_buffer.getvalue(), "multi-file", "multi-file"),
    ]
    with shared_held.client() as client:
        for data, input_type, output_type in cases:
            run_id = create_run(client, "knapsack", {"upload_id": _upload(client, data)})
            meta = client.get(f"{RUNS}/{run_id}/metadata").json()["metadata"]
            assert meta["format"] == {
                "input": {"type": input_type}, "output": {"type": output_type}
            }
            assert meta["input_size"] == len(data)
        text_run = create_run(client, "knapsack", {"upload_id": _upload(client, b"hello")})
        assert client.get(f"{RUNS}/{text_run}/input").json() == "hello"
        explicit = create_run(client, "knapsack", {
            "upload_id": _upload(client, b"{}"),
            "configuration": {"format": {"input": {"type": "text"}}},
        })
        meta = client.get(f"{RUNS}/{explicit}/metadata").json()["metadata"]
        assert meta["format"] == {"input": {"type": "text"}, "output": {"type": "json"}}
        not_tar = client.post(RUNS, json={
            "upload_id": _upload(client, b"{}"),
            "configuration": {"format": {"input": {"type": "multi-file"}}},
        })
        assert not_tar.status_code == 400
        assert "gzip" in not_tar.json()["error"]
        grant = client.post(RUNS + "/uploadurl").json()
        early = client.post(RUNS, json={"upload_id": grant["upload_id"]})
        assert early.status_code == 400
        assert "no data yet" in early.json()["error"]


@SHARED
def test_presigned_put_refusals(shared_held: LocalService) -> None:
    with shared_held.client() as client:
        grant = client.post(RUNS + "/uploadurl").json()
    url = grant["upload_url"]
    assert httpx.put(url.replace("token=", "token=x"), content=b"{}").status_code == 403

    def chunks() -> Iterator[bytes]:
        yield b"{}"

    chunked = httpx.put(url, content=chunks())
    assert chunked.status_code == 501
    assert "Content-Length" in chunked.json()["error"]

    # Declared 600 MB: refused from the headers alone, before any body byte.
    path = url.split("://", 1)[1].split("/", 1)[1]
    with socket.create_connection(("127.0.0.1", shared_held.port), timeout=10) as sock:
        sock.sendall(
            f"PUT /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Length: {600 * 1000 * 1000}\r\n\r\n".encode()
        )
        reply = ""
        while not reply.endswith("}"):
            chunk = sock.recv(4096).decode()
            if not chunk:
                break
            reply += chunk
    assert reply.startswith("HTTP/1.1 413"), reply
    assert "limit" in reply


# --- logs, queue, list, delete ---------------------------------------------------------------


def test_live_logs_since_token(make_local_service: Callable[..., LocalService]) -> None:
    service = make_local_service(app=[NAPPER_APP])
    path = "/v1/applications/napper/runs"
    with service.client() as client:
        run_id = create_run(client, "napper", {"input": {}, "options": {"duration": "1"}})
        seen: list[str] = []
        token: list[str] = []

        def poll_once() -> bool:
            params = {"since": token[-1]} if token else {}
            body = client.get(f"{path}/{run_id}/logs/live", params=params).json()
            assert body["next_available_in_seconds"] == 1
            assert body["status_v2"] in ("queued", "running", "succeeded")
            seen.extend(item["log"] for item in body["items"])
            token.append(body["next_page_token"])
            return bool(body["status_v2"] == "succeeded")

        wait_until(poll_once, timeout=60, interval=0.1, what="live logs to end")
        assert len(set(token)) > 2  # the token advanced while the run was logging
        full = client.get(f"{path}/{run_id}/logs").json()["log"].splitlines()
        assert seen == full  # every line exactly once, in order
        assert any(line.startswith("tick") for line in seen)
        for bad in ("x", "-1", "99999999999999999999999", "9223372036854775807", str(10**9)):
            response = client.get(f"{path}/{run_id}/logs/live", params={"since": bad})
            assert response.status_code == 400, (bad, response.text)


def test_account_queue_lists_queued_runs_of_all_apps(held: LocalService) -> None:
    with held.client() as client:
        low = create_run(client, "knapsack", {
            "input": {}, "name": "low", "configuration": {"queuing": {"priority": 9}}})
        high = create_run(client, "routing", {
            "input": {}, "name": "high", "configuration": {"queuing": {"priority": 1}}})
        body = client.get("/v1/account/queue").json()
    queue = Queue.from_dict(body)  # the SDK's own model must accept it
    assert [run.id for run in queue.runs] == [high, low]
    assert {run.application_id for run in queue.runs} == {"knapsack", "routing"}
    assert [run["queuing_priority"] for run in body["runs"]] == [1, 9]
    assert all(run["status_changed_at"].endswith("Z") for run in body["runs"])


def test_delete_removes_run_and_files(held: LocalService) -> None:
    with held.client() as client:
        run_id = create_run(client, "knapsack", {"input": KNAPSACK_INPUT})
        assert (held.data_dir / "runs" / run_id).is_dir()
        assert client.delete(f"{RUNS}/{run_id}").status_code == 200
        assert client.get(f"{RUNS}/{run_id}/metadata").status_code == 404
        assert not (held.data_dir / "runs" / run_id).exists()
        assert client.get("/v1/account/queue").json() == {"runs": []}


@SHARED
def test_output_and_input_routes(shared_service: LocalService) -> None:
    with shared_service.client() as client:
        run_id = create_run(client, "knapsack", {"input": KNAPSACK_INPUT})
        wait_status(client, "knapsack", run_id)
        output = client.get(f"{RUNS}/{run_id}/output").json()
        assert output["solution"]["value"] == 90
        url = client.get(f"{RUNS}/{run_id}/output", params={"format": "url"}).json()["url"]
        assert httpx.get(url).json() == output
        assert client.get(f"{RUNS}/{run_id}/input").json() == KNAPSACK_INPUT
        url = client.get(f"{RUNS}/{run_id}/input", params={"format": "url"}).json()["url"]
        assert httpx.get(url).json() == KNAPSACK_INPUT
        result = client.get(f"{RUNS}/{run_id}", params={"format": "url"}).json()
        assert set(result["output"]) == {"url"}

        failed = create_run(client, "knapsack", {"input": {"items": "nope", "weight_capacity": 1}})
        info = wait_status(client, "knapsack", failed)["metadata"]
        assert info["status_v2"] == "failed"
        assert "items" in info["error"]
        result = client.get(f"{RUNS}/{failed}").json()
        assert result["output"] is None
        assert result["error_log"]["error"] == info["error"]
        missing = client.get(f"{RUNS}/{failed}/output")
        assert missing.status_code == 404


@pytest.mark.slow(seconds=10)
async def test_1000_concurrent_creates_give_exactly_1000_runs(held: LocalService) -> None:
    limit = asyncio.Semaphore(50)

    async def one(client: httpx.AsyncClient, i: int) -> str:
        async with limit:
            response = await client.post(RUNS, json={"input": {"i": i}})
            assert response.status_code == 200, response.text
            return str(response.json()["run_id"])

    async with held.async_client(limits=httpx.Limits(max_connections=50)) as client:
        ids = await asyncio.gather(*(one(client, i) for i in range(1000)))
        queue = (await client.get("/v1/account/queue")).json()["runs"]
    assert len(set(ids)) == 1000
    assert {run["id"] for run in queue} == set(ids)


def test_gzip_helper_sanity() -> None:
    """The gzip magic the service sniffs is what gzip writes (guards the sniffing rule)."""
    assert gzip.compress(b"x")[:2] == b"\x1f\x8b"
