"""Opt-in trace of what held the event loop, for benchmarks (``NEXTMV_TUI_LOOP_TRACE``).

The loop probe (``loop_probe.py``) says *how long* the loop was held; this says *by what*.
Set ``NEXTMV_TUI_LOOP_TRACE=<path>`` (with the probe enabled) and the monitor appends, per
process, to ``<path>.<pid>``:

    cb <start> <seconds> <what>      an asyncio callback (task step, timer) that ran >= SLOW
    frame <start> <seconds> layout=<0|1> <widgets> cpu=<seconds>
                                     a screen update (layout, render, write); ``cpu`` is the
                                     loop thread's own CPU in it (less than <seconds>: it
                                     waited, e.g. for the GIL held by the queue's reader)
    gc <start> <seconds> <gen> <thread> <collected>   a collector pass >= GC_MIN
    mark <time> <label>              a moment the code reports (``mark``)
    layout <time> <widget> <caller>  a refresh that asked for a new layout, and who asked

``<what>`` names the task's coroutine and, for a Textual message pump, the message it was
handling. Times are ``time.monotonic()``, like the probe's. Unset, ``start_if_enabled``
returns after one environment lookup and nothing is patched: no cost.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
from typing import Any

ENV_VAR = "NEXTMV_TUI_LOOP_TRACE"
SLOW = 0.010
GC_MIN = 0.002

_lines: list[str] = []
_path: str | None = None


def enabled() -> bool:
    return _path is not None


def mark(label: str) -> None:
    """Record a moment (no-op unless tracing)."""
    if _path is not None:
        _lines.append(f"mark {time.monotonic():.6f} {label}\n")


def note(line: str) -> None:
    """Record a line as it is (no-op unless tracing)."""
    if _path is not None:
        _lines.append(line + "\n")


def start_if_enabled() -> None:
    """Patch asyncio's callback runner and add a gc callback, if the variable is set."""
    global _path
    path = os.environ.get(ENV_VAR)
    if not path or _path is not None:
        return
    _path = f"{path}.{os.getpid()}"
    _patch_handles()
    _patch_dispatch()
    gc.callbacks.append(_on_gc)
    threading.Thread(target=_flusher, name="loop-trace", daemon=True).start()


def _describe(callback: Any) -> str:
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        name = getattr(coro, "__qualname__", repr(coro))
        message = getattr(owner, "_trace_message", None)
        return f"task:{owner.get_name()}:{name}" + (f":{message}" if message else "")
    return getattr(callback, "__qualname__", repr(callback))[:120]


def _patch_handles() -> None:
    original = asyncio.events.Handle._run

    def _run(self: asyncio.events.Handle) -> None:
        start = time.monotonic()
        original(self)
        spent = time.monotonic() - start
        if spent >= SLOW:
            what = _describe(self._callback)  # type: ignore[attr-defined]
            _lines.append(f"cb {start:.6f} {spent:.6f} {what}\n")

    asyncio.events.Handle._run = _run  # type: ignore[method-assign]


def _patch_dispatch() -> None:
    from textual.message_pump import MessagePump

    original = MessagePump._dispatch_message

    async def _dispatch_message(self: MessagePump, message: Any) -> None:
        task = asyncio.current_task()
        label = f"{type(self).__name__}.{type(message).__name__}"
        before = getattr(task, "_trace_message", None)
        if task is not None:
            task._trace_message = label  # type: ignore[attr-defined]
        try:
            await original(self, message)
        finally:
            if task is not None:
                task._trace_message = before  # type: ignore[attr-defined]

    MessagePump._dispatch_message = _dispatch_message  # type: ignore[method-assign]

    from textual.screen import Screen

    update = Screen._on_timer_update

    def _on_timer_update(self: Screen[Any]) -> None:
        layout = self._layout_required
        dirty = ",".join(sorted({type(w).__name__ for w in self._dirty_widgets}))[:200]
        start, cpu = time.monotonic(), time.thread_time()
        update(self)
        _lines.append(f"frame {start:.6f} {time.monotonic() - start:.6f} "
                      f"layout={int(layout)} {dirty} cpu={time.thread_time() - cpu:.6f}\n")

    Screen._on_timer_update = _on_timer_update  # type: ignore[method-assign]

    from textual.widget import Widget

    refresh = Widget.refresh

    def _refresh(self: Widget, *regions: Any, repaint: bool = True, layout: bool = False,
                 recompose: bool = False) -> Widget:
        if layout:
            frame: Any = sys._getframe(1)
            caller = f"{frame.f_code.co_name}@{os.path.basename(frame.f_code.co_filename)}"
            for _ in range(12):  # and the first caller outside Textual
                name = frame.f_code.co_filename if frame is not None else ""
                if frame is None or not ("/textual/" in name or name.endswith("loop_trace.py")):
                    break
                frame = frame.f_back
            if frame is not None:
                caller += f"<{frame.f_code.co_name}@{os.path.basename(frame.f_code.co_filename)}"
            _lines.append(f"layout {time.monotonic():.6f} {type(self).__name__} {caller}\n")
        return refresh(self, *regions, repaint=repaint, layout=layout, recompose=recompose)

    Widget.refresh = _refresh  # type: ignore[method-assign, assignment]


_gc_start: dict[int, float] = {}


def _on_gc(phase: str, info: dict[str, int]) -> None:
    ident = threading.get_ident()
    if phase == "start":
        _gc_start[ident] = time.monotonic()
        return
    start = _gc_start.pop(ident, None)
    if start is None:
        return
    spent = time.monotonic() - start
    if spent >= GC_MIN:
        _lines.append(f"gc {start:.6f} {spent:.6f} {info.get('generation')} "
                      f"{threading.current_thread().name} {info.get('collected')}\n")


def _flusher() -> None:
    while True:
        time.sleep(0.25)
        _flush()


def _flush() -> None:
    global _lines
    if _path is None or not _lines:
        return
    lines, _lines = _lines, []
    try:
        with open(_path, "a", encoding="utf-8") as handle:
            handle.writelines(lines)
    except OSError:
        pass
