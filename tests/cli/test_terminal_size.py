"""The monitor uses its terminal's real size, not COLUMNS/LINES left in the environment
(pytest-xdist exports 80x24; so do some shells and scripts): on a 140x40 pty with
COLUMNS=80 LINES=24 it must fill 140x40, not draw an 80x24 screen in the corner."""

from __future__ import annotations

from pathlib import Path

from tests.cli.pty_monitor import PtyMonitor, monitor_env
from tests.conftest import LocalService


def test_the_real_terminal_size_wins_over_columns_and_lines(
    local_service: LocalService, tmp_path: Path
) -> None:
    env = monitor_env(tmp_path, tmp_path / "exit.log")
    env.update(COLUMNS="80", LINES="24")
    monitor = PtyMonitor(["--endpoint", local_service.endpoint, "--api-key",
                          local_service.api_key, "--refresh", "1"], env, cols=140, rows=40)
    try:
        monitor.wait_started()
        monitor.wait_text("q Quit")
        rows = monitor.text().splitlines()
        footer = next(i for i, line in enumerate(rows) if "q Quit" in line)
        assert footer == 39, f"footer on row {footer}, not the pty's last row:\n{monitor.text()}"
    finally:
        monitor.kill()
