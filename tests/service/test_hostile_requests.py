"""Requests a hostile or careless client can send get a 4xx, never a 5xx, and the keep-alive
connection survives them (issue 10). Against the real service subprocess; raw sockets where
the point is the connection itself.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.conftest import LocalService, module_service
from tests.service.helpers import KNAPSACK_INPUT, SHOUT_APP, create_run, wait_status

RUNS = "/v1/applications/knapsack/runs"
DEEP = 1000


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """Runs stay queued (concurrency 0): request handling alone. One for the module: each
    test looks only at its own requests and runs."""
    yield from module_service(tmp_path_factory, "hostile-requests", concurrency=0)


pytestmark = pytest.mark.xdist_group("hostile-requests")  # one worker starts ``held`` once


def _deep_json(depth: int) -> bytes:
    return b'{"input": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


class Raw:
    """One keep-alive HTTP/1.1 connection, to see whether the server keeps it open."""

    def __init__(self, service: LocalService) -> None:
        self.sock = socket.create_connection(("127.0.0.1", service.port), timeout=30)
        self.key = service.api_key
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, dict[str, str],
                                                                         bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {self.key}\r\nContent-Length: {len(body)}\r\n"
            "Content-Type: application/json\r\n\r\n"
        ).encode("utf-8", "surrogateescape")
        self.sock.sendall(head + body)
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        raw_head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._read()
        body_out, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, body_out

    def _read(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the keep-alive connection")
        self.buffer += chunk


def test_bad_requests_get_4xx_and_keep_the_connection(held: LocalService) -> None:
    """Each of these gave a 500 (and a dropped connection) before: deep JSON, '²' tokens,
    huge numbers, IDs with '..', NUL or U+202E, and a boolean priority."""
    run_id = create_run(held.client(), "knapsack", {"input": KNAPSACK_INPUT})
    run = f"{RUNS}/{run_id}"
    cases: list[tuple[str, str, bytes, int, str]] = [
        ("POST", RUNS, _deep_json(DEEP), 400, "nested too deeply"),
        ("POST", "/v1/applications", b'{"id": "x", "name": "n", "description": '
         + _deep_json(DEEP) + b"}", 400, "nested too deeply"),
        ("GET", f"{run}/logs/live?since=%C2%B2", b"", 400, "invalid since token"),
        ("GET", f"{run}/logs/live?since=99999999999999999999", b"", 400, "invalid since"),
        ("GET", f"{run}/logs/live?since=-1", b"", 400, "invalid since"),
        ("POST", "/v1/applications", b'{"id": "..", "name": "dots"}', 400, "IDs may only"),
        ("POST", "/v1/applications", b'{"id": "a\\u0000b", "name": "nul"}', 400, "IDs may"),
        ("POST", "/v1/applications", b'{"id": "evil\\u202etxt", "name": "rlo"}', 400, "IDs"),
        ("POST", "/v1/applications", b'{"id": "a/b", "name": "slash"}', 400, "IDs may"),
        ("GET", "/v1/applications/%E2%80%AEknapsack", b"", 400, "invalid application ID"),
        ("GET", f"{RUNS}/run-%00x/metadata", b"", 400, "invalid run ID"),
        ("POST", RUNS + "?instance_id=..", b'{"input": {}}', 400, "invalid instance ID"),
        ("POST", RUNS, b'{"upload_id": "../../x"}', 400, "invalid upload_id"),
        ("POST", RUNS, json.dumps({"input": {}, "configuration": {"queuing": {
            "priority": True}}}).encode(), 400, "priority"),
        ("POST", RUNS, json.dumps({"input": {}, "configuration": {"queuing": {
            "disabled": "yes"}}}).encode(), 400, "disabled"),
        ("PATCH", RUNS, b"", 405, "Method Not Allowed"),
    ]
    conn = Raw(held)
    try:
        for method, path, body, status, needle in cases:
            got, _, answer = conn.request(method, path, body)
            assert got == status, (method, path, answer[:300])
            assert needle in json.loads(answer)["error"], (path, answer[:300])
            # the same connection still serves the next request
            ok, _, _ = conn.request("GET", "/v1/account/queue")
            assert ok == 200
    finally:
        conn.close()


def test_nesting_within_the_bound_is_accepted(held: LocalService) -> None:
    body = {"input": json.loads(b'{"a": ' * 100 + b"1" + b"}" * 100)}
    response = held.client().post(RUNS, json=body)
    assert response.status_code == 200, response.text


def test_405_names_every_allowed_method(held: LocalService) -> None:
    run_id = create_run(held.client(), "knapsack", {"input": KNAPSACK_INPUT})
    with held.client() as client:
        response = client.post(f"{RUNS}/{run_id}")
        assert response.status_code == 405
        assert set(response.headers["allow"].split(", ")) >= {"GET", "PUT", "DELETE"}
        response = client.delete(RUNS)
        assert response.status_code == 405
        assert set(response.headers["allow"].split(", ")) >= {"GET", "POST"}
        response = client.get(f"{RUNS}/{run_id}/cancel")
        assert response.headers["allow"] == "PATCH"


def test_openapi_is_served_and_declares_response_schemas(held: LocalService) -> None:
    response = httpx.get(held.endpoint + "/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    operation = spec["paths"]["/v1/applications/{app_id}/runs/{run_id}/logs/live"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/LiveLogs"}
    assert "404" in operation["responses"]
    create = spec["paths"]["/v1/applications/{app_id}/runs"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "CreateRunRequest"
    )
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_401_names_no_server_path(held: LocalService) -> None:
    response = httpx.get(held.endpoint + "/v1/account/queue")
    assert response.status_code == 401
    message = response.json()["error"]
    assert "API key" in message
    assert str(held.data_dir) not in message and "/" not in message.replace("/v1", "")


def test_inline_limit_counts_utf8_bytes_not_escapes(held: LocalService) -> None:
    """4.2 MB of 'é' is 4.2 MB of UTF-8 but 12.6 MB ASCII-escaped (as requests sends it)."""
    text = "é" * (2_100_000)  # 4.2 MB in UTF-8
    escaped = json.dumps({"input": {"text": text}}).encode()  # ensure_ascii: \u00e9
    assert len(escaped) > 12_000_000
    with held.client() as client:
        response = client.post(RUNS, content=escaped, headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text[:300]
        run_id = response.json()["run_id"]
        stored = client.get(f"{RUNS}/{run_id}/input")
        assert stored.json() == {"text": text}
        too_big = json.dumps({"input": {"text": "é" * 2_700_000}}).encode()  # 5.4 MB UTF-8
        response = client.post(RUNS, content=too_big,
                               headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert "inline input is 5400" in response.json()["error"]


@pytest.mark.slow
def test_text_input_url_answers_at_once_and_downloads_a_tar(
    make_local_service: Callable[..., LocalService],
) -> None:
    """The URL of a 60 MB text input is given at once (the tar.gz is made while it is
    downloaded, not on the event loop before answering); the download is the file.
    The text is random (base64), so gzip has real work to do."""
    import base64
    import io
    import os
    import tarfile

    service = make_local_service(concurrency=0, app=[SHOUT_APP])
    text = base64.b64encode(os.urandom(45_000_000)).decode()  # 60 MB
    with service.client() as client:
        upload = client.post("/v1/applications/shout/runs/uploadurl").json()
        assert httpx.put(upload["upload_url"], content=text.encode()).status_code == 200
        run_id = create_run(client, "shout", {"upload_id": upload["upload_id"]})
        started = time.monotonic()
        url = client.get(f"/v1/applications/shout/runs/{run_id}/input",
                         params={"format": "url"}).json()["url"]
        assert time.monotonic() - started < 1.0
        data = io.BytesIO(httpx.get(url, timeout=60).content)
        with tarfile.open(fileobj=data) as archive:
            member = archive.getmembers()[0]
            assert member.name == "input.txt"
            extracted = archive.extractfile(member)
            assert extracted is not None and extracted.read() == text.encode()


def test_failed_create_leaves_no_run_dir(held: LocalService) -> None:
    before = set((held.data_dir / "runs").iterdir())
    response = held.client().post(RUNS, json={"input": {}, "upload_id": "upload-missing"})
    assert response.status_code == 400
    assert set((held.data_dir / "runs").iterdir()) == before


def test_text_output_streams_as_a_json_string(
    make_local_service: Callable[..., LocalService],
) -> None:
    service = make_local_service(app=[SHOUT_APP])
    with service.client() as client:
        upload = client.post("/v1/applications/shout/runs/uploadurl").json()
        httpx.put(upload["upload_url"], content="héllo\x00\"\\ wörld\n" * 1000)
        run_id = create_run(client, "shout", {"upload_id": upload["upload_id"]})
        wait_status(client, "shout", run_id)
        output = client.get(f"/v1/applications/shout/runs/{run_id}/output")
        assert output.json() == "HÉLLO\x00\"\\ WÖRLD\n" * 1000
