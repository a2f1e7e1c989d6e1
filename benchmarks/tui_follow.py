"""Following one run to its end: how late the monitor shows it finished, and how many detail
requests it sends, next to the official SDK's default polling of the same run.

    .venv/bin/python benchmarks/tui_follow.py [--seconds 60] [--repeat 5] [--quick]

In every repetition the synthetic API starts one run that is ``running`` for exactly
``--seconds`` and then ``succeeded`` (it leaves the queue, its metadata and result become
final; ``fakeapi.py --follow``). Watching it, side by side in the same window:

- the real ``nextmv-tui`` on a 160x45 pty (the run is the only one in the queue, so it is
  selected and its detail pane follows it): "seen" is the first screen whose line with the
  run's ID says ``succeeded`` (the run's own table row: since the run history, other lines
  such as the summary's counts say ``succeeded`` from the start);
- the SDK (``nextmv`` 1.13): ``Application.run_result_with_polling(run_id)`` with its
  default polling options: "seen" is when it returns.

Lateness is seen minus the moment the run finished (the API's clock, shared monotonic time).
Requests are those about that run (metadata, live logs, result), counted by the API for
each client until it saw the end (the monitor: 3 s more, to catch a last fetch). Prints
median [min..max]; asserts nothing. Goals (issue 14): at most 70 requests, at most 2 s late.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import stats, subjects
from benchmarks.harness.servers import FakeApi

FOLLOWED = "bench-9000000"
SDK = (
    "import sys, time\n"
    "from nextmv import cloud\n"
    "client = cloud.Client(api_key=sys.argv[2], url=sys.argv[1])\n"
    "app = cloud.Application(client=client, id='routing')\n"
    "app.run_result_with_polling(sys.argv[3])\n"
    "print(f'{time.monotonic():.6f}', flush=True)\n"
)


def one_run(api: FakeApi, seconds: float) -> dict[str, tuple[float, int]]:
    """{client: (seconds late, requests)} for one followed run."""
    api.reset(0, 0.0, 0.0, follow=seconds)
    start = float(next(line for line in api.other if line.startswith("F ")).split()[1])
    finished = start + seconds
    app = subjects.monitor(api.endpoint, api.api_key)
    sdk = subprocess.Popen([sys.executable, "-c", SDK, api.endpoint, api.api_key, FOLLOWED],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        seen = app.wait_for(
            lambda s: any(FOLLOWED in line and "succeeded" in line for line in s.display),
            seconds + 120, "the run's row shown as succeeded")
        app.drain(3.0)
        assert sdk.stdout is not None
        sdk_seen = float(sdk.stdout.readline() or "nan")
        sdk.wait(seconds + 120)
    finally:
        app.close()
        if sdk.poll() is None:
            sdk.kill()
            sdk.wait()
        if sdk.stdout is not None:
            sdk.stdout.close()
    api.events(0.2)
    counts = {who: sum(1 for line in api.other if line.startswith(f"R {who} "))
              for who in ("tui", "sdk")}
    return {"nextmv-tui": (seen - finished, counts["tui"]),
            "official SDK": (sdk_seen - finished, counts["sdk"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke check: one 5 s run")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeat = 5.0, 1
    stats.header(f"following one {args.seconds:g} s run to its end, monitor and SDK side by "
                 f"side, {args.repeat} runs", args.repeat)
    late: dict[str, list[float]] = {"nextmv-tui": [], "official SDK": []}
    requests: dict[str, list[float]] = {"nextmv-tui": [], "official SDK": []}
    with FakeApi(0, 0.0) as api:
        for _ in range(args.repeat):
            for name, (lateness, count) in one_run(api, args.seconds).items():
                late[name].append(lateness)
                requests[name].append(float(count))
            time.sleep(0.5)  # pacing between runs
    for name in late:
        print(f"   {name:<14} seen finished {stats.fmt(late[name], ' s late', 1, 2)}   "
              f"requests about the run {stats.fmt(requests[name], '', 1, 0)}")
    print("   " + stats.ratio_line("requests, nextmv-tui / SDK", requests["nextmv-tui"],
                                    requests["official SDK"], digits=0))
    stats.footer()


if __name__ == "__main__":
    main()
