"""``--local`` monitors and the service they share (issues 16 and 8), end to end: real
``nextmv-tui --local`` processes on ptys, a real service, real signals.

- a service the monitor started is stopped when its terminal closes, even when the clean
  shutdown is stuck (watchdog + keeper); one it did not start is left alone;
- two monitors: the first one out leaves the service to the other, which stays online;
  the last one out stops it; a last monitor killed with SIGKILL is cleaned up by the keeper;
- a monitor whose service is killed starts it again, owns it, and comes back online.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nextmv_tui.cli.leases import LeaseDir, ProcessId
from nextmv_tui.service.settings import DEFAULT_PORT
from tests.cli.pty_monitor import WRITE_SYSCALL, PtyMonitor, monitor_env, wait_for
from tests.conftest import free_port
from tests.service.helpers import ROUTING_INPUT

EXIT_WITHIN = 3.0
SERVICE_GONE_WITHIN = 20.0
"""Generous on purpose: uvicorn's graceful stop on a loaded machine, or the keeper's tick."""


@pytest.fixture(autouse=True)
def default_port_taken() -> Iterator[None]:
    """Services started by ``--local`` take port 8765 when it is free; hold it so these tests
    never race another process for it (the launcher then takes any free port)."""
    with socket.socket() as sock:
        with contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", DEFAULT_PORT))
        yield


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "data"
    yield directory
    _kill_services(directory)


def _kill_services(directory: Path) -> None:
    """Test hygiene: whatever service or keeper is left in ``directory`` is killed."""
    pids = {_service_pid(directory)}
    managed = LeaseDir(directory).managed()
    pids.add(managed.pid if managed else None)
    for pid in pids:
        if pid and _is_ours(pid, directory):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _is_ours(pid: int, directory: Path) -> bool:
    try:
        return str(directory).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _service_info(directory: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((directory / "service.json").read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _service_pid(directory: Path) -> int | None:
    info = _service_info(directory)
    return info.get("pid") if info else None


def _healthy(directory: Path) -> int | None:
    """The PID of the service answering for ``directory``, if one answers."""
    info = _service_info(directory)
    if info is None:
        return None
    with contextlib.suppress(httpx.HTTPError):
        if httpx.get(info["endpoint"] + "/healthz", timeout=2.0).status_code == 200:
            return int(info["pid"])
    return None


def _alive(pid: int) -> bool:
    return ProcessId.of(pid) is not None


def _submit(directory: Path, name: str) -> str:
    """A run that stays in the queue for a minute (a finished one would not be listed)."""
    info = _service_info(directory)
    assert info is not None
    key = (directory / "api_key").read_text().strip()
    response = httpx.post(
        f"{info['endpoint']}/v1/applications/routing/runs",
        headers={"Authorization": f"Bearer {key}"},
        json={"input": ROUTING_INPUT, "name": name, "options": {"duration": "60"}},
        timeout=30.0,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["run_id"])


@pytest.fixture
def start_local(tmp_path: Path, data_dir: Path) -> Iterator[Callable[..., PtyMonitor]]:
    monitors: list[PtyMonitor] = []

    def start(name: str = "m") -> PtyMonitor:
        env = monitor_env(tmp_path, tmp_path / f"exit-{name}.log")
        monitor = PtyMonitor(["--local", "--data-dir", str(data_dir), "--refresh", "1"], env)
        monitors.append(monitor)
        return monitor

    yield start
    for monitor in monitors:
        monitor.kill()


@pytest.fixture
def user_service(data_dir: Path, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A service started by hand (``nextmv-tui serve``), not by a monitor."""
    with (tmp_path / "user-service.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nextmv_tui", "serve", "--data-dir", str(data_dir),
             "--port", str(free_port())],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
    wait_for(lambda: _healthy(data_dir) == proc.pid, 60.0, "the user's service")
    yield proc
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)


def _leases(directory: Path) -> list[str]:
    return sorted(p.name for p in (directory / "leases").glob("[0-9]*.json"))


def test_a_service_the_monitor_started_is_stopped_when_its_terminal_closes(
    start_local, data_dir: Path
) -> None:
    monitor = start_local()
    monitor.wait_started()
    service = wait_for(lambda: _healthy(data_dir), 10.0, "the service the monitor started")
    assert LeaseDir(data_dir).managed() == ProcessId.of(service)
    assert _leases(data_dir) == [f"{monitor.pid}.json"]
    closed = monitor.close_terminal()
    assert monitor.wait_gone(closed, EXIT_WITHIN) == 128 + signal.SIGHUP
    wait_for(lambda: not _alive(service), SERVICE_GONE_WITHIN, "the service to stop")
    assert LeaseDir(data_dir).live() == []


