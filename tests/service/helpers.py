"""Small helpers for the service tests: condition waits with deadlines, paths, run polling."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

APPS = Path(__file__).resolve().parent / "api_apps"
MFECHO_APP = APPS / "mfecho"
"""multi-file app ``mfecho``: summarises input files into summary.json and upper.txt."""
NAPPER_APP = APPS / "napper"
"""json app ``napper``: -duration seconds of "tick N" logs, with a child process."""
SHOUT_APP = APPS / "shout"
"""text app ``shout``: stdout is its stdin upper-cased (a non-JSON output)."""
ESCAPER_APP = APPS / "escaper"
"""json app ``escaper``: leaves a grandchild in its own session (pid in ``-pidfile``)."""
CHATTER_APP = APPS / "chatter"
"""json/text app ``chatter``: ``-log_mb`` MiB of log lines, a ``-output_mb`` MiB output."""
ENVDUMP_APP = APPS / "envdump"
"""json app ``envdump``: its output is the environment (and umask) it was started with."""
FINAL = ("succeeded", "failed", "canceled")

KNAPSACK_INPUT = {
    "items": [
        {"id": "a", "value": 10, "weight": 5},
        {"id": "b", "value": 40, "weight": 4},
        {"id": "c", "value": 30, "weight": 6},
        {"id": "d", "value": 50, "weight": 3},
    ],
    "weight_capacity": 10,
}
"""Optimum: b + d, value 90, weight 7."""

ROUTING_INPUT = {
    "stops": [
        {"id": f"s{i}", "location": {"lon": 7.6 + 0.01 * i, "lat": 51.9 + 0.007 * (i % 3)}}
        for i in range(6)
    ],
    "vehicles": [{"id": "v1", "start_location": {"lon": 7.6, "lat": 51.9}}],
}

DEADLINE_SCALE = float(os.environ.get("TEST_DEADLINE_SCALE", "3"))
"""Deadlines stretched for loaded machines, as in ``tests/tui/conftest.py``."""
T = TypeVar("T")


def write_app(folder: Path, manifest: str, files: dict[str, str]) -> Path:
    """An app folder made by a test: ``app.yaml`` plus ``files`` (relative path -> text)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.yaml").write_text(manifest)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def write_wheel(folder: Path, name: str, version: str, tag: str = "py3-none-any") -> Path:
    """A minimal valid wheel of a pure module ``name`` (``name.VERSION``), built offline.

    ``tag`` picks the platform, e.g. ``py3-none-manylinux2014_aarch64`` for a wheel no x86
    machine can install."""
    import base64
    import hashlib
    import zipfile

    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
                         f"Tag: {tag}\n",
    }

    def digest(text: str) -> str:
        raw = hashlib.sha256(text.encode()).digest()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    record = "".join(f"{path},sha256={digest(text)},{len(text)}\n" for path, text in files.items())
    files[f"{dist}/RECORD"] = record + f"{dist}/RECORD,,\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def wait_until(
    predicate: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.05, what: str = ""
) -> T:
    """Return the first truthy value of ``predicate()``; fail after ``timeout`` seconds
    (times ``TEST_DEADLINE_SCALE``, 3 by default: see ``tests/tui/conftest.py``)."""
    timeout *= DEADLINE_SCALE
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


async def until(predicate: Callable[[], object], timeout: float = 15.0,
                interval: float = 0.02, what: str = "") -> None:
    """``wait_until`` for code on an event loop: other tasks run between the checks."""
    timeout *= DEADLINE_SCALE
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        await asyncio.sleep(interval)


def metadata(client: httpx.Client, app: str, run_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/applications/{app}/runs/{run_id}/metadata")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def status(client: httpx.Client, app: str, run_id: str) -> str:
    return str(metadata(client, app, run_id)["metadata"]["status_v2"])


def wait_status(
    client: httpx.Client, app: str, run_id: str, wanted: tuple[str, ...] = FINAL,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Poll metadata until the run's status is one of ``wanted``; returns the metadata."""
    def check() -> dict[str, Any] | None:
        info = metadata(client, app, run_id)
        return info if info["metadata"]["status_v2"] in wanted else None

    return wait_until(check, timeout, what=f"run {run_id} to reach {wanted}")


def create_run(client: httpx.Client, app: str, body: dict[str, Any]) -> str:
    response = client.post(f"/v1/applications/{app}/runs", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["run_id"])


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (Linux ``/proc``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] != b"Z"


def rss_peak_mib(pid: int) -> float:
    """Peak resident memory of ``pid`` so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for pid {pid}")


def log_text(client: httpx.Client, app: str, run_id: str) -> str:
    response = client.get(f"/v1/applications/{app}/runs/{run_id}/logs")
    response.raise_for_status()
    return str(response.json()["log"])
