"""Random, reproducible inputs for the bundled knapsack and routing apps.

Pure standard library (no Textual, no service) so the TUI's demo feeder, tests and benchmarks
can all make inputs of any size. The same seed always gives the same instance.
"""

from __future__ import annotations

import random
from typing import Any

_NOUNS = (
    "tent", "stove", "rope", "lamp", "map", "radio", "knife", "boots", "water", "food",
    "jacket", "camera", "book", "compass", "blanket", "kettle", "saw", "gloves", "tarp", "axe",
)

_CENTER = (-0.1278, 51.5074)
"""Routing instances are spread around central London (lon, lat)."""


def make_knapsack_input(n: int = 50, seed: int = 0) -> dict[str, Any]:
    """``n`` items with integer values/weights; capacity about a third of the total weight."""
    if n < 0:
        raise ValueError(f"knapsack size n must be >= 0 (got {n})")
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    weights: list[int] = []
    for index in range(n):
        weight = rng.randint(1, 60)
        weights.append(weight)
        value = max(1, int(weight * rng.uniform(0.5, 2.0)) + rng.randint(-5, 5))
        items.append({"id": f"{_NOUNS[index % len(_NOUNS)]}-{index}", "value": value,
                      "weight": weight})
    capacity = max(1, sum(weights) // 3)
    return {"items": items, "weight_capacity": capacity}


def make_routing_input(stops: int = 40, vehicles: int = 3, seed: int = 0) -> dict[str, Any]:
    """Stops scattered within ~8 km of a depot where every vehicle starts and ends."""
    if stops < 0 or vehicles < 1:
        raise ValueError(f"need stops >= 0 and vehicles >= 1 (got {stops}, {vehicles})")
    rng = random.Random(seed)
    lon0, lat0 = _CENTER
    depot = {"lon": lon0, "lat": lat0}
    stop_list: list[dict[str, Any]] = []
    demand = 0
    for index in range(stops):
        quantity = rng.randint(1, 3)
        demand += quantity
        stop_list.append({
            "id": f"s{index + 1}",
            "location": {
                "lon": round(lon0 + rng.uniform(-0.11, 0.11), 6),
                "lat": round(lat0 + rng.uniform(-0.07, 0.07), 6),
            },
            "quantity": -quantity,
        })
    capacity = max(3, -(-demand * 13 // (10 * vehicles)))  # ~30% slack over an even split
    vehicle_list = [
        {"id": f"v{index + 1}", "start_location": dict(depot), "end_location": dict(depot),
         "capacity": capacity, "speed": 10}
        for index in range(vehicles)
    ]
    return {"defaults": {"vehicles": {"speed": 10}}, "stops": stop_list, "vehicles": vehicle_list}
