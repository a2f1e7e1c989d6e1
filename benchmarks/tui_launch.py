"""Launch: time until every visible row of the queue is on screen, monitor vs the floor.

    .venv/bin/python benchmarks/tui_launch.py [--runs 200] [--repeat 10] [--quick]
        [--compare DIR]

Both programs run on a 160x45 pty read by a terminal emulator (pyte), interleaved (the
order alternates every repetition):

- subject: the real ``nextmv-tui`` process against the synthetic API serving ``--runs``
  queued runs (its prefetch, client, parse, table and first frame all count);
- anchor: the floor, a bare Textual app with a stock DataTable showing the same rows (read
  from a local JSON file, so it pays no network at all), timed to its FIRST PAINT of them.
  The floor stays open like the monitor, so no shutdown time is in either figure.

Each checkout's bytecode is written first (``subjects.precompile``), as ``pip install`` does;
``--source-only`` skips that (then, under ``PYTHONDONTWRITEBYTECODE``, every launch compiles
the package from source: about 150 ms the floor's precompiled Textual does not pay).

"All visible rows on screen" is judged from the screen alone: the table's run IDs are
watched until they have not changed for a second, and the time is the first read after which
the screen held every one of them. Time 0 is just before the process is started. Prints
median [min..max] of each and the paired ratio; asserts nothing. Goal (issue 14): <= 1.1x.

The synthetic API also serves the run history (100 finished runs for each of two
applications), which the monitor lists after its first rows. ``--compare DIR`` adds a third
subject interleaved with the others: the monitor of another checkout (e.g. ``git archive``
of the base commit into DIR) run with this venv, and prints this monitor / that one (issue
9's goal: launch to first rows within 1.2x of before).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import stats, subjects
from benchmarks.harness.servers import FakeApi
from benchmarks.harness.stats import REPO


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="smoke check: 1 repetition")
    parser.add_argument("--compare", type=Path, default=None,
                        help="a checkout of another commit: its monitor is measured too")
    parser.add_argument("--source-only", action="store_true",
                        help="do not precompile the checkouts' bytecode (each launch then "
                        "compiles the package if PYTHONDONTWRITEBYTECODE is set)")
    args = parser.parse_args()
    if not args.source_only:
        subjects.precompile(REPO, *([args.compare] if args.compare else []))
    repeat = 1 if args.quick else args.repeat
    stats.header(f"launch to all visible rows on screen, {args.runs} queued runs, "
                 f"pty 160x45, {repeat} repetitions, bytecode "
                 f"{'compiled at each launch' if args.source_only else 'precompiled'}", repeat)
    results: dict[str, list[tuple[float, float]]] = {"monitor": [], "floor": [], "compare": []}
    names = ["floor", "monitor"] + (["compare"] if args.compare else [])
    with tempfile.TemporaryDirectory(prefix="tui-launch-") as tmp, \
            FakeApi(args.runs, change=0.0, age=3600) as api:
        rows_file = Path(tmp) / "queue.json"
        queue = httpx.get(api.endpoint + "/v1/account/queue", timeout=30).json()
        rows_file.write_text(json.dumps(queue))
        for rep in range(repeat):
            order = names[rep % len(names):] + names[:rep % len(names)]  # rotate
            for name in order:
                app = (subjects.floor(rows_file=rows_file) if name == "floor"
                       else subjects.monitor(api.endpoint, api.api_key,
                                             source=args.compare if name == "compare" else None))
                try:
                    results[name].append(subjects.rows_complete(app, timeout=60))
                finally:
                    app.close()
    labels = [("monitor", "nextmv-tui, all visible rows"),
              ("floor", "floor, first paint of its rows")]
    if args.compare:
        labels.append(("compare", f"{args.compare.name}, all visible rows"))
    for name, label in labels:
        first = [r[0] for r in results[name]]
        complete = [r[1] for r in results[name]]
        print(f"   {label:<32} {stats.fmt(complete, ' ms', 1000, 0)}"
              f"   (first run ID {stats.fmt(first, ' ms', 1000, 0)})")
    print("   " + stats.ratio_line("monitor / floor", [r[1] for r in results["monitor"]],
                                    [r[1] for r in results["floor"]], unit=" ms", scale=1000,
                                    digits=0, goal="<= 1.10x"))
    if args.compare:
        print("   " + stats.ratio_line(f"monitor / {args.compare.name}",
                                        [r[1] for r in results["monitor"]],
                                        [r[1] for r in results["compare"]], unit=" ms",
                                        scale=1000, digits=0, goal="<= 1.20x"))
    stats.footer()


if __name__ == "__main__":
    main()
