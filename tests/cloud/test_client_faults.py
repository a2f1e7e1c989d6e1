"""Client behaviour under faults a real server cannot produce on demand.

Every test here uses ``httpx.MockTransport`` to inject a fault (connection reset before or
after sending, malformed bodies, 429/503 sequences, read timeouts) or to inspect the exact
request bytes (upload headers). The happy paths against the real local service live in
``test_client_live.py``. ``test_real_stall_times_out`` uses a real loopback socket.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import itertools
import json
import tarfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from nextmv_tui.cloud.client import CHUNK_SIZE, NextmvClient
from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.errors import (
    AuthError,
    ConnectionLostError,
    InputError,
    MalformedResponseError,
    NextmvError,
    NotCancelableError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
)
from nextmv_tui.cloud.models import CreateRunRequest, Format, FormatInput, RunConfiguration
from nextmv_tui.cloud.packaging import package_input
from nextmv_tui.cloud.retry import RetryPolicy

ENDPOINT = "http://nextmv.test:8080"
KEY = "super-secret-key"
Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def meta(status: str = "succeeded", output: str = "json", size: int = 10) -> dict[str, Any]:
    return {
        "id": "run-1",
        "name": "",
        "description": "",
        "user_email": "",
        "metadata": {
            "application_id": "app",
            "application_instance_id": "",
            "application_version_id": "",
            "created_at": "2024-01-01T00:00:00Z",
            "duration": 0,
            "error": "",
            "format": {"input": {"type": "json"}, "output": {"type": output}},
            "input_size": 1,
            "output_size": size,
            "status_v2": status,
            "run_type": {"type": "standard"},
        },
    }


class FakeServer:
    """Routes ``METHOD path`` to a list of replies consumed in order; the last one repeats."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self.routes[f"{method} {path}"] = list(replies)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.path == path)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = b""
        async for chunk in request.stream:  # type: ignore[union-attr]
            body += chunk
        self.bodies.append(body)
        key = f"{request.method} {request.url.path}"
        replies = self.routes.get(key)
        if not replies:
            return httpx.Response(404, json={"error": f"no route {key}"})
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(server: FakeServer, sleeps: Sleeps):
    policy = RetryPolicy(max_attempts=4, sleep=sleeps, rng=lambda: 0.0)
    async with NextmvClient(
        ClientConfig(ENDPOINT, KEY), retry=policy, transport=httpx.MockTransport(server.handle)
    ) as c:
        yield c


def queue_body() -> dict[str, Any]:
    return {"runs": [{"id": "r1", "created_at": "2024-01-01T00:00:00Z", "status_v2": "queued"}]}


def reset() -> httpx.ReadError:
    return httpx.ReadError("Connection reset by peer")


class Body(httpx.AsyncByteStream):
    """A response body delivered in small chunks, as a real socket would."""

    def __init__(self, data: bytes, chunk: int = 1000) -> None:
        self.data = data
        self.chunk = chunk

    async def __aiter__(self):
        for start in range(0, len(self.data), self.chunk):
            yield self.data[start : start + self.chunk]


class BrokenStream(httpx.AsyncByteStream):
    """A body that dies half-way (connection reset while reading)."""

    async def __aiter__(self):
        yield b'{"runs": ['
        raise httpx.ReadError("Connection reset by peer")


QUEUE = "/v1/account/queue"
RUNS = "/v1/applications/app/runs"
RUN = f"{RUNS}/run-1"


async def test_api_requests_carry_auth_and_json_content_type(client, server):
    server.on("GET", QUEUE, httpx.Response(200, json=queue_body()))
    runs = await client.account_queue()
    assert [r.id for r in runs] == ["r1"]
    headers = server.requests[0].headers
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["Content-Type"] == "application/json"


async def test_get_retried_after_connection_reset(client, server, sleeps):
    ok = httpx.Response(200, json=queue_body())
    server.on("GET", QUEUE, reset(), httpx.ConnectError("refused"), ok)
    assert len(await client.account_queue()) == 1
    assert server.count("GET", QUEUE) == 3
    assert sleeps.calls == [0.5, 1.0]


async def test_get_retried_after_body_cut_mid_stream(client, server):
    server.on(
        "GET",
        QUEUE,
        httpx.Response(200, stream=BrokenStream()),
        httpx.Response(200, json=queue_body()),
    )
    assert len(await client.account_queue()) == 1
    assert server.count("GET", QUEUE) == 2


