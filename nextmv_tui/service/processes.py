"""Process groups of runs: signal them, see who is left, kill what survives.

Every run is started in its own session, so its process group id is the entry point's pid and
one ``killpg`` reaches every child that stayed in the group. On Linux the group's members are
read from ``/proc`` (zombies do not count: they are already dead); elsewhere ``killpg(pgid, 0)``
is the fallback, where a zombie still counts as alive.

A process can leave the group (fork, ``setsid``, fork again: a daemon). Every app process
carries its run's marker in its environment (``NEXTMV_TUI_RUN_ID=<run id>``, set by
``environment.app_environment`` and inherited by every descendant), so ``kill_marked`` finds
those through ``/proc/<pid>/environ`` and kills them too. Why a marker (see ARCHITECTURE.md):
it needs no privilege, names the run a process belongs to even after it was re-parented, and
still works after a service crash (``stop_stale_run``); a process that replaces its whole
environment before exec can still escape it, which only a cgroup would prevent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path

from nextmv_tui.service.environment import RUN_ID_VARIABLE

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


def pid_alive(pid: object) -> bool:
    """A process with this ID exists (one of another user's counts: it is not ours to
    reuse). Anything but an int above 1 is no process: IDs come from files on disk."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 1:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


def marked_processes(marker: bytes) -> list[int]:
    """Live pids whose environment holds the entry ``marker`` (``NAME=value``), this
    process excepted; empty where ``/proc`` is unavailable. Blocking (reads /proc)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    own = os.getpid()
    found = []
    for entry in os.scandir(proc):
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            with open(os.path.join(entry.path, "environ"), "rb") as handle:
                environ = handle.read()
        except OSError:  # gone, or another user's
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def kill_marked(marker: bytes, settle: float = KILL_SETTLE_TIMEOUT) -> int:
    """SIGKILL every process carrying ``marker`` until none is left (at most ``settle`` s:
    a process may fork while we look). Returns how many were signalled. Blocking."""
    deadline = time.monotonic() + settle
    killed = 0
    while True:
        pids = marked_processes(marker)
        if not pids or time.monotonic() > deadline:
            return killed
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.01)


def run_marker(run_id: str) -> bytes:
    """The environment entry that marks the processes of run ``run_id``."""
    return f"{RUN_ID_VARIABLE}={run_id}".encode()


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
    processes works inside ``run_dir`` (guards against pid reuse; Linux only); processes that
    escaped the group are found by the run's marker (the run dir's name is the run ID).
    Blocking; returns True if something was killed.
    """
    members = group_members(pid) if pid and pid > 0 else None
    killed = bool(members) and _works_in(members or [], run_dir.resolve())
    if killed and pid:
        kill_group(pid)
    killed = kill_marked(run_marker(run_dir.name)) > 0 or killed
    shutil.rmtree(run_dir / "work", ignore_errors=True)
    return killed
