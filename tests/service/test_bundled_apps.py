"""The bundled knapsack and routing apps, run as the executor runs them (stdin, flags, stderr)."""

from __future__ import annotations

import importlib.util
import itertools
import json
import random
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from nextmv.output import Statistics as SdkStatistics  # type: ignore[import-untyped]

from nextmv_tui.cloud.samples import make_knapsack_input, make_routing_input
from nextmv_tui.service.manifest import bundled_app_dir

KNAPSACK = bundled_app_dir("knapsack") / "main.py"
ROUTING = bundled_app_dir("routing") / "main.py"


def run_app(app: Path, payload: object, *args: str) -> subprocess.CompletedProcess[str]:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return subprocess.run(
        [sys.executable, str(app), *args], input=text, capture_output=True, text=True, timeout=60
    )


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def brute_force(values: list[float], weights: list[int], capacity: float) -> float:
    best = 0.0
    for picks in itertools.product((0, 1), repeat=len(values)):
        weight = sum(w for w, p in zip(weights, picks, strict=True) if p)
        if weight <= capacity:
            best = max(best, sum(v for v, p in zip(values, picks, strict=True) if p))
    return best


# --- knapsack ------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["solve_dp", "solve_bnb"])
def test_knapsack_solvers_are_exact(solver):
    module = load_module(KNAPSACK, "knapsack_main")
    rng = random.Random(42)
    for _ in range(60):
        n = rng.randint(1, 11)
        weights = [rng.randint(1, 25) for _ in range(n)]
        values: list[float] = [rng.randint(1, 40) for _ in range(n)]
        if solver == "solve_bnb" and rng.random() < 0.5:
            values = [round(rng.uniform(0.5, 40), 3) for _ in range(n)]
        capacity = rng.randint(1, 60)
        fits = [i for i in range(n) if weights[i] <= capacity]
        vs, ws = [values[i] for i in fits], [weights[i] for i in fits]
        chosen, optimal, _ = getattr(module, solver)(vs, ws, capacity, float("inf"))
        assert optimal
        assert sum(ws[i] for i in chosen) <= capacity
        assert sum(vs[i] for i in chosen) == pytest.approx(brute_force(vs, ws, capacity))


def test_knapsack_sample_output_and_statistics():
    sample = json.loads((bundled_app_dir("knapsack") / "input.json").read_text())
    result = run_app(KNAPSACK, sample, "-duration", "20", "-unknown", "x")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    solution = output["solution"]
    ids = {item["id"] for item in sample["items"]}
    assert {item["id"] for item in solution["items"]} <= ids
    assert solution["weight"] == sum(i["weight"] for i in solution["items"])
    assert solution["weight"] <= sample["weight_capacity"]
    assert solution["value"] == sum(i["value"] for i in solution["items"])
    stats = output["statistics"]
    assert stats["schema"] == "v1"
    assert stats["result"]["value"] == solution["value"]
    assert stats["result"]["custom"]["optimal"] is True
    assert stats["run"]["duration"] >= 0
    assert output["options"]["duration"] == 20
    assert "optimal value" in result.stderr


def test_knapsack_dp_and_branch_and_bound_agree_on_a_sample():
    sample = make_knapsack_input(40, seed=3)
    values = {alg: json.loads(run_app(KNAPSACK, sample, "-algorithm", alg).stdout)
              for alg in ("dp", "bnb")}
    assert values["dp"]["solution"]["value"] == values["bnb"]["solution"]["value"]
    assert values["dp"]["statistics"]["result"]["custom"]["algorithm"] == "dynamic-programming"
    assert values["bnb"]["statistics"]["result"]["custom"]["algorithm"] == "branch-and-bound"


def test_knapsack_huge_capacity_uses_branch_and_bound():
    items = [{"id": str(i), "value": 10 + i, "weight": 10**9 + i * 7} for i in range(30)]
    result = run_app(KNAPSACK, {"items": items, "weight_capacity": 5 * 10**9})
    output = json.loads(result.stdout)
    assert output["statistics"]["result"]["custom"]["algorithm"] == "branch-and-bound"
    assert len(output["solution"]["items"]) == 4  # five items of ~1e9 do not fit in 5e9
    assert output["solution"]["value"] == sum(10 + i for i in range(26, 30))