async def test_queue_snapshot_joins_and_reads_the_body_in_steps(client, server, monkeypatch):
    """The queue's body reaches the reader as its pieces, joined in a step of the reader's
    (at 50,000 runs the join alone is an 18 MB copy; httpx's ``aread`` would do it in one
    go on the loop), and a body cut mid-stream is read again from the start: nothing of
    the first attempt is kept."""
    from nextmv_tui.cloud.queue_reader import QueueReader

    runs = [{"id": f"r{i}", "created_at": "2024-01-01T00:00:00Z", "status_v2": "queued"}
            for i in range(300)]
    body = json.dumps({"runs": runs}).encode()
    server.on("GET", QUEUE, httpx.Response(200, stream=BrokenStream()),
              httpx.Response(200, stream=Body(body, chunk=997)))
    seen: list[bytes] = []
    read_steps = QueueReader.read_steps

    def recording_steps(self, data, label="GET v1/account/queue"):
        assert isinstance(data, list), "the pieces, not a body joined beforehand"
        seen.append(b"".join(data))
        return read_steps(self, data, label)

    async def no_aread(self):  # httpx's aread joins the whole body on the event loop
        raise AssertionError("the queue body was read whole on the loop")

    monkeypatch.setattr(QueueReader, "read_steps", recording_steps)
    monkeypatch.setattr(httpx.Response, "aread", no_aread)
    snapshot = await client.account_queue_snapshot(QueueReader())
    assert snapshot.ids == [f"r{i}" for i in range(300)] == list(snapshot.entries)
    assert server.count("GET", QUEUE) == 2
    assert seen == [body], "exactly the second attempt's body, whole"


async def test_connection_lost_names_endpoint_after_retries(client, server):
    server.on("GET", QUEUE, reset())
    with pytest.raises(ConnectionLostError, match=r"nextmv\.test:8080") as info:
        await client.account_queue()
    assert server.count("GET", QUEUE) == 4
    assert KEY not in str(info.value)


async def test_malformed_json_names_endpoint(client, server):
    server.on("GET", QUEUE, httpx.Response(200, content=b"<html>oops</html>"))
    with pytest.raises(MalformedResponseError) as info:
        await client.account_queue()
    assert info.value.endpoint == "GET /v1/account/queue"
    assert info.value.field == "(body)"


async def test_missing_field_names_the_dotted_path(client, server):
    server.on("GET", QUEUE, httpx.Response(200, json={"runs": [{"id": "r1"}]}))
    with pytest.raises(MalformedResponseError, match=r"field 'runs\.0\.created_at'") as info:
        await client.account_queue()
    assert info.value.field == "runs.0.created_at"


async def test_429_honours_retry_after(client, server, sleeps):
    server.on(
        "GET",
        QUEUE,
        httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "slow down"}),
        httpx.Response(200, json=queue_body()),
    )
    await client.account_queue()
    assert sleeps.calls == [7.0]


async def test_429_with_a_long_retry_after_fails_at_once(client, server, sleeps):
    server.on("GET", QUEUE, httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimitedError) as info:
        await client.account_queue()
    assert info.value.retry_after == 3600
    assert sleeps.calls == []


async def test_503_retried_with_backoff_then_server_error(client, server, sleeps):
    server.on("GET", QUEUE, httpx.Response(503, text="down"))
    with pytest.raises(ServerError, match=r"server error \(503\): down"):
        await client.account_queue()
    assert server.count("GET", QUEUE) == 4
    assert sleeps.calls == [0.5, 1.0, 2.0]


async def test_500_on_get_is_not_retried(client, server):
    server.on("GET", QUEUE, httpx.Response(500, json={"error": "boom"}))
    with pytest.raises(ServerError, match="boom"):
        await client.account_queue()
    assert server.count("GET", QUEUE) == 1


async def test_read_timeout_on_get_is_retried_then_reported(client, server):
    server.on("GET", QUEUE, httpx.ReadTimeout("stalled"))
    with pytest.raises(RequestTimeoutError, match="timed out after 20 s"):
        await client.account_queue()
    assert server.count("GET", QUEUE) == 4


async def test_auth_and_not_found_errors(client, server):
    server.on("GET", QUEUE, httpx.Response(401, json={"error": "bad key"}))
    with pytest.raises(AuthError, match="API key rejected") as info:
        await client.account_queue()
    assert KEY not in str(info.value)
    server.on("GET", f"{RUN}/metadata", httpx.Response(404, json={"error": "run not found"}))
    with pytest.raises(NotFoundError, match="run not found"):
        await client.run_information("app", "run-1")


