"""Launch: time until every visible row of the queue is on screen, monitor vs the floor.

    .venv/bin/python benchmarks/tui_launch.py [--runs 200] [--repeat 10] [--quick]

Both programs run on a 160x45 pty read by a terminal emulator (pyte), interleaved (the
order alternates every repetition):

- subject: the real ``nextmv-tui`` process against the synthetic API serving ``--runs``
  queued runs (its prefetch, client, parse, table and first frame all count);
- anchor: the floor, a bare Textual app with a stock DataTable showing the same rows (read
  from a local JSON file, so it pays no network at all), timed to its FIRST PAINT of them.
  The floor stays open like the monitor, so no shutdown time is in either figure.

"All visible rows on screen" is judged from the screen alone: the table's run IDs are
watched until they have not changed for a second, and the time is the first read after which
the screen held every one of them. Time 0 is just before the process is started. Prints
median [min..max] of each and the paired ratio; asserts nothing. Goal (issue 14): <= 1.1x.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="smoke check: 1 repetition")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    stats.header(f"launch to all visible rows on screen, {args.runs} queued runs, "
                 f"pty 160x45, {repeat} repetitions", repeat)
    results: dict[str, list[tuple[float, float]]] = {"monitor": [], "floor": []}
    with tempfile.TemporaryDirectory(prefix="tui-launch-") as tmp, \
            FakeApi(args.runs, change=0.0, age=3600) as api:
        rows_file = Path(tmp) / "queue.json"
        queue = httpx.get(api.endpoint + "/v1/account/queue", timeout=30).json()
        rows_file.write_text(json.dumps(queue))
        for rep in range(repeat):
            order = ["floor", "monitor"] if rep % 2 == 0 else ["monitor", "floor"]
            for name in order:
                app = (subjects.monitor(api.endpoint, api.api_key) if name == "monitor"
                       else subjects.floor(rows_file=rows_file))
                try:
                    results[name].append(subjects.rows_complete(app, timeout=60))
                finally:
                    app.close()
    for name, label in (("monitor", "nextmv-tui, all visible rows"),
                        ("floor", "floor, first paint of its rows")):
        first = [r[0] for r in results[name]]
        complete = [r[1] for r in results[name]]
        print(f"   {label:<32} {stats.fmt(complete, ' ms', 1000, 0)}"
              f"   (first run ID {stats.fmt(first, ' ms', 1000, 0)})")
    print("   " + stats.ratio_line("monitor / floor", [r[1] for r in results["monitor"]],
                                    [r[1] for r in results["floor"]], unit=" ms", scale=1000,
                                    digits=0, goal="<= 1.10x"))
    stats.footer()


if __name__ == "__main__":
    main()
