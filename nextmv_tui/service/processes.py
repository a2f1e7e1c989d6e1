"""Process groups of runs: signal them, see who is left, kill what survives.

Every run is started in its own session, so its process group id is the entry point's pid and
one ``killpg`` reaches every child that stayed in the group. On Linux the group's members are
read from ``/proc`` (zombies do not count: they are already dead); elsewhere ``killpg(pgid, 0)``
is the fallback, where a zombie still counts as alive.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path

KILL_SETTLE_TIMEOUT = 5.0
"""How long to wait for SIGKILLed processes to disappear before giving up."""


def group_members(pgid: int) -> list[int] | None:
    """Live (non-zombie) pids of process group ``pgid``; None where /proc is unavailable."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    members = []
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and fields[0] != b"Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process of the group exists."""
    members = group_members(pgid)
    if members is not None:
        return bool(members)
    try:  # pragma: no cover - non-Linux fallback (zombies count as alive)
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to the group; a group that is already gone is not an error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def kill_group(pgid: int, settle: float = KILL_SETTLE_TIMEOUT) -> None:
    """SIGKILL the group and wait (at most ``settle`` s) until its processes are gone.

    Blocking: call it from a worker thread when on the event loop.
    """
    signal_group(pgid, signal.SIGKILL)
    deadline = time.monotonic() + settle
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.01)


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9; the number itself when it is no known signal."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _works_in(members: list[int], root: Path) -> bool:
    """True if one of the processes has its working dir inside ``root`` (Linux only)."""
    for member in members:
        with contextlib.suppress(OSError):
            if Path(os.readlink(f"/proc/{member}/cwd")).is_relative_to(root):
                return True
    return False


def stop_stale_run(run_dir: Path, pid: int | None) -> bool:
    """After a service crash: kill a run's leftover process group and drop its working copy.

    Runs live in their own session, so they survive a killed service. ``pid`` is the stored
    ``Execution.pid`` (also the process group id). The group is killed only if one of its
    processes works inside ``run_dir`` (guards against pid reuse; Linux only). Blocking; returns
    True if a group was killed.
    """
    members = group_members(pid) if pid and pid > 0 else None
    killed = bool(members) and _works_in(members or [], run_dir.resolve())
    if killed and pid:
        kill_group(pid)
    shutil.rmtree(run_dir / "work", ignore_errors=True)
    return killed
