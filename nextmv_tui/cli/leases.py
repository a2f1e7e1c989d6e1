"""Leases on the local service of a data dir: who uses it, and whether a monitor started it.

``DATA_DIR/leases/`` holds

- ``lock``: ``flock``-ed around every read-decide-write below, so two monitors never both
  start a service or stop one the other has just adopted. The kernel drops it when its
  holder dies, so it is never stale.
- ``<pid>.json``: one per ``--local`` monitor, ``{"pid", "start", "boot"}``. A lease is live
  while a process with that pid, that start time (``/proc/PID/stat`` field 22) and that boot
  ID exists; a monitor killed with SIGKILL leaves a file that simply stops counting, and a
  reused PID does not revive it. Dead leases are deleted whenever the directory is read.
- ``managed.json``: the identity of the service a monitor started. Absent (or naming a
  process that is gone) for a service someone else started: monitors never stop that one.

Without ``/proc`` (macOS) a process is identified by its PID alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nextmv_tui.service.processes import pid_alive

LEASES_DIR = "leases"
MANAGED_FILE = "managed.json"
LOCK_FILE = "lock"
LOCK_POLL = 0.02
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _boot_id() -> str | None:
    try:
        return _BOOT_ID.read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) from /proc, or None if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2 :].split()  # the command name may hold spaces
    return fields[0].decode("ascii", "replace"), int(fields[19])


@dataclass(frozen=True)
class ProcessId:
    """A process, told apart from a later one that reuses its PID."""

    pid: int
    start: int | None = None
    boot: str | None = None

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        """The running process ``pid`` (a zombie counts as gone), or None."""
        if pid <= 1:
            return None
        if Path("/proc/self/stat").exists():
            stat = _proc_stat(pid)
            if stat is None or stat[0] in ("Z", "X", "x"):
                return None
            return cls(pid, stat[1], _boot_id())
        return cls(pid) if pid_alive(pid) else None

    @classmethod
    def me(cls) -> ProcessId:
        return cls.of(os.getpid()) or cls(os.getpid())

    @classmethod
    def from_json(cls, data: Any) -> ProcessId | None:
        if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
            return None
        start, boot = data.get("start"), data.get("boot")
        return cls(
            data["pid"],
            start if isinstance(start, int) else None,
            boot if isinstance(boot, str) else None,
        )

    def alive(self) -> bool:
        now = ProcessId.of(self.pid)
        if now is None:
            return False
        if self.start is None or now.start is None:
            return True
        return (now.start, now.boot) == (self.start, self.boot)


def signal_process(target: ProcessId, signum: int) -> bool:
    """Send ``signum`` if ``target`` is still that process; False if it is gone."""
    if not target.alive():
        return False
    try:
        os.kill(target.pid, signum)
    except ProcessLookupError:
        return False
    return True


def stop_process(
    target: ProcessId,
    timeout: float,
    *,
    kill_after: float | None = None,
    reap: Callable[[], object] | None = None,
) -> bool:
    """SIGTERM ``target``, wait up to ``timeout`` s for it to end; SIGKILL it once
    ``kill_after`` s have passed (if given). ``reap`` lets a parent collect its zombie.
    Returns True when the process is gone."""
    if not signal_process(target, signal.SIGTERM):
        return True
    started = time.monotonic()
    killed = False
    while True:
        if reap is not None:
            reap()
        if not target.alive():
            return True
        elapsed = time.monotonic() - started
        if kill_after is not None and elapsed >= kill_after and not killed:
            killed = True
            signal_process(target, signal.SIGKILL)
        if elapsed >= timeout:
            return False
        time.sleep(0.02)


class LeaseDir:
    """The ``leases/`` directory of one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LEASES_DIR

    @contextlib.contextmanager
    def locked(
        self, timeout: float | None = None, cancel: threading.Event | None = None
    ) -> Iterator[bool]:
        """Hold the lock. Yields False (not holding it) once ``timeout`` s have passed or
        ``cancel`` is set, so a monitor asked to exit never waits behind another one."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / LOCK_FILE, "a+b") as handle:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    late = deadline is not None and time.monotonic() >= deadline
                    if late or (cancel is not None and cancel.is_set()):
                        yield False
                        return
                    time.sleep(LOCK_POLL)
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # --- monitor leases (hold the lock) ----------------------------------------------------

    def add(self, holder: ProcessId) -> None:
        _write_json(self.path / f"{holder.pid}.json", asdict(holder))

    def remove(self, holder: ProcessId) -> None:
        """Remove ``holder``'s lease (no lock needed: unlinking is atomic)."""
        path = self.path / f"{holder.pid}.json"
        if ProcessId.from_json(_read_json(path)) == holder:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def live(self) -> list[ProcessId]:
        """The live leases; files of dead holders are deleted."""
        holders = []
        for path in sorted(self.path.glob("*.json")):
            if path.name == MANAGED_FILE:
                continue
            holder = ProcessId.from_json(_read_json(path))
            if holder is not None and holder.alive():
                holders.append(holder)
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        return holders

    # --- the managed service (hold the lock) ---------------------------------------------

    def managed(self) -> ProcessId | None:
        """The service a monitor started, if it is still running."""
        service = ProcessId.from_json(_read_json(self.path / MANAGED_FILE))
        return service if service is not None and service.alive() else None

    def set_managed(self, service: ProcessId | None) -> None:
        path = self.path / MANAGED_FILE
        if service is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        else:
            _write_json(path, asdict(service))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
