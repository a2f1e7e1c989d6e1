"""The monitor's process gives the event loop its turn at the GIL every millisecond
(``tui/gil.py``): frames waited for the queue reader's 5 ms slices (issue 14)."""

from __future__ import annotations

import subprocess
import sys

from nextmv_tui.tui.gil import SWITCH_INTERVAL

PROBE = """
import argparse, sys
from nextmv_tui.cli import monitor
before = sys.getswitchinterval()
monitor.run(argparse.Namespace(demo=True, local=False))  # refused at once, after the setup
print(before, sys.getswitchinterval())
"""


def test_the_monitor_shortens_the_switch_interval_before_it_runs() -> None:
    # A subprocess: the setting (and the collector hold the same setup makes) is per process.
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60, check=True)
    before, after = (float(word) for word in done.stdout.split())
    assert before == 0.005 and after == SWITCH_INTERVAL < before
