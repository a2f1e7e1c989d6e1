"""Dialogs opened and closed for a while: what the monitor keeps, with and without the
workaround for Textualize/textual#6665 (``tui/textual_fixes.py``).

    .venv/bin/python benchmarks/tui_dialogs.py [--cycles 60] [--repeat 5] [--quick]

Each repetition runs two fresh processes, in alternating order: the monitor as shipped
(subject) and the same monitor with the workaround switched off (anchor: Textual's own
``StylesCache.get_inner_outer``). Each builds the real app with ``make_app`` (offline: no
server, no polling), opens and closes the help screen and the command palette ``--cycles``
times through Pilot key presses at 160x45, then reports, after a full collection:

- the ``StylesCache`` objects still alive (widgets removed long ago keep theirs);
- the objects Python's cyclic collector tracks, and the time of one more full pass (what
  a full pass costs the event loop from then on);
- the growth of RSS over the cycles.

Prints median [min..max] of each and the paired ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import stats


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _cycle(cycles: int) -> dict[str, float]:
    from textual._styles_cache import StylesCache

    from nextmv_tui.cloud.config import ClientConfig
    from nextmv_tui.tui.app import make_app
    from nextmv_tui.tui.settings import Settings

    app = make_app(Settings(config=ClientConfig("http://127.0.0.1:9", "bench"), poll=False))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        gc.collect()
        rss_before = _rss_kb()
        for _ in range(cycles):
            for key in ("question_mark", "ctrl+p"):
                await pilot.press(key)
                await pilot.pause()
                await pilot.pause()
                await pilot.press("escape")
                await pilot.pause()
        gc.collect()
        started = time.perf_counter()
        gc.collect()
        full_pass = time.perf_counter() - started
        return {
            "styles_caches": sum(1 for obj in gc.get_objects() if type(obj) is StylesCache),
            "objects": len(gc.get_objects()),
            "full_pass_ms": full_pass * 1000,
            "rss_growth_mb": (_rss_kb() - rss_before) / 1024,
        }


def _child(mode: str, cycles: int) -> None:
    if mode == "off":
        from nextmv_tui.tui import textual_fixes

        textual_fixes.apply = lambda: False  # Textual as shipped
    print(json.dumps(asyncio.run(_cycle(cycles))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke check: 1 repetition")
    parser.add_argument("--child", choices=("on", "off"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.cycles)
        return
    repeat = 1 if args.quick else args.repeat
    stats.header(f"help and palette opened and closed {args.cycles} times each, 160x45, "
                 f"{repeat} repetitions, fresh process each", repeat)
    results: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    for rep in range(repeat):
        for mode in (("on", "off") if rep % 2 == 0 else ("off", "on")):
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--cycles", str(args.cycles)],
                capture_output=True, text=True, check=True, timeout=600)
            results[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    for key, label, unit, digits in (
        ("styles_caches", "StylesCache objects alive", "", 0),
        ("objects", "objects the collector tracks", "", 0),
        ("full_pass_ms", "one full collection pass", " ms", 0),
        ("rss_growth_mb", "RSS growth over the cycles", " MB", 1),
    ):
        on = [r[key] for r in results["on"]]
        off = [r[key] for r in results["off"]]
        print(f"   {label:<30} with the workaround {stats.fmt(on, unit, digits=digits)}"
              f"   Textual as shipped {stats.fmt(off, unit, digits=digits)}")
        if key in ("objects", "full_pass_ms"):
            print("   " + stats.ratio_line(f"{label}, with / without", on, off, unit=unit,
                                            digits=digits))
    stats.footer()


if __name__ == "__main__":
    main()
