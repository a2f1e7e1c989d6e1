"""Issue 16: the real ``nextmv-tui`` on a pty ends when its terminal goes away and on
SIGTERM/SIGHUP, whatever state it is in, and never deadlocks on the way out.

Every test reads the monitor's screen until it is up (header online), then acts. Two kinds
of assertion, kept apart so that neither is flaky on a loaded machine:

- **the time limit** (gone within 3 s), with the production watchdog (2 s) and SIGALRM
  backstop (2.8 s), which hold whatever the load;
- **the clean path** ("clean" in ``NEXTMV_TUI_EXIT_LOG``: Textual's shutdown and the CLI's
  cleanup ran to the end, so the deadlock is fixed, not masked by the watchdog), with the
  watchdog pushed back to ``CLEAN_GRACE`` so that a slow machine cannot turn it into a
  watchdog exit. On the old code these hang for good.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.pty_monitor import WRITE_SYSCALL, PtyMonitor, monitor_env, wait_for
from tests.cli.slow_proxy import SlowProxy
from tests.conftest import LocalService, module_service

EXIT_WITHIN = 3.0
CLEAN_GRACE = 30.0

pytestmark = pytest.mark.xdist_group("monitor-exit")  # one worker starts the service once


@pytest.fixture(scope="module")
def local_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """One service for the module: the monitors only read its queue, and each test ends
    its own monitor, never the service."""
    yield from module_service(tmp_path_factory, "monitor-exit")


@pytest.fixture
def exit_log(tmp_path: Path) -> Path:
    return tmp_path / "exit.log"


@pytest.fixture
def start_monitor(tmp_path: Path, exit_log: Path) -> Iterator[Callable[..., PtyMonitor]]:
    monitors: list[PtyMonitor] = []

    def start(
        endpoint: str, api_key: str, *extra: str, controlling: bool = True,
        grace: float | None = None,
    ) -> PtyMonitor:
        args = ["--endpoint", endpoint, "--api-key", api_key, *extra]
        env = monitor_env(tmp_path, exit_log)
        if grace is not None:
            env["NEXTMV_TUI_EXIT_GRACE"] = str(grace)
        monitor = PtyMonitor(args, env, controlling=controlling)
        monitors.append(monitor)
        return monitor

    yield start
    for monitor in monitors:
        monitor.kill()


def exit_record(exit_log: Path, count: int = 1) -> list[dict[str, str]]:
    """The exit log's lines as dicts: how, code, after, reason."""
    records = []
    for line in exit_log.read_text().splitlines():
        match = re.match(r"(\w+) code=(\S+) after=(\S+) reason=(.*)", line)
        assert match, line
        keys = ("how", "code", "after", "reason")
        records.append(dict(zip(keys, match.groups(), strict=True)))
    assert len(records) == count, records
    return records


def assert_exit(
    exit_log: Path, code: int, reason: str | tuple[str, ...], how: str | None = None
) -> None:
    (record,) = exit_record(exit_log)
    assert int(record["code"]) == code, record
    reasons = (reason,) if isinstance(reason, str) else reason
    assert any(r in record["reason"] for r in reasons), record
    if how is not None:
        assert record["how"] == how, record


def _lost_reasons(controlling: bool) -> tuple[str, ...]:
    """With a controlling terminal the kernel's SIGHUP may be handled before the hangup is
    seen on the fds (a race the monitor cannot win): both end it the same way, code 129."""
    return ("terminal lost", "SIGHUP") if controlling else ("terminal lost",)


TERMINALS = pytest.mark.parametrize(
    "controlling", [True, False], ids=["sighup-and-sigcont", "no-signal"]
)


