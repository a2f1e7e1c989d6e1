"""Service RSS over a steady churn of runs (issue 10: it grew ~0.3 MiB/min, not levelling off).

    .venv/bin/python benchmarks/service_churn.py [--minutes 20] [--sample 30]

Two services side by side for the same minutes: the churned one (clients create small
knapsack runs, poll each until final, then fetch its result, logs, live log, output, input
and a download URL, while a monitor-like client polls the queue every second) and the anchor
(the same service polled the same way with no runs: what RSS does on this machine, now,
without churn). Prints RSS every ``--sample`` seconds and each one's slope over the second
half (a least-squares fit, MiB/min); asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import threading
import time

from hostile_service import Service, rss_mib

FINAL = ("succeeded", "failed", "canceled")


def items(seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    return {"items": [{"id": f"i{i}", "value": rng.randint(1, 50), "weight": rng.randint(1, 20)}
                      for i in range(20)], "weight_capacity": 60}


def churn(service: Service, stop: threading.Event, counter: list[int], seed: int) -> None:
    with service.client(timeout=60) as client:
        while not stop.is_set():
            run_id = client.post("/v1/applications/knapsack/runs",
                                 json={"input": items(seed + counter[0])}).json()["run_id"]
            run = f"/v1/applications/knapsack/runs/{run_id}"
            while client.get(f"{run}/metadata").json()["metadata"]["status_v2"] not in FINAL:
                client.get(f"{run}/logs/live")
                stop.wait(0.1)
            for path in ("", "/logs", "/logs/live", "/output", "/input"):
                client.get(run + path)
            client.get(run, params={"format": "url"})
            counter[0] += 1


def poll_queue(service: Service, stop: threading.Event) -> None:
    with service.client(timeout=60) as client:
        while not stop.is_set():
            client.get("/v1/account/queue")
            stop.wait(1.0)


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (minutes, MiB) points, MiB per minute."""
    n = len(points)
    if n < 2:
        return float("nan")
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()
    churned, anchor = Service("--concurrency", "2"), Service("--concurrency", "2")
    stop = threading.Event()
    counter = [0]
    threads = [threading.Thread(target=churn, args=(churned, stop, counter, 1000 * i),
                                daemon=True) for i in range(args.clients)]
    threads += [threading.Thread(target=poll_queue, args=(s, stop), daemon=True)
                for s in (churned, anchor)]
    samples: list[tuple[float, float, float, int]] = []
    try:
        for thread in threads:
            thread.start()
        began = time.monotonic()
        end = began + args.minutes * 60
        print("minute  churned MiB  anchor MiB  runs")
        while True:
            minute = (time.monotonic() - began) / 60
            samples.append((minute, rss_mib(churned.pid), rss_mib(anchor.pid), counter[0]))
            print(f"{minute:6.1f}  {samples[-1][1]:11.1f}  {samples[-1][2]:10.1f}  "
                  f"{counter[0]:4d}", flush=True)
            if time.monotonic() >= end:
                break
            time.sleep(min(args.sample, max(0.0, end - time.monotonic())))
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        churned.stop()
        anchor.stop()
    half = [s for s in samples if s[0] >= args.minutes / 2]
    runs_per_min = samples[-1][3] / max(samples[-1][0], 1e-9)
    print(f"runs: {samples[-1][3]} ({runs_per_min:.0f}/min)")
    print(f"RSS slope over the second half: churned {slope([(m, c) for m, c, _, _ in half]):+.3f}"
          f" MiB/min, anchor {slope([(m, a) for m, _, a, _ in half]):+.3f} MiB/min")
    print(f"RSS first -> last: churned {samples[0][1]:.1f} -> {samples[-1][1]:.1f} MiB, "
          f"anchor {samples[0][2]:.1f} -> {samples[-1][2]:.1f} MiB")


if __name__ == "__main__":
    main()
