"""Exact 0/1 knapsack as a Nextmv app (pure Python standard library).

Input on stdin:  {"items": [{"id", "value", "weight", ...}], "weight_capacity": C}
Output on stdout: {"options", "solution": {"items", "value", "weight"}, "statistics"}
Options as flags: -duration SECONDS (time limit, default 30), -algorithm auto|dp|bnb.
Unknown flags are ignored. Progress goes to stderr. Invalid input: one line on stderr, exit 1.

Algorithms: dynamic programming over the capacity when weights are integers and
items x capacity is small, otherwise a depth-first branch and bound with the Dantzig
(fractional) bound. Both are exact; only the time limit can end a search early, and then
the result says so (statistics.result.custom.optimal = false).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any, NoReturn

Number = float | int

DP_CELL_LIMIT = 4_000_000
DP_FORCED_CELL_LIMIT = 50_000_000  # an explicit -algorithm dp may go further, not unbounded
"""Largest items x (capacity + 1) table the DP builds; above it branch and bound runs."""


class InputError(Exception):
    """Invalid input or option; the message is the one-line reason."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 1, not usage + exit 2
        raise InputError(f"invalid options: {message}")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_options(argv: list[str]) -> dict[str, Any]:
    parser = _Parser(prog="knapsack", add_help=False, allow_abbrev=False)
    parser.add_argument("-duration", "--duration", default="30")
    parser.add_argument("-algorithm", "--algorithm", default="auto")
    known, _unknown = parser.parse_known_args(argv)
    try:
        duration = float(known.duration)
    except ValueError:
        raise InputError(f"invalid option -duration: {known.duration!r} is not a number") from None
    if not math.isfinite(duration) or duration < 0:
        raise InputError(f"invalid option -duration: {known.duration!r} must be >= 0")
    if known.algorithm not in ("auto", "dp", "bnb"):
        raise InputError(
            f"invalid option -algorithm: {known.algorithm!r} (use auto, dp or bnb)"
        )
    return {"duration": duration, "algorithm": known.algorithm}


def _number(value: object, where: str, *, non_negative: bool) -> Number:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"invalid input: {where} must be a number (got {json.dumps(value)})")
    if non_negative and value < 0:
        raise InputError(f"invalid input: {where} must not be negative (got {value})")
    return value


def read_input(text: str) -> tuple[list[dict[str, Any]], Number]:
    if not text.strip():
        raise InputError("invalid input: stdin is empty, expected a JSON object")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"invalid input: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError("invalid input: expected a JSON object with 'items' and 'weight_capacity'")
    if "items" not in data:
        raise InputError("invalid input: missing field 'items'")
    if "weight_capacity" not in data:
        raise InputError("invalid input: missing field 'weight_capacity'")
    items = data["items"]
    if not isinstance(items, list):
        raise InputError("invalid input: 'items' must be a list")
    capacity = _number(data["weight_capacity"], "weight_capacity", non_negative=True)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(f"invalid input: items[{index}] must be an object")
        for key in ("id", "value", "weight"):
            if key not in item:
                raise InputError(f"invalid input: items[{index}] is missing field '{key}'")
        _number(item["value"], f"items[{index}].value", non_negative=False)
        _number(item["weight"], f"items[{index}].weight", non_negative=True)
    return items, capacity


def _is_integral(value: Number) -> bool:
    return isinstance(value, int) or float(value).is_integer()


def solve_dp(
    values: list[Number], weights: list[int], capacity: int, deadline: float
) -> tuple[list[int], bool, int]:
    """Classic DP over capacity; returns (chosen indices, optimal, cells)."""
    best: list[Number] = [0] * (capacity + 1)
    taken: list[bytearray] = []
    optimal = True
    next_log = time.monotonic() + 1.0
    for value, weight in zip(values, weights, strict=True):
        now = time.monotonic()
        if now > deadline:
            optimal = False
            break
        if now >= next_log:
            log(f"dp: {len(taken)}/{len(values)} items done, best so far {best[capacity]}")
            next_log = now + 1.0
        take = bytearray(capacity + 1)
        for c in range(capacity, weight - 1, -1):
            candidate = best[c - weight] + value
            if candidate > best[c]:
                best[c] = candidate
                take[c] = 1
        taken.append(take)
    chosen = []
    c = capacity
    for index in range(len(taken) - 1, -1, -1):
        if taken[index][c]:
            chosen.append(index)
            c -= weights[index]
    return chosen, optimal, len(taken) * (capacity + 1)


