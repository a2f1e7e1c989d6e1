"""Refresh of a large queue, measured as a user meets it: the real ``nextmv-tui`` on a pty.

    .venv/bin/python benchmarks/tui_refresh.py [--runs 10000 50000] [--repeat 5]
                                               [--refreshes 3] [--quick]
    .venv/bin/python benchmarks/tui_refresh.py --validate-ms 300   # check the harness itself

Subject and anchor run one after the other in every repetition (order alternating), each on
a 160x45 pty read by a terminal emulator (pyte), against the synthetic API (a separate
process) serving ``--runs`` queued runs of which ``--change`` (5 %) change status on every
refresh (``benchmarks/harness/fakeapi.py``):

- subject: the real ``nextmv-tui`` process, ``--refresh 2`` (its CLI, prefetch, httpx
  client, parse, diff, table, detail pane; nothing is called in-process);
- anchor: the floor (``benchmarks/harness/floor_app.py``): a stock DataTable with the same
  rows, applying the same status changes by row key every 2 s, fetching only the changed
  entries on a thread. Both carry the opt-in loop probe (``NEXTMV_TUI_LOOP_PROBE``).

Figures per repetition (then median [min..max] over repetitions, and paired ratios):

- first load: process start until every visible row is on screen;
- CPU per refresh cycle: CPU seconds of the process tree between two queue requests (one
  refresh, one key press and the 2 s wait; /proc, 10 ms resolution);
- longest event-loop block in a cycle: the probe's largest lateness (5 ms sleeps) in it;
- key -> screen during a refresh: a cursor-down written ``OFFSETS`` after the server handed
  the last byte of the queue answer to the socket (so the program is parsing and applying
  it, at any size), until the highlighted run ID on the emulated screen changed;
- RSS of the process tree after the refreshes.

``--validate-ms N`` runs the floor against a floor that blocks its loop N ms in every
refresh: the harness must report a block of about N ms and, for a key written at offset o,
a latency of about N - o (plus the fetch and a frame). Prints; asserts nothing. Goals
(issue 14): key -> screen < 100 ms at 10,000 and < 150 ms at 50,000; loop block < 50 ms;
RSS at 50,000 <= 2x the floor; first load of 50,000 <= 1.5x the floor.
"""

from __future__ import annotations

import argparse
import select
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import procstat, stats, subjects
from benchmarks.harness.servers import FakeApi, QueueEvent
from benchmarks.harness.stats import REPO
from benchmarks.harness.term import PtyApp, ScreenTimeout, highlighted_id

OFFSETS = (0.02, 0.1, 0.25)
"""Key written this long after the queue answer's last byte was written (cycled)."""
AGE = 3600.0


@dataclass
class Cycle:
    start: float
    end: float
    cpu: float
    offset: float
    key: float  # seconds; NaN if the highlight never moved
    block: float = float("nan")


@dataclass
class Rep:
    first_load: float = float("nan")
    rss: int = 0
    peak: int = 0
    cycles: list[Cycle] = field(default_factory=list)

    def median(self, name: str) -> float:
        return stats.spread([getattr(c, name) for c in self.cycles])[0]

    def worst(self, name: str) -> float:
        return stats.spread([getattr(c, name) for c in self.cycles])[2]