@pytest.mark.skipif(WRITE_SYSCALL is None, reason="needs the write(2) number of this CPU")
def test_a_stuck_monitor_ended_by_sigterm_still_stops_its_service(
    start_local, data_dir: Path
) -> None:
    """The terminal blocks every write, so the clean shutdown cannot finish: the watchdog
    ends the monitor and tells the service to stop (the keeper would finish the job)."""
    monitor = start_local()
    monitor.wait_started()
    service = wait_for(lambda: _healthy(data_dir), 10.0, "the service the monitor started")
    monitor.block_writes()
    sent = monitor.send_signal(signal.SIGTERM)
    assert monitor.wait_gone(sent, EXIT_WITHIN) in (128 + signal.SIGTERM, -signal.SIGALRM)
    wait_for(lambda: not _alive(service), SERVICE_GONE_WITHIN, "the service to stop")


def test_a_service_the_monitor_did_not_start_is_left_alone(
    start_local, data_dir: Path, user_service: subprocess.Popen[bytes]
) -> None:
    monitor = start_local()
    monitor.wait_started()
    assert LeaseDir(data_dir).managed() is None
    closed = monitor.close_terminal()
    assert monitor.wait_gone(closed, EXIT_WITHIN) == 128 + signal.SIGHUP
    assert LeaseDir(data_dir).live() == []
    assert user_service.poll() is None
    assert _healthy(data_dir) == user_service.pid


@pytest.mark.slow
def test_two_monitors_share_the_service_and_the_last_one_out_stops_it(
    start_local, data_dir: Path
) -> None:
    first = start_local("first")
    first.wait_started()
    service = wait_for(lambda: _healthy(data_dir), 10.0, "the service the monitor started")
    second = start_local("second")
    second.wait_started()
    assert _healthy(data_dir) == service, "the second monitor reuses the service"
    assert _leases(data_dir) == sorted([f"{first.pid}.json", f"{second.pid}.json"])

    first.press("q")  # the monitor that started the service quits
    assert first.proc.wait(30) == 0
    assert _alive(service)
    name = "after-first-quit"
    _submit(data_dir, name)
    second.wait_text(name)  # the other one still polls the same service
    second.wait_text(r"● online")
    assert _healthy(data_dir) == service
    assert _leases(data_dir) == [f"{second.pid}.json"]

    second.press("q")  # the last one out stops it, though it did not start it
    assert second.proc.wait(30) == 0
    assert not _alive(service)
    assert _leases(data_dir) == []
    assert LeaseDir(data_dir).managed() is None


def test_a_last_monitor_killed_with_sigkill_leaves_the_service_to_the_keeper(
    start_local, data_dir: Path
) -> None:
    """Its lease file stays behind but stops counting (its PID is dead); the keeper sees no
    live lease and stops the service."""
    monitor = start_local()
    monitor.wait_started()
    service = wait_for(lambda: _healthy(data_dir), 10.0, "the service the monitor started")
    os.kill(monitor.pid, signal.SIGKILL)
    monitor.proc.wait(10)
    wait_for(lambda: not _alive(service), SERVICE_GONE_WITHIN, "the keeper to stop the service")


@pytest.mark.slow
def test_a_monitor_whose_service_is_killed_starts_it_again_and_owns_it(
    start_local, data_dir: Path, user_service: subprocess.Popen[bytes]
) -> None:
    """The service was started by hand, so it is not the monitor's; once killed, the
    monitor starts a new one on the same port, which it then stops when it quits."""
    monitor = start_local()
    monitor.wait_started()
    endpoint = _service_info(data_dir)["endpoint"]  # type: ignore[index]
    user_service.kill()
    user_service.wait(10)
    restarted = wait_for(
        lambda: (pid := _healthy(data_dir)) and pid != user_service.pid and pid,
        60.0, "the monitor to start the service again",
    )
    assert _service_info(data_dir)["endpoint"] == endpoint  # type: ignore[index]
    wait_for(lambda: LeaseDir(data_dir).managed() == ProcessId.of(restarted), 30.0,
             "the monitor to record the new service as managed")
    name = "after-restart"
    _submit(data_dir, name)
    monitor.wait_text(name, timeout=90.0)  # back online (after its retry backoff)
    monitor.wait_text(r"● online")
    monitor.press("q")
    assert monitor.proc.wait(30) == 0
    assert not _alive(restarted)
