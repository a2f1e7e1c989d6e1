"""``python -m nextmv_tui.cli.keeper``: stops a monitor-started service nobody leases.

A monitor that ends normally stops the service it was the last to use (``local_session``).
One killed with SIGKILL, or ended by its watchdog before it could, cannot; its lease then
stops counting (``leases.ProcessId.alive``). This small detached process, started next to
each service a monitor starts, checks the leases every second and stops the service (SIGTERM,
SIGKILL after ``STOP_TIMEOUT``) once no live lease is left. It exits when its service is
gone or is no longer the managed one. Standard library only, so it costs a few MB.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from nextmv_tui.cli.leases import LeaseDir, ProcessId, stop_process

CHECK_EVERY = 1.0
STOP_TIMEOUT = 10.0


def _say(message: str) -> None:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} keeper: {message}", flush=True)


def keep(data_dir: Path, service: ProcessId, every: float = CHECK_EVERY) -> int:
    """Watch ``service`` until it ends; stop it when no monitor holds a lease."""
    leases = LeaseDir(data_dir)
    while service.alive():
        time.sleep(every)  # the check's period, not a synchronisation
        with leases.locked() as held:
            if not held:
                continue
            if leases.managed() != service:
                return 0  # gone, or replaced by another monitor-started service
            if leases.live():
                continue
            _say(f"no monitor holds a lease; stopping the service (pid {service.pid})")
            if stop_process(service, STOP_TIMEOUT + 5.0, kill_after=STOP_TIMEOUT):
                leases.set_managed(None)
            return 0
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nextmv-tui-keeper")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--start", type=int, default=0, help="start time (0: unknown)")
    args = parser.parse_args(argv)
    service = ProcessId.of(args.pid)
    if service is None or (args.start and service.start != args.start):
        return 0
    return keep(args.data_dir, service)


if __name__ == "__main__":
    sys.exit(main())
