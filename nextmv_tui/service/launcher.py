"""Find the local service of a data dir, or start one in the background (for ``--local``).

A healthy service advertised in ``data_dir/service.json`` is reused and left alone on
``stop()``. Otherwise ``python -m nextmv_tui serve`` is spawned detached (own session, output
to ``data_dir/service.log``) and ``stop()`` ends it. Queued runs live in the database, so a
stopped service resumes them on its next start. Who may stop a service that several
monitors share is decided by their leases (``cli/leases.py``), not here.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from nextmv_tui.service.processes import pid_alive
from nextmv_tui.service.settings import (
    API_KEY_FILE,
    DEFAULT_PORT,
    EXIT_PORT_UNAVAILABLE,
    SERVICE_FILE,
    default_data_dir,
    load_or_create_api_key,
)

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


class LauncherError(Exception):
    """The local service could not be found or started; the message says why and where."""


@dataclass
class LocalServiceHandle:
    endpoint: str
    api_key: str
    started: bool
    """True when this handle started the service (then ``stop()`` ends it)."""
    data_dir: Path
    verify: bool | str = True
    """What an HTTP client should pass as ``verify`` (the cert path for ``--tls``)."""
    pid: int | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The service process when this handle started it (its parent must reap it)."""
        return self._proc

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the service if we started it (SIGTERM, then SIGKILL after ``timeout``)."""
        if not self.started or self._proc is None or self._proc.poll() is not None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout)


def read_service_file(data_dir: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((data_dir / SERVICE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and isinstance(info.get("endpoint"), str) else None


def _healthy(endpoint: str, verify: bool | str, timeout: float = 2.0) -> bool:
    try:
        response = httpx.get(endpoint.rstrip("/") + "/healthz", timeout=timeout, verify=verify)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json().get("service") == "nextmv-tui"


def _key_accepted(endpoint: str, api_key: str, verify: bool | str) -> bool:
    try:
        response = httpx.get(
            endpoint.rstrip("/") + "/v1/account/queue",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=5.0,
            verify=verify,
        )
    except httpx.HTTPError:
        return False
    return response.status_code != 401


def _running(data_dir: Path) -> LocalServiceHandle | None:
    info = read_service_file(data_dir)
    if info is None or not pid_alive(info.get("pid")):
        return None
    cert = info.get("cert")
    verify: bool | str = cert if isinstance(cert, str) and cert else True
    endpoint = str(info["endpoint"])
    if not _healthy(endpoint, verify):
        return None
    key_file = info.get("api_key_file")
    if not isinstance(key_file, str):
        raise LauncherError(
            f"the local service at {endpoint} (data dir {data_dir}) was started with an "
            "explicit --api-key; pass that key yourself"
        )
    api_key = load_or_create_api_key(Path(key_file))
    if not _key_accepted(endpoint, api_key, verify):
        raise LauncherError(f"the local service at {endpoint} refuses the key in {key_file}")
    return LocalServiceHandle(endpoint, api_key, False, data_dir, verify, info.get("pid"))


def ensure_running(
    data_dir: Path | None = None,
    port: int = DEFAULT_PORT,
    timeout: float = START_TIMEOUT,
    *,
    exact_port: bool = False,
    cancel: threading.Event | None = None,
) -> LocalServiceHandle:
    """Reuse the healthy service of ``data_dir`` or start one; raises ``LauncherError``.

    A new service listens on ``port``, or on any free port if that one is taken (unless
    ``exact_port``: a restart must come back where its clients look); the endpoint it got is
    read back from its ``service.json``. Setting ``cancel`` abandons a start (the half-started
    service is killed) with ``LauncherError``.
    """
    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    existing = _running(data_dir)
    if existing is not None:
        return existing
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    api_key = load_or_create_api_key(data_dir / API_KEY_FILE)
    if port and not exact_port and not _port_free(port):
        port = 0  # taken (e.g. by the service of another data dir): any free port will do
    try:
        proc, endpoint = _start(data_dir, port, timeout, cancel)
    except _PortUnavailable:
        if exact_port or not port:
            raise
        # Free when checked, taken when the service bound it (another process between the
        # two: two monitors starting at once); any free port will do.
        proc, endpoint = _start(data_dir, 0, timeout, cancel)
    return LocalServiceHandle(endpoint, api_key, True, data_dir, True, proc.pid, proc)


class _PortUnavailable(LauncherError):
    """The service could not listen on the port it was given."""


def _start(
    data_dir: Path, port: int, timeout: float, cancel: threading.Event | None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``serve`` for ``data_dir`` on ``port`` and wait until it is healthy."""
    log_path = data_dir / "service.log"
    argv = [sys.executable, "-m", "nextmv_tui", "serve", "--data-dir", str(data_dir),
            "--port", str(port)]
    # The service uses the data dir's key file: a key in the monitor's environment is not its.
    env = {k: v for k, v in os.environ.items() if k != "NEXTMV_TUI_API_KEY"}
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "ab") as log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env={**env, "PYTHONUNBUFFERED": "1"},
        )
    try:
        return proc, _wait_started(proc, data_dir, log_path, timeout, cancel)
    except LauncherError as error:
        _reap(proc)
        if proc.returncode == EXIT_PORT_UNAVAILABLE:
            raise _PortUnavailable(str(error)) from None
        raise
    except BaseException:
        _reap(proc)
        raise


def _reap(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait(STOP_TIMEOUT)


def _wait_started(
    proc: subprocess.Popen[bytes],
    data_dir: Path,
    log_path: Path,
    timeout: float,
    cancel: threading.Event | None,
) -> str:
    """The endpoint once ``proc`` is healthy and advertised; LauncherError otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cancel is not None and cancel.is_set():
            raise LauncherError("start of the local service abandoned")
        if proc.poll() is not None:
            raise LauncherError(
                f"the local service exited with code {proc.returncode} while starting; "
                f"see {log_path}:\n{_tail(log_path)}"
            )
        info = read_service_file(data_dir)
        if info is not None and info.get("pid") == proc.pid:
            endpoint = str(info["endpoint"])
            if _healthy(endpoint, True, timeout=1.0):
                return endpoint
        time.sleep(0.05)
    raise LauncherError(
        f"the local service did not become healthy in {timeout:g} s; see {log_path}"
    )


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int = 10) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