async def test_create_run_not_repeated_after_server_error(client, server):
    server.on("POST", RUNS, httpx.Response(500), httpx.Response(200, json={"run_id": "r2"}))
    with pytest.raises(ServerError):
        await client.create_run("app", CreateRunRequest(input={"a": 1}))
    assert server.count("POST", RUNS) == 1


@pytest.mark.parametrize("status", [502, 503, 504, 429])
async def test_create_run_not_repeated_after_retryable_status(client, server, status):
    server.on("POST", RUNS, httpx.Response(status, headers={"Retry-After": "1"}))
    with pytest.raises(NextmvError):
        await client.create_run("app", CreateRunRequest(input={"a": 1}))
    assert server.count("POST", RUNS) == 1


@pytest.mark.parametrize(
    "fault",
    [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("Server disconnected"), reset()],
)
async def test_create_run_not_repeated_after_request_was_sent(client, server, fault):
    server.on("POST", RUNS, fault, httpx.Response(200, json={"run_id": "r2"}))
    with pytest.raises((RequestTimeoutError, ConnectionLostError)):
        await client.create_run("app", CreateRunRequest(input={"a": 1}))
    assert server.count("POST", RUNS) == 1


async def test_create_run_repeated_after_connect_error(client, server):
    server.on(
        "POST",
        RUNS,
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("no SYN-ACK"),
        httpx.Response(200, json={"run_id": "run-9"}),
    )
    run_id = await client.create_run("app", CreateRunRequest(input={"a": 1}), instance_id="i1")
    assert run_id == "run-9"
    assert server.count("POST", RUNS) == 3
    last = server.requests[-1]
    assert last.url.params["instance_id"] == "i1"
    assert json.loads(server.bodies[-1]) == {"input": {"a": 1}, "configuration": {}}


async def test_cancel_finished_run_is_not_cancelable(client, server):
    server.on("PATCH", f"{RUN}/cancel", httpx.Response(409, json={"error": "run is final"}))
    with pytest.raises(NotCancelableError, match="run-1 cannot be canceled"):
        await client.cancel_run("app", "run-1")
    assert server.count("PATCH", f"{RUN}/cancel") == 1


async def test_upload_streams_with_content_length_and_no_auth(client, server, tmp_path):
    path = tmp_path / "big.txt"
    data = (b"0123456789abcdef" * 65536) * 3  # 3 MiB: several chunks
    path.write_bytes(data)
    url = "http://store.test/bucket/u1?X-Sig=abc"
    server.on("PUT", "/bucket/u1", httpx.Response(503), httpx.Response(200))
    progress: list[tuple[int, int]] = []
    await client.upload(url, path, lambda sent, total: progress.append((sent, total)))
    assert server.count("PUT", "/bucket/u1") == 2  # retried from the start
    request = server.requests[-1]
    assert request.headers["Content-Length"] == str(len(data))
    assert "Transfer-Encoding" not in request.headers
    assert "Authorization" not in request.headers
    assert request.url.params["X-Sig"] == "abc"
    assert server.bodies[-1] == data
    # Read from disk chunk by chunk (MockTransport buffers the body, so look at progress).
    steps = [b[0] - a[0] for a, b in itertools.pairwise(progress) if b[0] > a[0]]
    assert steps and max(steps) <= CHUNK_SIZE
    assert progress[-1] == (len(data), len(data))


async def test_upload_on_the_wire_is_not_chunked(tmp_path):
    """A real loopback socket sees the exact request head: Content-Length, no chunking."""
    data = b"z" * (CHUNK_SIZE * 2 + 17)
    path = tmp_path / "in.tar.gz"
    path.write_bytes(data)
    seen: dict[str, object] = {}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        body = await reader.readexactly(int(headers["content-length"]))
        seen.update(request_line=lines[0], headers=headers, body=body)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        async with NextmvClient(ClientConfig("http://api.invalid", KEY)) as c:
            await c.upload(f"http://127.0.0.1:{port}/up/1?sig=x", path)
    finally:
        srv.close()
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert seen["request_line"] == "PUT /up/1?sig=x HTTP/1.1"
    assert headers["content-length"] == str(len(data))
    assert "transfer-encoding" not in headers
    assert "authorization" not in headers
    assert seen["body"] == data


