"""Anytime vehicle routing as a Nextmv app (pure Python standard library).

Input on stdin, the Nextmv routing shape (unknown fields are ignored):
  {"defaults"?: {"vehicles": {...}, "stops": {...}},
   "stops": [{"id", "location": {"lon", "lat"}, "quantity"?, "unplanned_penalty"?}],
   "vehicles": [{"id", "start_location"?, "end_location"?, "speed"? (m/s), "capacity"?}]}
Distances are haversine (great circle) in meters; travel duration = distance / speed
(default speed 10 m/s). A numeric capacity bounds the sum of |quantity| on a route. A vehicle
without start (end) location starts at its first (ends at its last) stop.

Objective: total travel duration (s) plus the unplanned penalty (default 1e6) of every stop no
vehicle can take. Search: randomised cheapest-insertion construction, then ruin-and-recreate
with 2-opt and record-to-record acceptance, restarting from a fresh construction when stuck.
It runs for exactly -duration seconds (default 10), logging the best objective to stderr every
second. Options as flags: -duration SECONDS, -seed N; unknown flags are ignored.
Invalid input: one line on stderr, exit 1. SIGTERM keeps its default action (the app dies).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from array import array
from typing import Any, NoReturn

EARTH_RADIUS_M = 6_371_000.0
DEFAULT_SPEED = 10.0
DEFAULT_PENALTY = 1_000_000.0
STAGNATION_RESTART = 3000
"""Iterations without a new best after which the search restarts from a new construction."""


class InputError(Exception):
    """Invalid input or option; the message is the one-line reason."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InputError(f"invalid options: {message}")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_options(argv: list[str]) -> dict[str, Any]:
    parser = _Parser(prog="routing", add_help=False, allow_abbrev=False)
    parser.add_argument("-duration", "--duration", default="10")
    parser.add_argument("-seed", "--seed", default="0")
    known, _unknown = parser.parse_known_args(argv)
    try:
        duration = float(known.duration)
    except ValueError:
        raise InputError(f"invalid option -duration: {known.duration!r} is not a number") from None
    if not math.isfinite(duration) or duration < 0:
        raise InputError(f"invalid option -duration: {known.duration!r} must be >= 0")
    try:
        seed = int(known.seed)
    except ValueError:
        raise InputError(f"invalid option -seed: {known.seed!r} is not an integer") from None
    return {"duration": duration, "seed": seed}


# --- input -------------------------------------------------------------------------------


def _number(
    value: Any, where: str, *, low: float | None = None, high: float | None = None
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"invalid input: {where} must be a number (got {json.dumps(value)})")
    if (low is not None and value < low) or (high is not None and value > high):
        raise InputError(f"invalid input: {where} must be between {low} and {high} (got {value})")
    return float(value)


def _location(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, dict):
        raise InputError(f"invalid input: {where} must be an object with 'lon' and 'lat'")
    for key in ("lon", "lat"):
        if key not in value:
            raise InputError(f"invalid input: {where} is missing field '{key}'")
    lon = _number(value["lon"], f"{where}.lon", low=-180, high=180)
    lat = _number(value["lat"], f"{where}.lat", low=-90, high=90)
    return lon, lat


