"""The two programs the TUI benchmarks compare, started the way a user starts them, and the
screen conditions they wait for.

- ``monitor``: the installed ``nextmv-tui`` entry point (real CLI, real client, prefetch and
  all) against an endpoint, on a pty.
- ``floor``: ``floor_app.py``, a bare Textual app with a stock DataTable (the framework's
  floor), on a pty of the same size.
"""

from __future__ import annotations

import compileall
import os
import re
import sys
import time
from pathlib import Path

import pyte

from benchmarks.harness.servers import BIN
from benchmarks.harness.stats import REPO
from benchmarks.harness.term import PtyApp, ScreenTimeout

RUN_ID = re.compile(r"bench-\d{7}")
FLOOR = Path(__file__).with_name("floor_app.py")
DOWN = b"\x1b[B"


def base_env(probe: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NEXTMV_") and k not in ("HTTP_PROXY", "HTTPS_PROXY",
                                                      "http_proxy", "https_proxy")}
    if probe is not None:
        env["NEXTMV_TUI_LOOP_PROBE"] = str(probe)
        trace = os.environ.get("NEXTMV_TUI_LOOP_TRACE")
        if trace:  # what held the loop, per process (nextmv_tui/tui/loop_trace.py)
            env["NEXTMV_TUI_LOOP_TRACE"] = trace
    return env


def monitor(endpoint: str, api_key: str, *, refresh: float = 2.0, probe: Path | None = None,
            cols: int = 160, rows: int = 45, source: Path | None = None) -> PtyApp:
    """``source``: run the ``nextmv_tui`` package of another checkout (e.g. the base
    commit, for a before/after comparison) with this venv's interpreter and packages."""
    argv = [str(BIN / "nextmv-tui"), "--endpoint", endpoint, "--api-key", api_key,
            "--refresh", f"{refresh:g}"]
    env = base_env(probe)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return PtyApp(argv, cols=cols, rows=rows, env=env, cwd=str(source or REPO))


def floor(*, endpoint: str | None = None, rows_file: Path | None = None, refresh: float = 2.0,
          slow_ms: float = 0.0, probe: Path | None = None, cols: int = 160,
          rows: int = 45) -> PtyApp:
    argv = [sys.executable, str(FLOOR), "--refresh", f"{refresh:g}"]
    if endpoint:
        argv += ["--endpoint", endpoint]
    if rows_file:
        argv += ["--rows-file", str(rows_file)]
    if slow_ms:
        argv += ["--slow-ms", f"{slow_ms:g}"]
    return PtyApp(argv, cols=cols, rows=rows, env=base_env(probe), cwd=str(REPO))


def precompile(*roots: Path) -> None:
    """Write the bytecode of each checkout's ``nextmv_tui`` package, as ``pip install``
    does for an installed package. Without it, an editable checkout under
    ``PYTHONDONTWRITEBYTECODE`` (set in this project's sessions) compiled its ~60 modules from
    source at every launch (about 150 ms of CPU) while the floor's Textual came compiled: a
    cost of the measurement, not of the monitor."""
    for root in roots:
        compileall.compile_dir(str(root / "nextmv_tui"), quiet=1)


def table_ids(screen: pyte.Screen) -> frozenset[str]:
    """Run IDs in the largest block of consecutive lines that show one ID each (the table;
    a detail pane naming the selected run elsewhere is left out)."""
    blocks: list[list[str]] = []
    last = -2
    for y, text in enumerate(screen.display):
        found = RUN_ID.findall(text)
        if len(found) != 1:
            continue
        if y != last + 1 or not blocks:
            blocks.append([])
        blocks[-1].append(found[0])
        last = y
    return frozenset(max(blocks, key=len)) if blocks else frozenset()


def rows_complete(app: PtyApp, timeout: float, quiet: float = 1.0) -> tuple[float, float]:
    """(first run ID on screen, all visible rows on screen), as times since spawn.

    "All visible rows" is judged afterwards: the table is watched until its set of IDs has
    not changed for ``quiet`` seconds; the answer is the first read after which the screen
    held every ID of that final set. Nothing inside the program is consulted.
    """
    history: list[tuple[float, frozenset[str]]] = []
    deadline = time.monotonic() + timeout
    current: frozenset[str] = frozenset()
    while time.monotonic() < deadline:
        stamp = app.pump(0.05)
        if stamp is not None:
            ids = table_ids(app.screen)
            if ids != current:
                current = ids
                history.append((stamp, ids))
        if history and history[-1][1] and time.monotonic() - history[-1][0] >= quiet:
            break
        if app.closed and app.proc.poll() is not None:
            break
    if not history or not history[-1][1]:
        raise ScreenTimeout(f"no run IDs on screen within {timeout:g} s\n" + app.dump())
    final = history[-1][1]
    first = next(stamp for stamp, ids in history if ids)
    complete = next(stamp for stamp, ids in history if ids >= final)
    return first - app.spawned, complete - app.spawned
