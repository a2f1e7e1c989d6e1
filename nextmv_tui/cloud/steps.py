"""CPU work cut into steps that an event loop runs between its other callbacks.

A thread does not take CPU work off an event loop in CPython: the two share the GIL, and a
frame drawn while the queue's reader ran on a thread took about twice its CPU time (traced
at 50,000 runs: ``NEXTMV_TUI_LOOP_TRACE``). So the reader is a generator that pauses every
millisecond or so of work (``Steps``); ``run_steps_async`` runs such a generator on the
loop and yields to it every ``SLICE`` seconds, so keys and frames wait at most a slice and
then run at full speed. ``run_steps`` runs it in one go (tests, a worker thread).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from typing import TypeAlias, TypeVar

T = TypeVar("T")
Steps: TypeAlias = Generator[None, None, T]
"""Work that pauses (``yield``) between steps and returns its result."""

SLICE = 0.001
"""Seconds of steps run before the loop gets a turn (a frame at 60 fps is 16 ms)."""


def run_steps(steps: Steps[T]) -> T:
    """All the steps at once; their result."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


async def run_steps_async(steps: Steps[T], slice_seconds: float | None = None) -> T:
    """The steps on the running loop, yielding to it every ``slice_seconds`` (``SLICE``);
    their result."""
    if slice_seconds is None:
        slice_seconds = SLICE
    clock = time.perf_counter
    deadline = clock() + slice_seconds
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if clock() >= deadline:
            await asyncio.sleep(0)
            deadline = clock() + slice_seconds


__all__ = ["SLICE", "Steps", "run_steps", "run_steps_async"]