def _id(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise InputError(f"invalid input: {where} must be a non-empty string")
    return str(value)


def _merged(entity: dict[str, Any], defaults: dict[str, Any], key: str) -> Any:
    return entity[key] if key in entity else defaults.get(key)


class Problem:
    """Validated input: points, distances (meters) and per-vehicle data."""

    def __init__(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise InputError("invalid input: expected a JSON object with 'stops' and 'vehicles'")
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, dict):
            raise InputError("invalid input: 'defaults' must be an object")
        stop_defaults = defaults.get("stops") or {}
        vehicle_defaults = defaults.get("vehicles") or {}
        if not isinstance(stop_defaults, dict) or not isinstance(vehicle_defaults, dict):
            raise InputError(
                "invalid input: 'defaults.stops' and 'defaults.vehicles' must be objects"
            )
        stops, vehicles = data.get("stops"), data.get("vehicles")
        if not isinstance(stops, list):
            raise InputError("invalid input: missing or non-list field 'stops'")
        if not isinstance(vehicles, list) or not vehicles:
            raise InputError("invalid input: 'vehicles' must be a non-empty list")

        self.stops = stops
        self.vehicles = vehicles
        points: list[tuple[float, float]] = []
        self.demand: list[float] = []
        self.penalty: list[float] = []
        self.capacity_ignored = False
        seen: set[str] = set()
        for index, stop in enumerate(stops):
            where = f"stops[{index}]"
            if not isinstance(stop, dict):
                raise InputError(f"invalid input: {where} must be an object")
            stop_id = _id(stop.get("id"), f"{where}.id")
            if stop_id in seen:
                raise InputError(f"invalid input: duplicate stop id {stop_id!r}")
            seen.add(stop_id)
            if "location" not in stop:
                raise InputError(f"invalid input: {where} is missing field 'location'")
            points.append(_location(stop["location"], f"{where}.location"))
            quantity = _merged(stop, stop_defaults, "quantity")
            if isinstance(quantity, (int, float)) and not isinstance(quantity, bool):
                self.demand.append(abs(_number(quantity, f"{where}.quantity")))
            else:
                self.capacity_ignored |= quantity is not None
                self.demand.append(0.0)
            penalty = _merged(stop, stop_defaults, "unplanned_penalty")
            self.penalty.append(
                DEFAULT_PENALTY if penalty is None
                else _number(penalty, f"{where}.unplanned_penalty", low=0)
            )

        self.start: list[int | None] = []
        self.end: list[int | None] = []
        self.speed: list[float] = []
        self.capacity: list[float] = []
        seen = set()
        for index, vehicle in enumerate(vehicles):
            where = f"vehicles[{index}]"
            if not isinstance(vehicle, dict):
                raise InputError(f"invalid input: {where} must be an object")
            vehicle_id = _id(vehicle.get("id"), f"{where}.id")
            if vehicle_id in seen:
                raise InputError(f"invalid input: duplicate vehicle id {vehicle_id!r}")
            seen.add(vehicle_id)
            for key, target in (("start_location", self.start), ("end_location", self.end)):
                location = _merged(vehicle, vehicle_defaults, key)
                if location is None:
                    target.append(None)
                else:
                    points.append(_location(location, f"{where}.{key}"))
                    target.append(len(points) - 1)
            speed = _merged(vehicle, vehicle_defaults, "speed")
            self.speed.append(
                DEFAULT_SPEED if speed is None
                else _number(speed, f"{where}.speed", low=1e-9)
            )
            capacity = _merged(vehicle, vehicle_defaults, "capacity")
            if isinstance(capacity, (int, float)) and not isinstance(capacity, bool):
                self.capacity.append(_number(capacity, f"{where}.capacity", low=0))
            else:
                self.capacity_ignored |= capacity is not None
                self.capacity.append(math.inf)
        self.points = points
        self.dist = _distance_matrix(points)


def _distance_matrix(points: list[tuple[float, float]]) -> list[array[float]]:
    """Great-circle distances via unit-vector chords (equal to haversine, numerically stable)."""
    vectors = []
    for lon, lat in points:
        la, lo = math.radians(lat), math.radians(lon)
        vectors.append((math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)))
    rows = []
    asin, sqrt, scale = math.asin, math.sqrt, 2 * EARTH_RADIUS_M
    for x1, y1, z1 in vectors:
        rows.append(array("d", [
            scale * asin(min(1.0, sqrt((x1 - x2) ** 2 + (y1 - y2) ** 2 + (z1 - z2) ** 2) / 2))
            for x2, y2, z2 in vectors
        ]))
    return rows


# --- search ------------------------------------------------------------------------------