async def test_upload_of_a_file_that_grows_is_refused(client, server, tmp_path, monkeypatch):
    path = tmp_path / "grow.txt"
    path.write_bytes(b"x" * 10)
    real_stat = Path.stat

    def small_stat(self, *args, **kwargs):
        result = real_stat(self, *args, **kwargs)
        if self == path:
            return type(result)((result[0], *result[1:6], 5, *result[7:]))
        return result

    monkeypatch.setattr(Path, "stat", small_stat)
    server.on("PUT", "/u", httpx.Response(200))
    with pytest.raises(InputError, match="changed size"):
        await client.upload("http://store.test/u", path)


async def test_submit_inline_sets_json_format(client, server, tmp_path):
    path = tmp_path / "in.json"
    path.write_text('{"items": [1]}')
    server.on("POST", RUNS, httpx.Response(200, json={"run_id": "run-1"}))
    run_id = await client.submit("app", package_input(path), CreateRunRequest(name="n"))
    assert run_id == "run-1"
    body = json.loads(server.bodies[-1])
    assert body["input"] == {"items": [1]} and body["name"] == "n"
    fmt = {"input": {"type": "json"}, "output": {"type": "json"}}
    assert body["configuration"]["format"] == fmt
    assert server.count("POST", f"{RUNS}/uploadurl") == 0