def test_knapsack_time_limit_reports_unproven_result():
    result = run_app(KNAPSACK, make_knapsack_input(200, seed=1), "-duration", "0")
    assert result.returncode == 0, result.stderr
    custom = json.loads(result.stdout)["statistics"]["result"]["custom"]
    assert custom["optimal"] is False


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("", "stdin is empty"),
        ("{nope", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({"weight_capacity": 3}, "missing field 'items'"),
        ({"items": []}, "missing field 'weight_capacity'"),
        ({"items": [{"id": "a", "value": 1}], "weight_capacity": 3}, "missing field 'weight'"),
        ({"items": [{"id": "a", "value": 1, "weight": -2}], "weight_capacity": 3},
         "items[0].weight must not be negative"),
        ({"items": [{"id": "a", "value": "1", "weight": 2}], "weight_capacity": 3},
         "items[0].value must be a number"),
        ({"items": [], "weight_capacity": -1}, "weight_capacity must not be negative"),
    ],
)
def test_knapsack_invalid_input_is_one_line_and_exit_1(payload, reason):
    result = run_app(KNAPSACK, payload)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0]


def test_knapsack_invalid_option_is_one_line_and_exit_1():
    result = run_app(KNAPSACK, make_knapsack_input(3), "-duration", "soon")
    assert result.returncode == 1
    assert result.stderr.strip() == "invalid option -duration: 'soon' is not a number"


# --- routing -------------------------------------------------------------------------------


def check_routes(payload: dict[str, Any], output: dict[str, Any]) -> dict[str, Any]:
    solution = output["solutions"][0]
    visited = [s["stop"]["id"] for v in solution["vehicles"] for s in v["route"]]
    unplanned = [s["id"] for s in solution["unplanned"]]
    assert sorted(visited + unplanned) == sorted(str(s["id"]) for s in payload["stops"])
    quantity = {s["id"]: abs(s.get("quantity", 0)) for s in payload["stops"]}
    capacity = {v["id"]: v.get("capacity", float("inf")) for v in payload["vehicles"]}
    for vehicle in solution["vehicles"]:
        load = sum(quantity[s["stop"]["id"]] for s in vehicle["route"])
        assert load <= capacity[vehicle["id"]]
    assert isinstance(solution, dict)
    return solution


def test_routing_sample_runs_for_the_duration_and_logs_every_second():
    sample = json.loads((bundled_app_dir("routing") / "input.json").read_text())
    result = run_app(ROUTING, sample, "-duration", "2", "-seed", "1", "-ignored", "3")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    solution = check_routes(sample, output)
    stats = output["statistics"]
    assert stats["run"]["duration"] >= 2.0
    assert stats["result"]["value"] == solution["objective"]["value"]
    points = stats["series_data"]["value"]["data_points"]
    assert [p["y"] for p in points] == sorted((p["y"] for p in points), reverse=True)
    assert points[-1]["y"] == pytest.approx(stats["result"]["value"])
    assert "best objective" in result.stderr
    assert output["options"] == {"duration": 2.0, "seed": 1}


def test_routing_series_has_the_sdk_shape_and_is_a_bounded_step_function():
    payload = make_routing_input(60, 4, seed=3)
    result = run_app(ROUTING, payload, "-duration", "2", "-seed", "5")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)["statistics"]

    parsed = SdkStatistics.model_validate(stats)  # the official SDK's statistics model
    series = parsed.series_data.value
    assert series.name == "best objective"
    xs = [point.x for point in series.data_points]
    ys = [point.y for point in series.data_points]
    assert xs == sorted(set(xs))  # time moves forward, one value per instant
    assert ys == sorted(ys, reverse=True)  # the best objective never gets worse
    assert 0 <= xs[0] < 1.0 and 2.0 <= xs[-1] < 3.0
    assert all(b - a <= 1.1 for a, b in itertools.pairwise(xs))  # a point at least every second
    assert ys[-1] == stats["result"]["value"]
    assert len(xs) <= 2 * 2 / 0.1 + 2


def test_objective_series_merges_close_points_and_keeps_the_first():
    routing = load_module(ROUTING, "routing_main")
    series = routing.ObjectiveSeries(10.0)
    for k in range(1000):  # an improvement every millisecond
        series.add(0.001 * k, 1000.0 - k)
    xs = [p["x"] for p in series.points]
    assert xs[0] == 0.0 and series.points[-1] == {"x": 0.999, "y": 1.0}
    assert len(xs) <= 2 * 1.0 / 0.1 + 2
    assert all(b - a >= 0.1 for a, b in zip(xs, xs[2:], strict=False))
    long = routing.ObjectiveSeries(3600.0)
    for k in range(36_000):
        long.add(0.1 * k, 1e6 - k)
    assert len(long.points) <= 2 * 300 + 2