@TERMINALS
def test_closing_the_terminal_ends_the_monitor(
    local_service: LocalService, start_monitor, exit_log: Path, controlling: bool
) -> None:
    """With a controlling terminal the kernel sends SIGHUP+SIGCONT; without one nothing
    does, and only the dead terminal (POLLHUP, EIO) tells the monitor. On the old code the
    second case never exits: the writer thread dies on EIO, its queue fills, the main
    thread blocks in ``Queue.put`` and ignores SIGTERM."""
    monitor = start_monitor(local_service.endpoint, local_service.api_key, "--refresh", "1",
                            controlling=controlling)
    monitor.wait_started()
    closed = monitor.close_terminal()
    assert monitor.wait_gone(closed, EXIT_WITHIN) == 128 + signal.SIGHUP
    assert_exit(exit_log, 128 + signal.SIGHUP, _lost_reasons(controlling))


@TERMINALS
def test_closing_the_terminal_shuts_down_cleanly(
    local_service: LocalService, start_monitor, exit_log: Path, controlling: bool
) -> None:
    monitor = start_monitor(local_service.endpoint, local_service.api_key, "--refresh", "1",
                            controlling=controlling, grace=CLEAN_GRACE)
    monitor.wait_started()
    closed = monitor.close_terminal()
    assert monitor.wait_gone(closed, CLEAN_GRACE) == 128 + signal.SIGHUP
    assert_exit(exit_log, 128 + signal.SIGHUP, _lost_reasons(controlling), how="clean")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_ends_a_running_monitor(
    local_service: LocalService, start_monitor, exit_log: Path, signum: int
) -> None:
    monitor = start_monitor(local_service.endpoint, local_service.api_key)
    monitor.wait_started()
    sent = monitor.send_signal(signum)
    assert monitor.wait_gone(sent, EXIT_WITHIN) == 128 + signum
    assert_exit(exit_log, 128 + signum, signal.Signals(signum).name)


@pytest.mark.slow
@pytest.mark.skipif(WRITE_SYSCALL is None, reason="needs the write(2) number of this CPU")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_ends_a_monitor_stuck_writing_to_its_terminal(
    local_service: LocalService, start_monitor, exit_log: Path, signum: int
) -> None:
    """Nobody reads the terminal, so Textual's writer thread blocks in write(2) and the
    shutdown cannot finish: the watchdog must end the process anyway (or, if a starved
    machine keeps even the watchdog from running, the SIGALRM backstop)."""
    monitor = start_monitor(local_service.endpoint, local_service.api_key)
    monitor.wait_started()
    monitor.block_writes()
    sent = monitor.send_signal(signum)
    code = monitor.wait_gone(sent, EXIT_WITHIN)
    if code != -signal.SIGALRM:
        assert code == 128 + signum
        assert_exit(exit_log, 128 + signum, signal.Signals(signum).name, how="watchdog")


def test_keys_during_a_slow_poll_then_closing_the_terminal(
    local_service: LocalService, start_monitor, exit_log: Path
) -> None:
    """The reproduction of issue 16: answers delayed 0.6 s, ``--refresh 1``, ``r p p r``
    while a poll is in flight, then the terminal is closed. The proxy holds the poll's
    answer until the keys have been handled, so they certainly land mid-poll. On the old
    code the monitor deadlocks in ``WriterThread.stop`` (see ``tui/driver.py``); here it
    must get through the clean shutdown, not be rescued by the watchdog."""
    with SlowProxy(local_service.port, delay=0.6) as proxy:
        monitor = start_monitor(proxy.endpoint, local_service.api_key, "--refresh", "1",
                                grace=CLEAN_GRACE)
        monitor.wait_started()
        proxy.gate.clear()
        wait_for(proxy.holding.is_set, 30.0, "a queue poll to be in flight")
        answered = proxy.queue_answers
        monitor.press("rppr")
        monitor.wait_text("Refresh resumed")
        monitor.wait_text(r"data [2-9]\d*s old")  # the poll is still held: data ages
        proxy.gate.set()
        wait_for(lambda: proxy.queue_answers > answered, 30.0, "the held answer to go out")
        monitor.wait_text(r"data [01]s old")  # ... and the monitor has handled it
        closed = monitor.close_terminal()
        code = monitor.wait_gone(closed, CLEAN_GRACE)
    assert code == 128 + signal.SIGHUP
    assert_exit(exit_log, 128 + signal.SIGHUP, "terminal lost", how="clean")