async def test_submit_upload_flow_keeps_an_explicit_format(client, server, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("hello")
    server.on(
        "POST",
        f"{RUNS}/uploadurl",
        httpx.Response(200, json={"upload_id": "up-1", "upload_url": "http://store.test/up-1"}),
    )
    server.on("PUT", "/up-1", httpx.Response(200))
    server.on("POST", RUNS, httpx.Response(200, json={"run_id": "run-2"}))
    assert await client.submit("app", package_input(path), CreateRunRequest()) == "run-2"
    body = json.loads(server.bodies[-1])
    assert body["upload_id"] == "up-1" and "input" not in body
    fmt = {"input": {"type": "text"}, "output": {"type": "json"}}
    assert body["configuration"]["format"] == fmt
    assert server.bodies[-2] == b"hello"
    explicit = RunConfiguration(format=Format(input=FormatInput(type="json")))
    await client.submit("app", package_input(path), CreateRunRequest(configuration=explicit))
    body = json.loads(server.bodies[-1])
    assert body["configuration"]["format"]["input"] == {"type": "json"}


async def test_run_result_uses_format_url_for_non_json(client, server):
    server.on("GET", f"{RUN}/metadata", httpx.Response(200, json=meta(output="multi-file")))
    url_result = {**meta(output="multi-file"), "output": {"url": "u"}}
    server.on("GET", RUN, httpx.Response(200, json=url_result))
    result = await client.run_result("app", "run-1")
    assert result.output is None
    assert server.requests[-1].url.params["format"] == "url"
    server.on("GET", f"{RUN}/metadata", httpx.Response(200, json=meta()))
    server.on("GET", RUN, httpx.Response(200, json={**meta(), "output": {"v": 1}}))
    assert (await client.run_result("app", "run-1")).output == {"v": 1}
    assert "format" not in server.requests[-1].url.params


def _tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("solution.csv")
        info.size = 4
        archive.addfile(info, io.BytesIO(b"1,2\n"))
    return buffer.getvalue()


async def test_save_output_downloads_multi_file_without_auth(client, server, tmp_path):
    payload = _tar_bytes()
    server.on("GET", f"{RUN}/metadata", httpx.Response(200, json=meta(output="multi-file")))
    server.on("GET", f"{RUN}/output", httpx.Response(200, json={"url": "http://store.test/o/1"}))
    server.on(
        "GET",
        "/o/1",
        reset(),
        httpx.Response(200, stream=Body(payload), headers={"Content-Type": "application/gzip"}),
    )
    progress: list[tuple[int, int]] = []
    target = await client.save_output(
        "app", "run-1", tmp_path, lambda a, b: progress.append((a, b))
    )
    assert target == tmp_path / "run-1-output.tar.gz"
    assert target.read_bytes() == payload
    download = server.requests[-1]
    assert "Authorization" not in download.headers
    assert progress[-1][0] == len(payload)
    assert [p.name for p in tmp_path.iterdir()] == ["run-1-output.tar.gz"]


async def test_save_output_refuses_a_non_gzip_download(client, server, tmp_path):
    server.on("GET", f"{RUN}/metadata", httpx.Response(200, json=meta(output="multi-file")))
    server.on("GET", f"{RUN}/output", httpx.Response(200, json={"url": "http://store.test/o/2"}))
    server.on("GET", "/o/2", httpx.Response(200, stream=Body(b"<html>expired</html>")))
    with pytest.raises(MalformedResponseError, match="gzip"):
        await client.save_output("app", "run-1", tmp_path / "out.tar.gz")
    assert list(tmp_path.iterdir()) == []


async def test_save_output_inline_json_is_pretty(client, server, tmp_path):
    server.on("GET", f"{RUN}/metadata", httpx.Response(200, json=meta()))
    server.on("GET", RUN, httpx.Response(200, json={**meta(), "output": {"v": [1, 2]}}))
    target = await client.save_output("app", "run-1", tmp_path / "out.json")
    assert json.loads(target.read_text()) == {"v": [1, 2]}
    assert "\n  " in target.read_text()


async def test_save_output_of_unfinished_run_is_refused(client, server, tmp_path):
    server.on("GET", f"{RUN}/metadata", httpx.Response(200, json=meta(status="running")))
    with pytest.raises(NextmvError, match="status is running"):
        await client.save_output("app", "run-1", tmp_path / "o.json")


async def test_large_json_output_streams_through_url(client, server, tmp_path):
    big = {"v": "x" * 100}
    server.on("GET", f"{RUN}/metadata", httpx.Response(200, json=meta(size=6 * 1024 * 1024)))
    server.on("GET", f"{RUN}/output", httpx.Response(200, json={"url": "http://store.test/o/3"}))
    server.on(
        "GET", "/o/3", httpx.Response(200, content=gzip.compress(json.dumps(big).encode()),
                                      headers={"Content-Encoding": "gzip"})
    )
    target = await client.save_output("app", "run-1", tmp_path / "o.json")
    assert json.loads(target.read_text()) == big


async def test_iter_runs_follows_page_tokens(client, server):
    def page(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("pagetoken")
        assert request.url.params["pagereturn"] == "true"
        run = {"id": f"r-{token or 0}", "created_at": "2024-01-01T00:00:00Z"}
        nxt = {None: "t1", "t1": "t2", "t2": ""}[token]
        return httpx.Response(200, json={"runs": [run], "next_page_token": nxt})

    server.on("GET", RUNS, page)
    ids = [run.id async for run in client.iter_runs("app")]
    assert ids == ["r-0", "r-t1", "r-t2"]


async def test_iter_runs_stops_on_a_repeated_token(client, server):
    server.on("GET", RUNS, httpx.Response(200, json={"runs": [], "next_page_token": "same"}))
    assert [run async for run in client.iter_runs("app")] == []
    assert server.count("GET", RUNS) == 2


async def test_live_logs_sends_since(client, server):
    body = {
        "items": [{"timestamp": "2024-01-01T00:00:00Z", "log": "hi"}],
        "status_v2": "running",
        "next_available_in_seconds": 1,
        "next_page_token": "42",
    }
    server.on("GET", f"{RUN}/logs/live", httpx.Response(200, json=body))
    logs = await client.live_logs("app", "run-1", since="10")
    assert server.requests[-1].url.params["since"] == "10"
    assert logs.next_page_token == "42" and logs.items[0].log == "hi"


async def test_real_stall_times_out():
    """A real loopback server that accepts and never answers: the read timeout fires."""
    accepted = asyncio.Event()

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await reader.read(65536)
        await asyncio.sleep(3600)

    srv = await asyncio.start_server(stall, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        config = ClientConfig(f"http://127.0.0.1:{port}", KEY)
        async with NextmvClient(config, timeout=0.2, retry=RetryPolicy(max_attempts=1)) as c:
            with pytest.raises(RequestTimeoutError, match=f"127.0.0.1:{port}"):
                await c.account_queue()
        # The server saw the connection. Waited for, not asserted at once: its handler runs
        # on this same loop and, on a loaded machine, may start only after the 0.2 s timeout
        # (a CI run failed on an immediate check).
        await asyncio.wait_for(accepted.wait(), 10)
    finally:
        srv.close()


async def test_connection_refused_on_a_real_port():
    """Nothing listens on the port: a ConnectionLostError naming the endpoint."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = ClientConfig(f"http://127.0.0.1:{port}", KEY)
    async with NextmvClient(config, retry=RetryPolicy(max_attempts=1)) as c:
        with pytest.raises(ConnectionLostError, match=f"could not connect to http://127.0.0.1:{port}"):
            await c.account_queue()


async def test_undecodable_body_is_malformed_not_a_crash(client, server):
    gzip_header = {"Content-Encoding": "gzip"}
    server.on("GET", QUEUE, httpx.Response(200, stream=Body(b"not gzip"), headers=gzip_header))
    with pytest.raises(MalformedResponseError, match="could not be decoded"):
        await client.account_queue()


async def test_bad_presigned_url_fails_at_once(tmp_path):
    """A real transport refuses the scheme; no retry loop, one clear error."""
    path = tmp_path / "x.txt"
    path.write_text("x")
    sleeps = Sleeps()
    policy = RetryPolicy(sleep=sleeps)
    async with NextmvClient(ClientConfig(ENDPOINT, KEY), retry=policy) as real:
        with pytest.raises(ConnectionLostError, match="invalid URL"):
            await real.upload("ftp://store.test/u", path)
    assert sleeps.calls == []


async def test_expired_presigned_url_hides_the_signature(client, server, tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("x")
    server.on("PUT", "/u", httpx.Response(403, text="Request has expired"))
    with pytest.raises(AuthError) as info:
        await client.upload("http://store.test/u?X-Amz-Signature=deadbeef", path)
    assert "deadbeef" not in str(info.value)
    assert "http://store.test/u" in str(info.value) and "expired" in str(info.value)


async def test_list_applications_follows_tokens_and_reads_a_bare_list(client, server):
    def page(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("pagetoken")
        assert request.url.params["pagereturn"] == "true"
        items = {None: [{"id": "a"}, {"id": "b", "name": None}], "t1": [{"id": "b"}, {"id": "c"}],
                 "t2": [{"id": "d"}]}[token]
        nxt = {None: "t1", "t1": "t2", "t2": "t1"}[token]  # ends on a repeated token
        return httpx.Response(200, json={"items": items, "next_page_token": nxt})

    server.on("GET", "/v1/applications", page)
    assert [app.id for app in await client.list_applications()] == ["a", "b", "c", "d"]
    assert server.count("GET", "/v1/applications") == 3
    server.on("GET", "/v1/applications", httpx.Response(200, json=[{"id": "x"}]))
    assert [app.id for app in await client.list_applications()] == ["x"]


def _run_item(run_id: str, minute: int, **extra: Any) -> dict[str, Any]:
    return {"id": run_id, "created_at": f"2024-01-01T00:{minute:02d}:00Z", **extra}


async def test_recent_runs_stops_at_the_age_and_count_bounds(client, server):
    pages = {
        None: ([_run_item(f"r{m}", m) for m in (59, 58, 57)], "p2"),
        "p2": ([_run_item(f"r{m}", m) for m in (56, 55, 54)], "p3"),
        "p3": ([_run_item(f"r{m}", m) for m in (53, 52, 51)], "p4"),
    }

    def page(request: httpx.Request) -> httpx.Response:
        runs, nxt = pages[request.url.params.get("pagetoken")]
        return httpx.Response(200, json={"runs": runs, "next_page_token": nxt})

    server.on("GET", RUNS, page)
    since = datetime(2024, 1, 1, 0, 55, tzinfo=timezone.utc)
    got = [[r.id for r in p] async for p in client.recent_runs("app", created_after=since)]
    assert got == [["r59", "r58", "r57"], ["r56", "r55"]]
    assert server.count("GET", RUNS) == 2  # the page that went below the bound was the last
    got = [[r.id for r in p] async for p in client.recent_runs("app", max_runs=4)]
    assert got == [["r59", "r58", "r57"], ["r56"]]
    assert server.count("GET", RUNS) == 4
    naive = datetime(2024, 1, 1, 0, 58)  # naive datetimes are UTC, like the models'
    assert [r.id async for p in client.recent_runs("app", created_after=naive) for r in p] == [
        "r59", "r58"]


async def test_run_list_items_tolerate_nulls_and_odd_indicators(client, server):
    item = _run_item(
        "r1", 1, name=None, user_email=None, run_type=None, status_v2="brand-new",
        statistics={"status": "success", "indicators": [
            {"name": "result.value", "value": 12.5}, {"value": 3}, "junk", None]},
    )
    server.on("GET", RUNS, httpx.Response(200, json={"runs": [item]}))
    (run,) = (await client.list_runs("app")).runs
    assert run.name == "" and run.status_v2.value == "unknown"
    assert run.objective == 12.5
    assert [i.name for i in run.statistics.indicators] == ["result.value"]
