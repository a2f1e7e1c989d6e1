"""The event loop's share of the GIL while the monitor's threads parse.

The queue's reader (``cloud/queue_reader.py``) and other workers run on threads so that the
event loop is never held by their CPU work. They still hold the GIL between the interpreter's
thread switches, every ``sys.getswitchinterval()`` (5 ms by default): a frame that needs 9 ms
of the loop thread's CPU took 40 ms while a 50,000-run answer was being read, waiting for the
GIL slice after slice (``loop_trace``: a frame's ``cpu`` against its wall time; issue 14).
A 1 ms interval gives the loop its turn five times sooner; the threads' work is the same.
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL = 0.001
"""Seconds a thread may hold the GIL while another waits for it (CPython's default: 0.005)."""


def favour_the_loop() -> None:
    """Called once, by the monitor's process, before the app runs."""
    sys.setswitchinterval(SWITCH_INTERVAL)
