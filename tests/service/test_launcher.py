"""The launcher's failure paths (``--local``'s start and stop, ``service/launcher.py``): a
service that dies while starting is reported with its log, a start that is abandoned or
times out leaves no process behind, a service that refuses the data dir's key is named, and
``stop()`` ends a service that ignores SIGTERM. Real ``serve`` processes throughout."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nextmv_tui.service import launcher
from nextmv_tui.service.settings import EXIT_PORT_UNAVAILABLE
from tests.conftest import free_port


def serve_processes(data_dir: Path) -> list[int]:
    """PIDs of live processes whose command line names ``data_dir``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(data_dir).encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def test_a_service_that_exits_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(launcher.LauncherError) as caught:
            launcher.ensure_running(data_dir, port=port, exact_port=True)
    message = str(caught.value)
    assert f"exited with code {EXIT_PORT_UNAVAILABLE} while starting" in message
    assert str(data_dir / "service.log") in message
    assert str(port) in message.split("\n", 1)[1], "the log's tail says which port"
    assert serve_processes(data_dir) == []


def test_a_port_taken_between_the_check_and_the_bind_falls_back_to_any_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The launcher checks that its port is free, then the service binds it; another process
    can take it in between (CI saw two tests' monitors race for 8765). That race is forced
    here: the check is told the port is free while a socket holds it. The service must come
    up on another port, not end the monitor."""
    data_dir = tmp_path / "data"
    monkeypatch.setattr(launcher, "_port_free", lambda port: True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        handle = launcher.ensure_running(data_dir, port=port)
        try:
            assert handle.started and handle.endpoint.startswith("http://127.0.0.1:")
            assert not handle.endpoint.endswith(f":{port}")
            assert "could not serve on" in (data_dir / "service.log").read_text()
        finally:
            handle.stop()
    assert serve_processes(data_dir) == []


def test_an_abandoned_start_leaves_no_service_behind(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    cancel = threading.Event()
    cancel.set()  # e.g. the monitor was told to quit while the service was starting
    with pytest.raises(launcher.LauncherError, match="abandoned"):
        launcher.ensure_running(data_dir, port=free_port(), cancel=cancel)
    assert serve_processes(data_dir) == []


def test_a_start_that_times_out_leaves_no_service_behind(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with pytest.raises(launcher.LauncherError, match="did not become healthy in 0 s"):
        launcher.ensure_running(data_dir, port=free_port(), timeout=0.0)
    assert serve_processes(data_dir) == []


def test_a_service_that_refuses_the_data_dirs_key_is_named(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    handle = launcher.ensure_running(data_dir, port=free_port())
    try:
        key_file = data_dir / "api_key"
        key_file.write_text("someone-elses-key\n")  # the running service keeps its own
        with pytest.raises(launcher.LauncherError, match="refuses the key in"):
            launcher.ensure_running(data_dir)
    finally:
        handle.stop()
    assert serve_processes(data_dir) == []


def test_stop_kills_a_service_that_ignores_sigterm(tmp_path: Path) -> None:
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, sys, time\n"
         "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\n"
         "time.sleep(600)"], stdout=subprocess.PIPE,
    )
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
    handle = launcher.LocalServiceHandle("http://127.0.0.1:9", "k", True, tmp_path,
                                         pid=stubborn.pid, _proc=stubborn)
    handle.stop(timeout=0.5)
    assert stubborn.returncode == -signal.SIGKILL
    not_ours = launcher.LocalServiceHandle("http://127.0.0.1:9", "k", False, tmp_path)
    not_ours.stop()  # a service this handle did not start is never stopped


def test_a_service_file_without_a_live_pid_or_endpoint_is_not_running(tmp_path: Path) -> None:
    (tmp_path / "service.json").write_text('{"endpoint": "http://127.0.0.1:9", "pid": 1}')
    assert launcher._running(tmp_path) is None
    (tmp_path / "service.json").write_text('["not", "an", "object"]')
    assert launcher.read_service_file(tmp_path) is None
    (tmp_path / "service.json").write_text(f'{{"endpoint": 3, "pid": {os.getpid()}}}')
    assert launcher.read_service_file(tmp_path) is None
