"""The long monkey: RSS and CPU of the monitor over a long session of random use.

    .venv/bin/python benchmarks/tui_monkey.py [--minutes 30] [--window 60] [--seed N] [--quick]

Two real ``nextmv-tui`` processes run side by side on their own 120x40 ptys against one real
local service (``serve --concurrency 2``) while a feeder creates knapsack and routing runs
and cancels some, as in ``tests/tui/test_monkey.py``:

- **monkey**: gets random input, about five events a second: every key of every action
  of the action table (``tui/actions.py``, quit left out), navigation keys, the command
  palette (ctrl+p, an action's title or a theme), text typed into whatever screen is open,
  escapes, and terminal resizes between 80x24 and 200x60 (TIOCSWINSZ, so SIGWINCH);
- **idle** (the anchor): the same monitor, same service and same runs, no input.

Every second both process trees are sampled from /proc; each ``--window`` prints, for each,
CPU % of one core over the window and RSS median [min..max] of its samples, and the paired
monkey/idle ratio. The summary gives each figure median [min..max] over the windows and the
RSS growth from the first window to the last (a leak shows there, in the monkey and not in
the anchor). It asserts nothing, but says if either process died (with its screen).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import random
import re
import signal
import struct
import sys
import tempfile
import termios
import threading
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import procstat, stats
from benchmarks.harness.servers import BIN, local_service
from benchmarks.harness.subjects import base_env
from benchmarks.harness.term import PtyApp
from nextmv_tui.cloud.samples import make_knapsack_input, make_routing_input
from nextmv_tui.tui import actions

KEY_BYTES = {
    "question_mark": b"?", "slash": b"/", "escape": b"\x1b", "plus": b"+", "minus": b"-",
    "equals_sign": b"=", "f1": b"\x1bOP", "up": b"\x1b[A", "down": b"\x1b[B",
    "pageup": b"\x1b[5~", "pagedown": b"\x1b[6~", "home": b"\x1b[H", "end": b"\x1b[F",
    "tab": b"\t", "shift+tab": b"\x1b[Z", "enter": b"\r", "space": b" ", "ctrl+p": b"\x10",
}
NAV = ("up", "down", "pageup", "pagedown", "home", "end", "tab", "shift+tab", "enter")
THEMES = ("textual-dark", "textual-light", "nord", "gruvbox", "dracula", "monokai",
          "tokyo-night", "solarized-light")
SIZES = ((80, 24), (200, 60))
COLS, ROWS = 120, 40


def key_bytes(name: str) -> bytes | None:
    if name in KEY_BYTES:
        return KEY_BYTES[name]
    return name.encode() if len(name) == 1 else None


def action_inputs() -> list[bytes]:
    """The bytes of every key of every action (quit excepted) a terminal can send."""
    found = []
    for action in actions.ACTIONS:
        if action.id == "quit":
            continue
        for key in actions.keys_of(action, {}):
            data = key_bytes(key)
            if data is not None:
                found.append(data)
    return found


def resize(app: PtyApp, cols: int, rows: int) -> None:
    fcntl.ioctl(app.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    app.screen.resize(rows, cols)


class Monkey:
    def __init__(self, app: PtyApp, seed: int) -> None:
        self.app = app
        self.rng = random.Random(seed)
        self.keys = action_inputs()
        self.titles = [a.title for a in actions.ACTIONS if a.id != "quit"] + ["Keys"]
        self.events = 0
        self.recent: deque[bytes] = deque(maxlen=30)

    def step(self) -> None:
        rng = self.rng

        def send(data: bytes) -> None:
            self.recent.append(data)
            self.app.send(data)

        roll = rng.random()
        self.events += 1
        if roll < 0.45:
            send(rng.choice(self.keys))
        elif roll < 0.65:
            send(KEY_BYTES[rng.choice(NAV)])
        elif roll < 0.75:
            send(b"\x10")
            time.sleep(0.3)  # the palette opens (pacing of the input, like a user)
            if rng.random() < 0.3:
                send(b"theme\r")
                time.sleep(0.3)
                send(rng.choice(THEMES).encode() + b"\r")
            else:
                send(rng.choice(self.titles).lower().encode() + b"\r")
        elif roll < 0.85:
            send(rng.choice([b"\x1b", b"\x1b", b"abc", b"latest", b"y", b"n"]))
        else:
            (w0, h0), (w1, h1) = SIZES
            cols, rows = rng.randint(w0, w1), rng.randint(h0, h1)
            self.recent.append(f"resize {cols}x{rows}".encode())
            resize(self.app, cols, rows)


def feeder(endpoint: str, api_key: str, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    active: list[tuple[str, str]] = []
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {api_key}"},
                      timeout=30) as client:
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                if len(active) < 6:
                    if rng.random() < 0.5:
                        app_id, body = "knapsack", {"input": make_knapsack_input(20, 3)}
                    else:
                        app_id = "routing"
                        body = {"input": make_routing_input(8, 1, 1),
                                "options": {"duration": str(rng.randint(1, 5))}}
                    body["name"] = f"monkey {app_id}"
                    answer = client.post(f"/v1/applications/{app_id}/runs", json=body)
                    active.append((app_id, answer.json()["run_id"]))
                if active and rng.random() < 0.25:
                    app_id, run_id = active.pop(rng.randrange(len(active)))
                    client.patch(f"/v1/applications/{app_id}/runs/{run_id}/cancel")
                still = []
                for app_id, run_id in active:
                    info = client.get(f"/v1/applications/{app_id}/runs/{run_id}").json()
                    if info["metadata"]["status_v2"] in ("queued", "running"):
                        still.append((app_id, run_id))
                active = still
            stop.wait(rng.uniform(0.3, 1.2))


TAIL_BYTES = 256 * 1024
ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|.)")


def keep(tail: bytearray, app: PtyApp) -> None:
    """Read what the program wrote without emulating it; keep the last TAIL_BYTES (its
    traceback, should it die)."""
    app._read_pipe()
    while app._records:
        tail += app._records.popleft()[1]
    del tail[:-TAIL_BYTES]


def plain_tail(tail: bytearray, lines: int = 60) -> str:
    text = ESCAPES.sub(b"", bytes(tail)).decode(errors="replace").replace("\r", "")
    return "\n".join(line.rstrip() for line in text.splitlines()[-lines:] if line.strip())


def start_monitor(endpoint: str, api_key: str, cwd: str) -> PtyApp:
    argv = [str(BIN / "nextmv-tui"), "--endpoint", endpoint, "--refresh", "2"]
    return PtyApp(argv, cols=COLS, rows=ROWS, env={**base_env(), "NEXTMV_API_KEY": api_key},
                  cwd=cwd)


def sample(apps: dict[str, PtyApp]) -> dict[str, tuple[float, int]]:
    return {name: (procstat.tree_cpu(app.pid), procstat.tree_rss(app.pid))
            for name, app in apps.items()}


def run(minutes: float, window: float, seed: int) -> int:
    stats.header(f"monkey soak: {minutes:g} min, windows of {window:g} s, seed {seed}")
    windows: dict[str, dict[str, list[float]]] = {
        name: {"cpu": [], "rss": []} for name in ("monkey", "idle")}
    with tempfile.TemporaryDirectory() as tmp, \
            local_service(Path(tmp) / "data", "--concurrency", "2") as service:
        stop = threading.Event()
        feed = threading.Thread(target=feeder, args=(service.endpoint, service.api_key, stop,
                                                     seed), daemon=True)
        feed.start()
        apps = {name: start_monitor(service.endpoint, service.api_key, tmp)
                for name in ("monkey", "idle")}
        monkey = Monkey(apps["monkey"], seed)
        tails = {name: bytearray() for name in apps}
        died = ""
        try:
            for app in apps.values():
                app.wait_for(lambda s: "online" in "".join(s.display), 60, "online")
            began = time.monotonic()
            while time.monotonic() - began < minutes * 60 and not died:
                start, rss, t0 = sample(apps), {n: [] for n in apps}, time.monotonic()
                while time.monotonic() - t0 < window and not died:
                    next_sample = time.monotonic() + 1.0
                    while time.monotonic() < next_sample:
                        monkey.step()
                        for name, app in apps.items():
                            keep(tails[name], app)
                        time.sleep(monkey.rng.uniform(0.05, 0.35))
                    for name, (_, now_rss) in sample(apps).items():
                        rss[name].append(now_rss / 2**20)
                    died = ", ".join(f"{n} (exit {a.proc.poll()})" for n, a in apps.items()
                                     if a.proc.poll() is not None)
                elapsed, end = time.monotonic() - t0, sample(apps)
                line = [f"   t={time.monotonic() - began:6.0f} s"]
                for name in apps:
                    cpu = 100 * (end[name][0] - start[name][0]) / elapsed
                    windows[name]["cpu"].append(cpu)
                    windows[name]["rss"].append(stats.spread(rss[name])[0])
                    med, low, high = stats.spread(rss[name])
                    line.append(f"{name}: cpu {cpu:5.1f} %, rss {med:.1f} [{low:.1f}..{high:.1f}]"
                                " MB")
                print("  ".join(line), flush=True)
        finally:
            stop.set()
            if died:
                for name, app in apps.items():
                    if app.proc.poll() is not None:
                        keep(tails[name], app)
                        print(f"   ** {name} ended early (exit {app.proc.poll()}); the end of "
                              f"its output:\n{plain_tail(tails[name])}")
                print(f"   last monkey inputs: {list(monkey.recent)}")
            for app in apps.values():
                app.send(b"\x1b\x1b\x1b")
                app.close()
            feed.join(10)
    summarize(windows, monkey.events)
    stats.footer()
    return 1 if died else 0


def summarize(windows: dict[str, dict[str, list[float]]], events: int) -> None:
    print(f"   monkey input events: {events}")
    for name, figures in windows.items():
        rss = figures["rss"]
        growth = rss[-1] - rss[0] if rss else float("nan")
        print(f"   {name}: cpu {stats.fmt(figures['cpu'], ' % of a core')}, "
              f"rss {stats.fmt(rss, ' MB')}, rss growth first->last window {growth:+.1f} MB")
    print("   " + stats.ratio_line("cpu monkey/idle", windows["monkey"]["cpu"],
                                  windows["idle"]["cpu"], unit=" %"))
    print("   " + stats.ratio_line("rss monkey/idle", windows["monkey"]["rss"],
                                  windows["idle"]["rss"], unit=" MB"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="1 minute, 10 s windows (smoke)")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.window = 1.0, 10.0
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return run(args.minutes, args.window, seed)


if __name__ == "__main__":
    raise SystemExit(main())
