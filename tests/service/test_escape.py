"""No process outlives its run, even one that left the run's process group (issue 10: an app
that forks, calls setsid and forks again left its grandchild alive after the run ended).

A real escaping app (``api_apps/escaper``) against the real service: the daemon is killed
when the run ends, when it is canceled, and, after the service itself was killed, by the
recovery at the next start.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from tests.conftest import LocalService
from tests.service.helpers import ESCAPER_APP, create_run, pid_alive, wait_status, wait_until

ESCAPER = "escaper"


def _daemon_pid(pidfile: Path, *, alive: bool = True) -> int:
    """The daemon's pid (it writes the file itself, so it did run). ``alive=False``: it may
    be gone already (a run that ends at once can be finished and cleaned up before a loaded
    machine lets the test look)."""
    text = wait_until(lambda: pidfile.exists() and pidfile.read_text(), what="the daemon's pid")
    pid = int(text)
    if alive:
        assert pid_alive(pid)
    return pid


def _start(service: LocalService, pidfile: Path, wait: float = 0.0) -> str:
    return create_run(service.client(), ESCAPER, {
        "input": {}, "options": {"pidfile": str(pidfile), "wait": str(wait)},
    })


def test_escaped_daemon_dies_with_its_finished_run(
    make_local_service: Callable[..., LocalService], tmp_path: Path
) -> None:
    service = make_local_service(app=[ESCAPER_APP])
    pidfile = tmp_path / "daemon.pid"
    run_id = _start(service, pidfile)
    daemon = _daemon_pid(pidfile, alive=False)
    try:
        info = wait_status(service.client(), ESCAPER, run_id)["metadata"]
        assert info["status_v2"] == "succeeded", info["error"]
        wait_until(lambda: not pid_alive(daemon), timeout=15, what="the daemon to be killed")
    finally:
        if pid_alive(daemon):
            os.kill(daemon, signal.SIGKILL)


def test_escaped_daemon_dies_when_its_run_is_canceled(
    make_local_service: Callable[..., LocalService], tmp_path: Path
) -> None:
    service = make_local_service(app=[ESCAPER_APP])
    pidfile = tmp_path / "daemon.pid"
    run_id = _start(service, pidfile, wait=120)
    daemon = _daemon_pid(pidfile)
    with service.client() as client:
        assert client.patch(f"/v1/applications/{ESCAPER}/runs/{run_id}/cancel").status_code == 200
        assert wait_status(client, ESCAPER, run_id)["metadata"]["status_v2"] == "canceled"
    wait_until(lambda: not pid_alive(daemon), timeout=15, what="the daemon to be killed")


def test_escaped_daemon_of_a_crashed_service_dies_at_recovery(
    make_local_service: Callable[..., LocalService], tmp_path: Path
) -> None:
    service = make_local_service(app=[ESCAPER_APP])
    pidfile = tmp_path / "daemon.pid"
    run_id = _start(service, pidfile, wait=120)
    daemon = _daemon_pid(pidfile)
    wait_status(service.client(), ESCAPER, run_id, ("running",))
    service.kill()  # the service dies; its run's processes (and the daemon) live on
    service.reap_orphans()  # the entry point's group, as a human would; the daemon escapes it
    assert pid_alive(daemon)
    service.start()
    wait_until(lambda: not pid_alive(daemon), timeout=15, what="recovery to kill the daemon")
    info = wait_status(service.client(), ESCAPER, run_id)["metadata"]
    assert info["status_v2"] == "failed" and "interrupted" in info["error"]