def test_routing_without_depots_ignores_unknown_fields():
    payload = {
        "stops": [{"id": f"s{i}", "location": {"lon": 7.6 + i / 100, "lat": 51.9 + (i % 3) / 100},
                   "color": "red"} for i in range(8)],
        "vehicles": [{"id": "truck", "shift": {"start": "08:00"}}, {"id": "van"}],
        "extra": True,
    }
    result = run_app(ROUTING, payload, "-duration", "0")
    assert result.returncode == 0, result.stderr
    solution = check_routes(payload, json.loads(result.stdout))
    assert not solution["unplanned"]


def test_routing_stop_too_big_for_every_vehicle_is_unplanned():
    payload = make_routing_input(6, 2, seed=2)
    payload["stops"][0]["quantity"] = -10_000
    result = run_app(ROUTING, payload, "-duration", "0")
    output = json.loads(result.stdout)
    solution = check_routes(payload, output)
    assert [s["id"] for s in solution["unplanned"]] == [payload["stops"][0]["id"]]
    assert output["statistics"]["result"]["value"] >= 1_000_000


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("null", "expected a JSON object"),
        ({"vehicles": [{"id": "v"}]}, "'stops'"),
        ({"stops": [], "vehicles": []}, "'vehicles' must be a non-empty list"),
        ({"stops": [{"id": "a"}], "vehicles": [{"id": "v"}]},
         "stops[0] is missing field 'location'"),
        ({"stops": [{"id": "a", "location": {"lon": 200, "lat": 0}}], "vehicles": [{"id": "v"}]},
         "stops[0].location.lon must be between"),
        ({"stops": [{"id": "a", "location": {"lon": 1, "lat": 0}},
                    {"id": "a", "location": {"lon": 1, "lat": 0}}], "vehicles": [{"id": "v"}]},
         "duplicate stop id 'a'"),
        ({"stops": [], "vehicles": [{"id": "v", "start_location": {"lon": 1}}]},
         "vehicles[0].start_location is missing field 'lat'"),
    ],
)
def test_routing_invalid_input_is_one_line_and_exit_1(payload, reason):
    result = run_app(ROUTING, payload)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0]


def test_routing_dies_on_sigterm():
    proc = subprocess.Popen(
        [sys.executable, str(ROUTING), "-duration", "60"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(json.dumps(make_routing_input(20, 2)).encode())
    proc.stdin.close()
    assert proc.stderr.readline().startswith(b"routing: 20 stops")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == -signal.SIGTERM
    assert proc.stdout is not None and proc.stdout.read() == b""
    proc.stdout.close()
    proc.stderr.close()


# --- samples -------------------------------------------------------------------------------


def test_samples_are_reproducible_and_sized():
    assert make_knapsack_input(25, seed=9) == make_knapsack_input(25, seed=9)
    assert make_knapsack_input(25, seed=9) != make_knapsack_input(25, seed=10)
    assert len(make_knapsack_input(25)["items"]) == 25
    routing = make_routing_input(stops=12, vehicles=4, seed=5)
    assert routing == make_routing_input(stops=12, vehicles=4, seed=5)
    assert len(routing["stops"]) == 12 and len(routing["vehicles"]) == 4
    with pytest.raises(ValueError):
        make_routing_input(stops=3, vehicles=0)


def test_bundled_sample_inputs_are_solvable_quickly():
    knapsack = run_app(KNAPSACK, (bundled_app_dir("knapsack") / "input.json").read_text())
    assert knapsack.returncode == 0, knapsack.stderr
    routing = run_app(ROUTING, make_routing_input(30, 3, seed=4), "-duration", "0")
    assert routing.returncode == 0, routing.stderr
    check_routes(make_routing_input(30, 3, seed=4), json.loads(routing.stdout))


def test_knapsack_refuses_a_forced_dp_table_too_large_to_hold():
    """An explicit -algorithm dp on a huge capacity fails fast instead of eating memory."""
    payload = {
        "items": [{"id": str(i), "value": i + 1, "weight": 1_000 + i} for i in range(2_000)],
        "weight_capacity": 100_000_000,
    }
    proc = run_app(KNAPSACK, payload, "-algorithm", "dp")
    assert proc.returncode == 1
    assert "dp would need 2000 x 100000001 cells" in proc.stderr.strip().splitlines()[-1]
    solved = run_app(KNAPSACK, payload, "-algorithm", "auto")
    assert solved.returncode == 0
    custom = json.loads(solved.stdout)["statistics"]["result"]["custom"]
    assert custom["algorithm"] == "branch-and-bound"
