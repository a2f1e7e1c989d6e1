"""Idle CPU of the monitor as a ratio to the framework's floor with the same refresh cadence.

    .venv/bin/python benchmarks/tui_idle.py [--seconds 120] [--repeat 5] [--runs 200] [--quick]

Three programs run side by side in the same window, each on its own 160x45 pty and its own
synthetic API serving ``--runs`` queued runs that never change (the idle case):

- ``nextmv-tui``, runs created just before it starts (young: ages shown in seconds tick);
- ``nextmv-tui``, runs created an hour before (ages in minutes/hours);
- the floor: a stock DataTable with the same rows that polls the API every 2 s like the
  monitor and updates one cell per refresh (``benchmarks/harness/floor_app.py``).

Running them in the same window, rather than one after the other, gives every program the
same machine load. Each repetition starts fresh processes (so "young" stays young), waits
until the rows are on screen plus 5 s, then takes the CPU time of each process tree from
/proc over ``--seconds`` (>= 120 s by default; the terminal output is read by a relay, so
writing frames costs the programs what a real terminal costs them). Prints % of one core,
median [min..max], and the paired ratios; asserts nothing. Goal (issue 14): <= 1.0x the floor.
No loop probe here: it would cost CPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import procstat, stats, subjects
from benchmarks.harness.servers import FakeApi
from benchmarks.harness.term import PtyApp

CASES = (("young", 0.0), ("hour-old", 3600.0), ("floor", 3600.0))


def one_window(apis: dict[str, FakeApi], runs: int, seconds: float) -> dict[str, float]:
    apps: dict[str, PtyApp] = {}
    try:
        for name, age in CASES:
            apis[name].reset(runs, 0.0, age)
            api = apis[name]
            apps[name] = (subjects.floor(endpoint=api.endpoint) if name == "floor"
                          else subjects.monitor(api.endpoint, api.api_key))
        for app in apps.values():
            subjects.rows_complete(app, timeout=60, quiet=0.5)
        settle = time.monotonic() + 5.0
        while time.monotonic() < settle:
            for app in apps.values():
                app.discard()
            time.sleep(0.2)
        start = {name: procstat.tree_cpu(app.pid) for name, app in apps.items()}
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            for app in apps.values():
                app.discard()
            time.sleep(min(1.0, max(0.0, seconds - (time.monotonic() - began))))
        elapsed = time.monotonic() - began
        return {name: (procstat.tree_cpu(app.pid) - start[name]) / elapsed
                for name, app in apps.items()}
    finally:
        for app in apps.values():
            app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="smoke check: 1 window of 5 s")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeat = 5.0, 1
    stats.header(f"idle CPU, {args.runs} queued runs, refresh every 2 s, pty 160x45, "
                 f"{args.repeat} windows of {args.seconds:g} s (3 programs side by side)",
                 args.repeat)
    if args.seconds < 120:
        print("   ** windows under 120 s: a smoke check, not figures to quote **")
    samples: dict[str, list[float]] = {name: [] for name, _ in CASES}
    apis = {name: FakeApi(args.runs, 0.0, age) for name, age in CASES}
    try:
        for _ in range(args.repeat):
            for name, share in one_window(apis, args.runs, args.seconds).items():
                samples[name].append(share)
    finally:
        for api in apis.values():
            api.close()
    labels = {"young": "nextmv-tui, runs just created", "hour-old": "nextmv-tui, runs 1 h old",
              "floor": "floor (stock DataTable)"}
    for name, _ in CASES:
        print(f"   {labels[name]:<32} {stats.fmt(samples[name], ' % of a core', 100, 2)}")
    for name in ("young", "hour-old"):
        print("   " + stats.ratio_line(f"{name} / floor", samples[name], samples["floor"],
                                        unit=" %", scale=100, digits=2, goal="<= 1.0x"))
    stats.footer()


if __name__ == "__main__":
    main()