def wait_event(app: PtyApp, api: FakeApi, timeout: float) -> QueueEvent:
    """Next queue answer of the API, keeping the emulator current meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in api.events() if e.generation >= 1]
        if found:
            return found[-1]
        ready, _, _ = select.select([app, api], [], [], max(0.0, deadline - time.monotonic()))
        if app in ready:
            app.pump(0)
    raise ScreenTimeout(f"no refresh within {timeout:g} s\n" + app.dump())


def catch_up(app: PtyApp, until: float | None = None) -> None:
    """Feed everything read so far (and keep reading until ``until``)."""
    while app.pump(0) is not None:
        pass
    while until is not None and time.monotonic() < until:
        app.pump(until - time.monotonic())


def press_during_refresh(app: PtyApp, event: QueueEvent, offset: float,
                         last_seen: str | None) -> float:
    catch_up(app, event.written + offset)
    catch_up(app)
    before = highlighted_id(app.screen, subjects.RUN_ID) or last_seen
    written = app.send(subjects.DOWN)

    def moved(screen: object) -> bool:
        now = highlighted_id(app.screen, subjects.RUN_ID)
        return now is not None and now != before

    try:
        return app.wait_for(moved, 60, "highlight moved") - written
    except ScreenTimeout:
        return float("nan")


def read_probe(path: Path) -> tuple[list[tuple[float, float]], float]:
    """(due time, lateness) records and the time the file is complete to."""
    records: list[tuple[float, float]] = []
    complete = 0.0
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("# "):
                complete = max(complete, float(line[2:]))
            elif line:
                due, late = line.split()
                records.append((float(due), float(late)))
    return records, complete


def run_subject(name: str, api: FakeApi, runs: int, args: argparse.Namespace,
                probe: Path, slow_ms: float = 0.0) -> Rep:
    api.reset(runs, args.change, AGE)
    probe.unlink(missing_ok=True)
    if name == "nextmv-tui":
        app = subjects.monitor(api.endpoint, api.api_key, refresh=args.interval, probe=probe)
    else:
        app = subjects.floor(endpoint=api.endpoint, refresh=args.interval, probe=probe,
                             slow_ms=slow_ms)
    rep = Rep()
    load_timeout = 60 + runs / 500
    try:
        rep.first_load = subjects.rows_complete(app, timeout=load_timeout)[1]
        event = wait_event(app, api, load_timeout)
        last_seen = highlighted_id(app.screen, subjects.RUN_ID)
        for index in range(args.refreshes):
            cpu0 = procstat.tree_cpu(app.pid)
            offset = OFFSETS[index % len(OFFSETS)]
            key = press_during_refresh(app, event, offset, last_seen)
            last_seen = highlighted_id(app.screen, subjects.RUN_ID) or last_seen
            following = wait_event(app, api, load_timeout)
            rep.cycles.append(Cycle(event.received, following.received,
                                    procstat.tree_cpu(app.pid) - cpu0, offset, key))
            event = following
        rep.rss, rep.peak = procstat.tree_rss(app.pid), procstat.tree_peak(app.pid)
        catch_up(app, time.monotonic() + 0.6)  # let the probe flush past the last cycle
    finally:
        app.close()
    records, complete = read_probe(probe)
    for cycle in rep.cycles:
        if cycle.end <= complete:
            late = [v for due, v in records if cycle.start <= due < cycle.end]
            cycle.block = max(late, default=0.0)
    return rep


def report(runs: int, results: dict[str, list[Rep]], subject: str, anchor: str) -> None:
    print(f"-- {runs:,} queued runs, {int(100 * ARGS.change)}% changed per refresh")
    figures = (
        ("first load, all visible rows on screen", lambda r: r.first_load, " s", 1, 2),
        ("CPU per refresh cycle", lambda r: r.median("cpu"), " ms", 1000, 0),
        ("longest loop block in a refresh (median of the refreshes)",
         lambda r: r.median("block"), " ms", 1000, 0),
        ("longest loop block in a refresh (worst refresh)", lambda r: r.worst("block"), " ms",
         1000, 0),
        ("key -> screen during a refresh (median of the presses)", lambda r: r.median("key"),
         " ms", 1000, 0),
        ("key -> screen during a refresh (worst press)", lambda r: r.worst("key"), " ms", 1000,
         0),
        ("RSS after the refreshes", lambda r: r.rss, " MB", 1e-6, 0),
    )
    for label, get, unit, scale, digits in figures:
        subject_values = [get(r) for r in results[subject]]
        anchor_values = [get(r) for r in results[anchor]]
        print(f"   {label}")
        print(f"      {subject:<14} {stats.fmt(subject_values, unit, scale, digits)}")
        print(f"      {anchor:<14} {stats.fmt(anchor_values, unit, scale, digits)}")
        print("      " + stats.ratio_line(f"{subject} / {anchor}", subject_values, anchor_values,
                                          unit=unit, scale=scale, digits=digits))
    print("   every key press, by offset after the answer was written (ms, all repetitions):")
    for name in (subject, anchor):
        for offset in OFFSETS:
            keys = [c.key for r in results[name] for c in r.cycles if c.offset == offset]
            blocks = [c.block for r in results[name] for c in r.cycles if c.offset == offset]
            if keys:
                print(f"      {name:<14} +{offset * 1000:3.0f} ms: key "
                      f"{stats.fmt(keys, '', 1000, 0)}   block {stats.fmt(blocks, '', 1000, 0)}")
    missed = sum(1 for r in results[subject] for c in r.cycles if c.key != c.key)
    if missed:
        print(f"   ({missed} key presses never moved the highlight within 60 s: left out)")


ARGS = argparse.Namespace(change=0.05)


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--refreshes", type=int, default=3, help="measured refreshes per run")
    parser.add_argument("--change", type=float, default=0.05)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--validate-ms", type=float, default=0.0,
                        help="compare the floor with a floor slowed by this much per refresh")
    parser.add_argument("--quick", action="store_true",
                        help="smoke check: 2,000 runs, 1 repetition, 1 refresh")
    ARGS = args = parser.parse_args()
    subjects.precompile(REPO)  # as installed: no compiling at launch (first load)
    if args.quick:
        args.runs, args.repeat, args.refreshes = [2000], 1, 1
    subject = "slowed floor" if args.validate_ms else "nextmv-tui"
    anchor = "floor"
    stats.header(f"refresh of a large queue on a pty 160x45: {subject} vs {anchor}, "
                 f"{args.repeat} repetitions x {args.refreshes} refreshes, every "
                 f"{args.interval:g} s" + (f", slowed by {args.validate_ms:g} ms"
                                           if args.validate_ms else ""), args.repeat)
    with tempfile.TemporaryDirectory(prefix="tui-refresh-") as tmp, \
            FakeApi(args.runs[0], args.change, AGE) as api:
        for runs in args.runs:
            results: dict[str, list[Rep]] = {subject: [], anchor: []}
            for rep in range(args.repeat):
                order = [anchor, subject] if rep % 2 == 0 else [subject, anchor]
                for name in order:
                    slow = args.validate_ms if name == "slowed floor" else 0.0
                    kind = "nextmv-tui" if name == "nextmv-tui" else "floor"
                    results[name].append(run_subject(kind, api, runs, args,
                                                     Path(tmp) / f"probe-{rep}.txt", slow))
            report(runs, results, subject, anchor)
    stats.footer()


if __name__ == "__main__":
    main()