class Solution:
    """Routes (lists of stop indices per vehicle) with loads and unplanned stops."""

    def __init__(self, problem: Problem) -> None:
        self.p = problem
        self.routes: list[list[int]] = [[] for _ in problem.vehicles]
        self.load = [0.0] * len(problem.vehicles)
        self.unplanned: list[int] = []

    def copy(self) -> Solution:
        other = Solution.__new__(Solution)
        other.p = self.p
        other.routes = [list(r) for r in self.routes]
        other.load = list(self.load)
        other.unplanned = list(self.unplanned)
        return other

    def route_distance(self, v: int) -> float:
        route, d = self.routes[v], self.p.dist
        if not route:
            return 0.0
        total = sum(d[route[k]][route[k + 1]] for k in range(len(route) - 1))
        start, end = self.p.start[v], self.p.end[v]
        if start is not None:
            total += d[start][route[0]]
        if end is not None:
            total += d[route[-1]][end]
        return float(total)

    def objective(self) -> float:
        travel = sum(self.route_distance(v) / self.p.speed[v] for v in range(len(self.routes)))
        return travel + sum(self.p.penalty[s] for s in self.unplanned)

    def insert_all(self, stops: list[int]) -> None:
        """Greedy cheapest insertion of ``stops`` (in the given order)."""
        p, d = self.p, self.p.dist
        for s in stops:
            best, where = math.inf, None
            row = d[s]
            for v, route in enumerate(self.routes):
                if self.load[v] + p.demand[s] > p.capacity[v]:
                    continue
                inv_speed = 1.0 / p.speed[v]
                prev = p.start[v]
                n = len(route)
                for i in range(n + 1):
                    nxt = route[i] if i < n else p.end[v]
                    delta = 0.0
                    if prev is not None:
                        delta += row[prev]
                    if nxt is not None:
                        delta += row[nxt]
                        if prev is not None:
                            delta -= d[prev][nxt]
                    delta *= inv_speed
                    if delta < best:
                        best, where = delta, (v, i)
                    prev = nxt if i < n else prev
            if where is None:
                self.unplanned.append(s)
            else:
                v, i = where
                self.routes[v].insert(i, s)
                self.load[v] += p.demand[s]

    def remove(self, stops: set[int]) -> set[int]:
        """Take ``stops`` out; returns the vehicles whose routes changed."""
        touched = set()
        for v, route in enumerate(self.routes):
            kept = [s for s in route if s not in stops]
            if len(kept) != len(route):
                self.load[v] -= sum(self.p.demand[s] for s in route if s in stops)
                self.routes[v] = kept
                touched.add(v)
        self.unplanned = [s for s in self.unplanned if s not in stops]
        return touched

    def two_opt(self, v: int, deadline: float) -> None:
        """Reverse segments of route ``v`` while that shortens it (first improvement)."""
        route, d = self.routes[v], self.p.dist
        start, end = self.p.start[v], self.p.end[v]
        n = len(route)
        improved = True
        while improved and time.monotonic() < deadline:
            improved = False
            for i in range(n - 1):
                a = route[i - 1] if i > 0 else start
                ri = route[i]
                row_ri = d[ri]
                row_a = d[a] if a is not None else None
                for j in range(i + 1, n):
                    rj = route[j]
                    b = route[j + 1] if j + 1 < n else end
                    old = new = 0.0
                    if row_a is not None:
                        old, new = row_a[ri], row_a[rj]
                    if b is not None:
                        old += d[rj][b]
                        new += row_ri[b]
                    if new < old - 1e-7:
                        route[i : j + 1] = route[i : j + 1][::-1]
                        improved = True
                        break
                if improved:
                    break


def construct(problem: Problem, rng: random.Random, deadline: float) -> Solution:
    solution = Solution(problem)
    order = list(range(len(problem.stops)))
    rng.shuffle(order)
    solution.insert_all(order)
    for v in range(len(problem.vehicles)):
        solution.two_opt(v, deadline)
    return solution