def solve_bnb(
    values: list[Number], weights: list[Number], capacity: Number, deadline: float
) -> tuple[list[int], bool, int]:
    """Depth-first branch and bound (items by value density, Dantzig bound).

    Returns (chosen indices, optimal, nodes). All weights are > 0 and <= capacity here.
    """
    n = len(values)
    order = sorted(range(n), key=lambda i: values[i] / weights[i], reverse=True)
    p = [values[i] for i in order]
    w = [weights[i] for i in order]
    integral = all(isinstance(v, int) for v in p)
    x = [False] * n
    best: Number = 0
    best_set: list[int] = []
    cw: Number = 0
    cp: Number = 0
    j = 0
    nodes, optimal = 0, True
    next_log = time.monotonic() + 1.0
    while True:
        nodes += 1
        if nodes % 4096 == 0:
            now = time.monotonic()
            if now > deadline:
                optimal = False
                break
            if now >= next_log:
                log(f"bnb: {nodes} nodes, best value so far {best}")
                next_log = now + 1.0
        rem, k = capacity - cw, j
        gain: Number = 0
        while k < n and w[k] <= rem:
            rem -= w[k]
            gain += p[k]
            k += 1
        bound: Number = cp + gain + (rem * p[k] / w[k] if k < n else 0)
        if integral:
            bound = math.floor(bound + 1e-9)
        if bound > best + 1e-9 * max(1.0, abs(best)):
            for i in range(j, k):
                x[i] = True
            cw, cp = capacity - rem, cp + gain
            if cp > best:
                best, best_set = cp, [i for i in range(k) if x[i]]
            if k < n:
                x[k] = False
                j = k + 1
                if j < n:
                    continue
            else:
                j = n
        # backtrack: drop the last taken item and explore without it
        i = j - 1
        while i >= 0 and not x[i]:
            i -= 1
        if i < 0:
            break
        x[i] = False
        cw -= w[i]
        cp -= p[i]
        j = i + 1
    return [order[i] for i in best_set], optimal, nodes


def main() -> int:
    started = time.monotonic()
    try:
        options = parse_options(sys.argv[1:])
        items, capacity = read_input(sys.stdin.read())
    except InputError as exc:
        log(str(exc))
        return 1
    deadline = started + options["duration"]
    log(f"knapsack: {len(items)} items, weight capacity {capacity}")

    free = [i for i, it in enumerate(items) if it["weight"] == 0 and it["value"] > 0]
    candidates = [
        i for i, it in enumerate(items) if 0 < it["weight"] <= capacity and it["value"] > 0
    ]
    values = [items[i]["value"] for i in candidates]
    weights = [items[i]["weight"] for i in candidates]
    integral = _is_integral(capacity) and all(_is_integral(w) for w in weights)
    cap_int = int(capacity) if integral else 0
    use_dp = options["algorithm"] == "dp" or (
        options["algorithm"] == "auto" and integral
        and len(candidates) * (cap_int + 1) <= DP_CELL_LIMIT
    )
    if use_dp and not integral:
        log("invalid option -algorithm: dp needs integer weights and capacity")
        return 1
    cells = len(candidates) * (cap_int + 1)
    if use_dp and cells > DP_FORCED_CELL_LIMIT:
        log(
            f"invalid option -algorithm: dp would need {len(candidates)} x {cap_int + 1} cells "
            f"(limit {DP_FORCED_CELL_LIMIT:,}); use -algorithm bnb or auto"
        )
        return 1
    if use_dp:
        algorithm = "dynamic-programming"
        log(f"solving with dynamic programming ({len(candidates)} x {cap_int + 1} cells)")
        chosen, optimal, work = solve_dp(values, [int(w) for w in weights], cap_int, deadline)
    else:
        algorithm = "branch-and-bound"
        log(f"solving with branch and bound ({len(candidates)} candidate items)")
        chosen, optimal, work = solve_bnb(values, weights, capacity, deadline)
    picked = sorted(free + [candidates[i] for i in chosen])
    value = sum(items[i]["value"] for i in picked)
    weight = sum(items[i]["weight"] for i in picked)
    duration = round(time.monotonic() - started, 6)
    if optimal:
        log(f"optimal value {value} with {len(picked)} items, weight {weight} ({duration:.3f} s)")
    else:
        log(f"time limit reached: best value {value} found, optimality not proven")
    output = {
        "options": options,
        "solution": {"items": [items[i] for i in picked], "value": value, "weight": weight},
        "statistics": {
            "schema": "v1",
            "run": {"duration": duration},
            "result": {
                "value": value,
                "duration": duration,
                "custom": {
                    "algorithm": algorithm,
                    "optimal": optimal,
                    "items": len(items),
                    "items_chosen": len(picked),
                    "weight": weight,
                    "weight_capacity": capacity,
                    "search_work": work,
                },
            },
        },
    }
    json.dump(output, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
