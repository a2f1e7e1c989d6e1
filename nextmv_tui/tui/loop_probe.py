"""Opt-in event-loop lag probe, for benchmarks measuring the real process in a terminal.

Set ``NEXTMV_TUI_LOOP_PROBE=<path>`` and the monitor runs one extra asyncio task that sleeps
``INTERVAL`` seconds at a time and records how late it woke up: a late wake-up means
something held the event loop (a parse, a table update, a repaint), so the longest lateness
in a window is the longest block the user could feel there. Records go to ``<path>`` every
``FLUSH_EVERY`` seconds, so a benchmark reads them while the process runs:

    <monotonic time the wake-up was due> <lateness in seconds>   (only if >= MIN_LATE)
    # <monotonic time of the flush>                               (the file is complete to here)

``time.monotonic()`` is CLOCK_MONOTONIC, shared by every process of the machine, so a harness
can cut the records at the moments it saw on its side. Unset (the default), ``start_if_enabled``
reads one environment variable and returns: no task, no file, no cost. Standard library
only (and ``loop_trace``, which is too).
"""

from __future__ import annotations

import asyncio
import os
import time

from nextmv_tui.tui import loop_trace

ENV_VAR = "NEXTMV_TUI_LOOP_PROBE"
INTERVAL = 0.005
MIN_LATE = 0.001
FLUSH_EVERY = 0.25
TRACE_BLOCK = 0.030
"""Blocks this long are also written to the trace (``loop_trace.py``), if one is on."""

_task: asyncio.Task[None] | None = None  # a reference, or the loop may drop the task


def start_if_enabled() -> None:
    """Start the probe on the running loop if ``NEXTMV_TUI_LOOP_PROBE`` names a file."""
    global _task
    path = os.environ.get(ENV_VAR)
    if not path or _task is not None:
        return
    _task = asyncio.get_running_loop().create_task(_probe(path), name="loop-probe")
    loop_trace.start_if_enabled()


async def _probe(path: str) -> None:
    pending: list[str] = []
    next_flush = time.monotonic() + FLUSH_EVERY
    try:
        while True:
            due = time.monotonic() + INTERVAL
            await asyncio.sleep(INTERVAL)
            now = time.monotonic()
            if now - due >= MIN_LATE:
                pending.append(f"{due:.6f} {now - due:.6f}\n")
                if now - due >= TRACE_BLOCK and loop_trace.enabled():
                    loop_trace.note(f"block {due:.6f} {now - due:.6f}")
            if now >= next_flush:
                _flush(path, pending, now)
                pending = []
                next_flush = now + FLUSH_EVERY
    finally:
        _flush(path, pending, time.monotonic())


def _flush(path: str, lines: list[str], now: float) -> None:
    try:
        with open(path, "a", encoding="ascii") as handle:
            handle.writelines(lines)
            handle.write(f"# {now:.6f}\n")
    except OSError:  # a benchmark aid must never take the app down
        pass