def ruin(solution: Solution, rng: random.Random) -> tuple[list[int], set[int]]:
    """Remove a random or a geographically related group of stops (and the unplanned ones).

    Returns the removed stops and the vehicles whose routes changed.
    """
    planned = [s for route in solution.routes for s in route]
    if not planned:
        removed = list(solution.unplanned)
        solution.unplanned = []
        return removed, set()
    k = rng.randint(1, max(1, min(40, len(planned) // 4 + 1)))
    if rng.random() < 0.5:
        removed = rng.sample(planned, min(k, len(planned)))
    else:
        seed = rng.choice(planned)
        row = solution.p.dist[seed]
        removed = sorted(planned, key=lambda s: row[s])[:k]
    removed += solution.unplanned
    touched = solution.remove(set(removed))
    rng.shuffle(removed)
    return removed, touched


class ObjectiveSeries:
    """The best objective over time, for ``statistics.series_data.value`` (the Nextmv SDK's
    ``Series``: ``name`` plus ``data_points`` of ``{x: seconds since start, y: objective}``).

    x never decreases and y never increases (a step function). Points closer in time than
    ``resolution`` (0.1 s, or duration/300 for long runs) merge into the later one, so a
    10 s run gives at most ~100 points and an hour-long one ~300, whatever the number of
    improvements; the first point (the construction) is always kept.
    """

    def __init__(self, duration: float) -> None:
        self.resolution = max(0.1, duration / 300.0)
        self.points: list[dict[str, float]] = []

    def add(self, x: float, y: float) -> None:
        point = {"x": round(x, 3), "y": round(y, 3)}
        points = self.points
        if points and point["x"] <= points[-1]["x"]:
            point["x"] = points[-1]["x"]  # one instant: the later (better) value wins
        same_instant = bool(points) and point["x"] == points[-1]["x"]
        close = len(points) >= 2 and point["x"] - points[-2]["x"] < self.resolution
        if same_instant or close:
            points[-1] = point
        else:
            points.append(point)


def search(
    problem: Problem, options: dict[str, Any], started: float
) -> tuple[Solution, dict[str, Any]]:
    rng = random.Random(options["seed"])
    deadline = started + options["duration"]
    best = construct(problem, rng, deadline)
    best_value = best.objective()
    best_time = time.monotonic() - started
    current, current_value = best.copy(), best_value
    series = ObjectiveSeries(options["duration"])
    series.add(best_time, best_value)
    log(f"construction: objective {best_value:.2f}")
    next_log = started + 1.0
    iterations = restarts = since_best = 0
    while (now := time.monotonic()) < deadline:
        if now >= next_log:
            elapsed = now - started
            log(f"{elapsed:5.1f}s  best objective {best_value:.2f}  iterations {iterations}")
            series.add(elapsed, best_value)
            next_log += 1.0
        iterations += 1
        since_best += 1
        if since_best >= STAGNATION_RESTART:
            current = construct(problem, rng, deadline)
            current_value = current.objective()
            restarts += 1
            since_best = 0
            continue
        candidate = current.copy()
        removed, touched = ruin(candidate, rng)
        candidate.insert_all(removed)
        back = set(removed)
        touched |= {v for v, route in enumerate(candidate.routes) if not back.isdisjoint(route)}
        for v in touched:
            candidate.two_opt(v, deadline)
        value = candidate.objective()
        if value < current_value or value < best_value * 1.01:
            current, current_value = candidate, value
        if value < best_value - 1e-9:
            best, best_value = candidate.copy(), value
            best_time = time.monotonic() - started
            series.add(best_time, best_value)
            since_best = 0
    elapsed = time.monotonic() - started
    log(f"{elapsed:5.1f}s  final objective {best_value:.2f}  iterations {iterations}")
    series.add(elapsed, best_value)
    return best, {
        "iterations": iterations,
        "restarts": restarts,
        "best_time": best_time,
        "series": series.points,
    }


# --- output ------------------------------------------------------------------------------


def render(
    problem: Problem,
    solution: Solution,
    options: dict[str, Any],
    info: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    d = problem.dist
    vehicles_out = []
    durations = []
    total_distance = 0.0
    for v, vehicle in enumerate(problem.vehicles):
        speed = problem.speed[v]
        route = solution.routes[v]
        stops_out = []
        cumulative = 0.0
        prev = problem.start[v]
        for s in route:
            leg = d[prev][s] if prev is not None else 0.0
            cumulative += leg
            stop = problem.stops[s]
            stops_out.append({
                "stop": {"id": str(stop["id"]), "location": stop["location"]},
                "travel_distance": round(leg, 1),
                "travel_duration": round(leg / speed, 1),
                "cumulative_travel_distance": round(cumulative, 1),
                "cumulative_travel_duration": round(cumulative / speed, 1),
            })
            prev = s
        distance = solution.route_distance(v)
        total_distance += distance
        if route:
            durations.append(distance / speed)
        vehicles_out.append({
            "id": str(vehicle["id"]),
            "route": stops_out,
            "route_travel_distance": round(distance, 1),
            "route_travel_duration": round(distance / speed, 1),
        })
    value = round(solution.objective(), 3)
    duration = round(time.monotonic() - started, 3)
    return {
        "options": options,
        "solutions": [{
            "vehicles": vehicles_out,
            "unplanned": [
                {"id": str(problem.stops[s]["id"]), "location": problem.stops[s]["location"]}
                for s in solution.unplanned
            ],
            "objective": {"name": "travel_duration + unplanned_penalty", "value": value},
        }],
        "statistics": {
            "schema": "v1",
            "run": {"duration": duration, "iterations": info["iterations"]},
            "result": {
                "value": value,
                "duration": round(info["best_time"], 3),
                "custom": {
                    "activated_vehicles": len(durations),
                    "unplanned_stops": len(solution.unplanned),
                    "total_travel_distance": round(total_distance, 1),
                    "max_travel_duration": round(max(durations, default=0.0), 1),
                    "min_travel_duration": round(min(durations, default=0.0), 1),
                    "restarts": info["restarts"],
                },
            },
            "series_data": {"value": {"name": "best objective", "data_points": info["series"]}},
        },
    }


def main() -> int:
    started = time.monotonic()
    try:
        options = parse_options(sys.argv[1:])
        text = sys.stdin.read()
        if not text.strip():
            raise InputError("invalid input: stdin is empty, expected a JSON object")
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"invalid input: not valid JSON ({exc})") from None
        problem = Problem(data)
    except InputError as exc:
        log(str(exc))
        return 1
    log(
        f"routing: {len(problem.stops)} stops, {len(problem.vehicles)} vehicles, "
        f"searching for {options['duration']:g} s"
    )
    if problem.capacity_ignored:
        log("note: non-numeric capacity/quantity values are ignored")
    best, info = search(problem, options, started)
    json.dump(render(problem, best, options, info, started), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
