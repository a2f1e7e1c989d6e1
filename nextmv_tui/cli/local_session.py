"""One ``--local`` monitor's hold on the local service of its data dir.

- ``open``: under the lease lock, take a lease and find or start the service. A service this
  monitor starts is recorded in ``managed.json`` and gets a keeper (``cli/keeper.py``).
- ``supervise``: a daemon thread that, when the service is gone, starts it again on the same
  port (any ``--local`` monitor does; the new one is then managed, i.e. ours to stop). A
  service started by hand with ``--tls`` is not restarted (the launcher starts plain HTTP).
- ``close``: drop the lease; if no live lease is left and the running service is a managed
  one, stop it (last one out). A user's service (no ``managed.json``) is never stopped.
- ``emergency_release``: what the watchdog can still do: drop the lease and, if last, send
  the managed service SIGTERM without waiting; the keeper finishes the job.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

from nextmv_tui.cli.leases import LeaseDir, ProcessId, signal_process, stop_process
from nextmv_tui.service.launcher import (
    STOP_TIMEOUT,
    LauncherError,
    LocalServiceHandle,
    ensure_running,
    read_service_file,
)

SUPERVISE_EVERY = 1.0
"""Seconds between checks that the service is still there."""
RESTART_BACKOFF_MAX = 30.0
LOCK_WAIT_ON_CLOSE = 5.0
"""How long a normal quit waits for another monitor holding the lease lock."""


def _looks_like_service(pid: int) -> bool:
    """Guards a PID from ``service.json`` against reuse by an unrelated process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return not Path("/proc/self/cmdline").exists()  # no /proc: trust the PID
    return b"nextmv_tui" in cmdline or b"nextmv-tui" in cmdline


def service_process(data_dir: Path) -> ProcessId | None:
    """The service advertised in ``data_dir/service.json``, if that process is running."""
    info = read_service_file(data_dir)
    pid = info.get("pid") if info else None
    if not isinstance(pid, int):
        return None
    found = ProcessId.of(pid)
    return found if found is not None and _looks_like_service(pid) else None


class LocalSession:
    """Lease, restart and last-one-out stop of the local service for one monitor."""

    def __init__(self, data_dir: Path, *, supervise_every: float = SUPERVISE_EVERY) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.leases = LeaseDir(self.data_dir)
        self.me = ProcessId.me()
        self.handle: LocalServiceHandle | None = None
        self.restarts = 0
        self.last_error = ""
        self._supervise_every = supervise_every
        self._children: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0

    # --- start ----------------------------------------------------------------------------

    def open(self, cancel: threading.Event | None = None) -> LocalServiceHandle:
        """Take a lease and find or start the service; LauncherError if that fails."""
        with self.leases.locked(cancel=cancel) as held:
            if not held:
                raise LauncherError("start of the local service abandoned")
            self.leases.add(self.me)
            try:
                handle = ensure_running(self.data_dir, cancel=cancel)
            except BaseException:
                self.leases.remove(self.me)
                raise
            if handle.started:
                self._adopt(handle)
        self.handle = handle
        return handle

    def _adopt(self, handle: LocalServiceHandle) -> None:
        """Record ``handle``'s service as managed and give it a keeper (lock held)."""
        if handle.process is not None:
            self._children.append(handle.process)
        service = ProcessId.of(handle.pid or 0)
        if service is None:
            return
        self.leases.set_managed(service)
        argv = [sys.executable, "-m", "nextmv_tui.cli.keeper", "--data-dir", str(self.data_dir),
                "--pid", str(service.pid), "--start", str(service.start or 0)]
        with (self.data_dir / "service.log").open("ab") as log:
            self._children.append(subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            ))

    # --- supervise ------------------------------------------------------------------------

    def supervise(self) -> None:
        """Start the thread that brings the service back when it is gone."""
        self._thread = threading.Thread(target=self._supervise, name="local-service",
                                        daemon=True)
        self._thread.start()

    def _supervise(self) -> None:
        wait = self._supervise_every
        while not self._stop.wait(wait):
            self.check()
            wait = self._supervise_every
            if self._failures:
                wait = min(RESTART_BACKOFF_MAX, self._supervise_every * 2 ** self._failures)

    def _reap(self) -> None:
        """Collect children that ended (a killed service must not stay a zombie)."""
        self._children = [child for child in self._children if child.poll() is None]

    def check(self) -> bool:
        """Restart the service if it is gone; True if it is running afterwards."""
        self._reap()
        if service_process(self.data_dir) is not None:
            self._failures = 0
            return True
        if self.handle is not None and self.handle.endpoint.startswith("https:"):
            return False  # a --tls service was started by hand: it cannot be restarted as is
        with self.leases.locked(cancel=self._stop) as held:
            if not held:
                return False
            if service_process(self.data_dir) is not None:  # another monitor was quicker
                return True
            self.leases.add(self.me)  # in case the leases dir was wiped meanwhile
            try:
                handle = ensure_running(self.data_dir, port=self._port(), exact_port=True,
                                        cancel=self._stop)
            except (LauncherError, OSError) as exc:
                self._failures += 1
                self.last_error = str(exc).splitlines()[0] if str(exc) else repr(exc)
                return False
            if handle.started:
                self._adopt(handle)
                self.restarts += 1
            self._failures = 0
            self.handle = handle
            return True

    def _port(self) -> int:
        port = urlsplit(self.handle.endpoint).port if self.handle else None
        return port or 0

    # --- end ------------------------------------------------------------------------------

    def close(self, budget: float | None = None) -> None:
        """Drop the lease; stop a managed service if no other monitor holds a lease.

        ``budget`` (seconds) bounds the whole call when the process is being ended by a
        signal; a service that takes longer to stop is left to its keeper."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(budget)
        wait = LOCK_WAIT_ON_CLOSE if budget is None else budget
        with self.leases.locked(timeout=wait) as held:
            self.leases.remove(self.me)
            if not held:
                return
            service = self.leases.managed()
            if service is None or self.leases.live():
                return
            current = service_process(self.data_dir)
            if current is not None and current != service:
                return  # a different service answers now (the managed one is stopping)
            gone = stop_process(
                service,
                STOP_TIMEOUT + 5.0 if budget is None else budget,
                kill_after=STOP_TIMEOUT if budget is None else None,
                reap=self._reap,
            )
            if gone:
                self.leases.set_managed(None)

    def emergency_release(self) -> None:
        """From the watchdog: never blocks; the keeper completes what this starts."""
        self.leases.remove(self.me)
        with contextlib.suppress(OSError), self.leases.locked(timeout=0.1) as held:
            if held and not self.leases.live():
                service = self.leases.managed()
                if service is not None:
                    signal_process(service, signal.SIGTERM)
