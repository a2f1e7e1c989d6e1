"""``cli/leases.py`` and ``cli/keeper.py`` on real processes: liveness by PID *and* start
time (SIGKILL, zombies, PID reuse), the lock, and the keeper's last-one-out stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nextmv_tui.cli.leases import LeaseDir, ProcessId, stop_process
from tests.cli.pty_monitor import wait_for

HAS_PROC = Path("/proc/self/stat").exists()
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def sleeper(procs: list[subprocess.Popen[bytes]], argv: list[str] = SLEEPER) -> ProcessId:
    proc = subprocess.Popen(argv)
    procs.append(proc)
    found = ProcessId.of(proc.pid)
    assert found is not None
    return found


def test_a_process_is_alive_until_it_ends(spawn) -> None:
    me = ProcessId.me()
    assert me.alive()
    child = sleeper(spawn)
    assert child.alive()
    spawn[0].kill()
    spawn[0].wait(10)
    assert not child.alive()
    assert ProcessId.of(child.pid) is None


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc")
def test_a_zombie_counts_as_gone(spawn) -> None:
    child = sleeper(spawn)
    os.kill(child.pid, signal.SIGKILL)
    wait_for(lambda: ProcessId.of(child.pid) is None, 10.0, "the child to die (unreaped)")
    assert Path(f"/proc/{child.pid}").exists(), "still a zombie: not reaped yet"
    assert not child.alive()


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc")
def test_a_reused_pid_does_not_revive_a_lease(tmp_path: Path) -> None:
    """A lease recorded for this PID with another start time (an earlier process that had
    the same PID) is dead, and is deleted when the leases are read."""
    me = ProcessId.me()
    assert me.start is not None
    leases = LeaseDir(tmp_path)
    impostor = ProcessId(me.pid, me.start - 1, me.boot)
    leases.add(impostor)
    assert not impostor.alive()
    assert leases.live() == []
    assert not (leases.path / f"{me.pid}.json").exists()
    rebooted = ProcessId(me.pid, me.start, "another-boot")
    assert not rebooted.alive()


def test_leases_of_dead_monitors_stop_counting(tmp_path: Path, spawn) -> None:
    leases = LeaseDir(tmp_path)
    first, second = sleeper(spawn), sleeper(spawn)
    with leases.locked() as held:
        assert held
        leases.add(first)
        leases.add(second)
    assert leases.live() == sorted([first, second], key=lambda p: str(p.pid))
    spawn[0].kill()  # SIGKILL: the lease file stays behind ...
    spawn[0].wait(10)
    assert (leases.path / f"{first.pid}.json").exists()
    assert leases.live() == [second]  # ... but no longer counts, and is cleaned up
    assert not (leases.path / f"{first.pid}.json").exists()
    leases.remove(second)
    assert leases.live() == []


def test_garbage_in_the_leases_dir_is_ignored(tmp_path: Path) -> None:
    leases = LeaseDir(tmp_path)
    leases.path.mkdir(parents=True)
    (leases.path / "123.json").write_text("not json")
    (leases.path / "managed.json").write_text(json.dumps({"pid": "x"}))
    assert leases.live() == []
    assert leases.managed() is None


def test_the_managed_service_is_known_only_while_it_runs(tmp_path: Path, spawn) -> None:
    leases = LeaseDir(tmp_path)
    service = sleeper(spawn)
    leases.set_managed(service)
    assert leases.managed() == service
    spawn[0].kill()
    spawn[0].wait(10)
    assert leases.managed() is None
    leases.set_managed(None)
    assert not (leases.path / "managed.json").exists()


def test_the_lock_excludes_other_processes_and_gives_up_on_time(tmp_path: Path) -> None:
    leases = LeaseDir(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys; from pathlib import Path; from nextmv_tui.cli.leases import LeaseDir\n"
            "with LeaseDir(Path(sys.argv[1])).locked() as held:\n"
            "    print('held', flush=True); sys.stdin.readline()"
        ), str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with leases.locked(timeout=0.2) as held:
            assert not held
        cancel = threading.Event()
        cancel.set()
        with leases.locked(cancel=cancel) as held:
            assert not held
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)
    with leases.locked(timeout=5.0) as held:
        assert held


def test_stop_process_kills_what_ignores_sigterm(spawn) -> None:
    stubborn = sleeper(spawn, [sys.executable, "-c", (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    )])
    wait_for(lambda: _ignores_sigterm(stubborn.pid), 10.0, "the child to ignore SIGTERM")
    assert stop_process(stubborn, 10.0, kill_after=0.3, reap=spawn[0].poll)
    assert spawn[0].returncode == -signal.SIGKILL


def _ignores_sigterm(pid: int) -> bool:
    if not HAS_PROC:
        return True
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def _keeper(data_dir: Path, service: ProcessId) -> subprocess.Popen[bytes]:
    return subprocess.Popen([
        sys.executable, "-m", "nextmv_tui.cli.keeper", "--data-dir", str(data_dir),
        "--pid", str(service.pid), "--start", str(service.start or 0),
    ])


def test_the_keeper_stops_the_service_once_no_lease_is_live(tmp_path: Path, spawn) -> None:
    leases = LeaseDir(tmp_path)
    service, monitor = sleeper(spawn), sleeper(spawn)
    leases.add(monitor)
    leases.set_managed(service)
    keeper = _keeper(tmp_path, service)
    try:
        wait_for(lambda: _has_lock_file(leases), 10.0, "the keeper's first check")
        assert spawn[0].poll() is None, "a live lease keeps the service"
        spawn[1].kill()  # the last monitor dies without releasing its lease
        spawn[1].wait(10)
        assert keeper.wait(30) == 0
        assert spawn[0].wait(10) == -signal.SIGTERM
        assert leases.managed() is None
    finally:
        if keeper.poll() is None:
            keeper.kill()
            keeper.wait(10)


def test_the_keeper_leaves_a_service_that_is_no_longer_managed(tmp_path: Path, spawn) -> None:
    leases = LeaseDir(tmp_path)
    service = sleeper(spawn)
    leases.set_managed(service)
    leases.add(ProcessId.me())
    keeper = _keeper(tmp_path, service)
    leases.set_managed(None)  # e.g. replaced after a restart
    leases.remove(ProcessId.me())
    assert keeper.wait(30) == 0
    assert spawn[0].poll() is None


def _has_lock_file(leases: LeaseDir) -> bool:
    return (leases.path / "lock").exists()
