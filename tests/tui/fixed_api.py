"""A constant, scripted Nextmv API as an httpx MockTransport, for snapshots and benchmarks.

Why a fake here: snapshot SVGs must be byte-identical on every run, so the data (IDs, times,
sizes, logs, outputs) must not depend on a real service's clock or scheduler. The first queue
call lists eight runs; later calls list five, so three runs "leave the queue" and the app
fetches their final states (succeeded, failed, canceled), exactly as with the real service.
The run history lists two applications whose run lists hold those runs plus ``HISTORY``:
runs that finished hours before the monitor started (one with an objective series).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)


def _z(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# id, name, app, status while queued, final status (None: stays), created (min ago),
# in state since (min ago), priority, class
RUNS: list[tuple[str, str, str, str, str | None, float, float, int, str]] = [
    ("run-7h3k2m9p", "depot north 120 stops", "routing", "running", None, 12, 9.5, 6,
     "6c9500mb870s"),
    ("run-4b8d1q6r", "weekly plan", "knapsack", "running", None, 6, 4.2, 3, "6c9500mb870s"),
    ("run-9x2c5v7n", "depot south 80 stops", "routing", "queued", None, 5, 5, 1, "6c9500mb870s"),
    ("run-2w6e8r4t", "spares 500 items", "knapsack", "queued", None, 4, 4, 6, "6c9500mb870s"),
    ("run-5y1u3i9o", "what-if capacity", "knapsack", "queued", None, 2, 2, 9, "6c9500mb870s"),
    ("run-8p0a2s4d", "daily plan", "knapsack", "running", "succeeded", 20, 0.5, 6, "6c9500mb870s"),
    ("run-3f5g7h9j", "bad input", "routing", "running", "failed", 15, 1, 4, "6c9500mb870s"),
    ("run-6k8l0z2x", "stale what-if", "knapsack", "queued", "canceled", 30, 3, 8, "6c9500mb870s"),
]

HISTORY: list[tuple[str, str, str, str, str | None, float, float, int, str]] = [
    ("run-1a2b3c4d", "depot east 90 stops", "routing", "succeeded", "succeeded", 95, 94, 6,
     "6c9500mb870s"),
    ("run-5e6f7g8h", "monthly plan", "knapsack", "succeeded", "succeeded", 130, 129.5, 6,
     "6c9500mb870s"),
    ("run-9i0j1k2l", "depot west 60 stops", "routing", "failed", "failed", 200, 199, 4,
     "6c9500mb870s"),
]
"""Runs that finished before the monitor started: only the run history lists them."""
BATCHES = {"run-1a2b3c4d": "bx-42", "run-9i0j1k2l": "bx-42", "run-9x2c5v7n": "bx-42"}
SERIES = {"name": "best objective", "data_points": [
    {"x": float(x), "y": round(7100 - 900 * (1 - 0.82 ** x), 2)} for x in range(0, 31)]}
ROUTING_STATISTICS = {
    "schema": "v1", "run": {"duration": 30.2, "iterations": 34782},
    "result": {"value": 6201.4, "duration": 30.0, "custom": {
        "activated_vehicles": 3, "unplanned_stops": 0, "max_route_duration_minutes": 412.5}},
    "series_data": {"value": SERIES},
}

LOG_LINES = [
    "1.0s  best objective 6423.12  iterations 25988",
    "2.0s  best objective 6243.88  iterations 57989",
    "3.0s  best objective 6201.40  iterations 87666",
]
OUTPUT = {
    "solution": {"items": [{"id": "tent-0"}, {"id": "rope-2"}], "value": 118, "weight": 47},
    "statistics": {"schema": "v1", "run": {"duration": 0.42}, "result": {"value": 118}},
}
FAILED_ERROR = "invalid input: 'vehicles' must be a list (got str)"


class FixedApi:
    """Callable handler for ``httpx.MockTransport``."""

    def __init__(self) -> None:
        self.queue_calls = 0

    def _queue_entry(self, run: tuple[Any, ...]) -> dict[str, Any]:
        run_id, name, app, status, _final, created, since, priority, klass = run
        return {
            "id": run_id, "user_email": "ana@example.com", "name": name, "description": "",
            "created_at": _z(NOW - timedelta(minutes=created)), "application_id": app,
            "application_instance_id": "latest", "application_version_id": "v1.4.2",
            "execution_class": klass, "status_v2": status, "queuing_priority": priority,
            "status_changed_at": _z(NOW - timedelta(minutes=since)),
        }

    @staticmethod
    def _statistics(run_id: str, app: str, status: str) -> dict[str, Any] | None:
        if status != "succeeded":
            return None
        return ROUTING_STATISTICS if app == "routing" else OUTPUT["statistics"]

    def _metadata(self, run: tuple[Any, ...], final: bool) -> dict[str, Any]:
        run_id, name, app, status, final_status, created, since, priority, klass = run
        status_now = final_status if (final and final_status) else status
        done = status_now in ("succeeded", "failed", "canceled")
        return {
            "id": run_id, "name": name, "description": "", "user_email": "ana@example.com",
            "metadata": {
                "application_id": app, "application_instance_id": "latest",
                "application_version_id": "v1.4.2",
                "created_at": _z(NOW - timedelta(minutes=created)),
                "duration": 31_400 if done else 0,
                "execution_duration": 30_900 if done else None,
                "error": FAILED_ERROR if status_now == "failed" else "",
                "format": {"input": {"type": "json"}, "output": {"type": "json"}},
                "input_size": 18_342, "output_size": 2_310 if status_now == "succeeded" else 0,
                "status_v2": status_now, "run_type": {"type": "standard"},
                "execution_class": klass, "queuing_priority": priority,
                "status_changed_at": _z(NOW - timedelta(minutes=since)),
                "options": {"request_options": {"duration": "30"} if app == "routing" else {}},
                "statistics": self._statistics(run_id, app, status_now),
                "batch_experiment_id": BATCHES.get(run_id),
            },
        }

    def _list_item(self, run: tuple[Any, ...], final: bool) -> dict[str, Any]:
        """A run as ``GET v1/applications/{app}/runs`` lists it."""
        body = self._metadata(run, final)
        meta = body.pop("metadata")
        stats = meta.pop("statistics")
        indicators = [{"name": "result.value", "value": stats["result"]["value"]}] if stats else []
        for key in ("format", "input_size", "output_size", "error", "options"):
            meta.pop(key, None)
        return {**body, **meta, "statistics": {"status": "succeeded" if stats else "none",
                                               "indicators": indicators}}

    def _list(self, app_id: str) -> httpx.Response:
        final = self.queue_calls > 1
        runs = sorted((r for r in (*RUNS, *HISTORY) if r[2] == app_id), key=lambda r: r[5])
        return httpx.Response(200, json={"runs": [self._list_item(r, final) for r in runs]})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/v1/account/queue"):
            self.queue_calls += 1
            runs = RUNS if self.queue_calls == 1 else [r for r in RUNS if r[4] is None]
            return httpx.Response(200, json={"runs": [self._queue_entry(r) for r in runs]})
        parts = path.strip("/").split("/")
        if parts == ["v1", "applications"]:
            apps = [{"id": app, "name": app} for app in ("knapsack", "routing")]
            return httpx.Response(200, json={"items": apps})
        if len(parts) == 4 and parts[1] == "applications" and parts[3] == "runs":
            return self._list(parts[2])
        # v1/applications/{app}/runs/{run}[/...]
        if len(parts) >= 5 and parts[1] == "applications" and parts[3] == "runs":
            run = next((r for r in (*RUNS, *HISTORY) if r[0] == parts[4]), None)
            if run is None:
                return httpx.Response(404, json={"error": f"run {parts[4]} not found"})
            tail = parts[5:]
            final = self.queue_calls > 1
            if tail == ["metadata"]:
                return httpx.Response(200, json=self._metadata(run, final))
            if tail == ["logs", "live"]:
                meta = self._metadata(run, final)
                items = [{"timestamp": _z(NOW), "log": line} for line in LOG_LINES]
                if request.url.params.get("since"):
                    items = []
                return httpx.Response(200, json={
                    "items": items, "status_v2": meta["metadata"]["status_v2"],
                    "next_available_in_seconds": 1, "next_page_token": "3",
                })
            if tail == ["logs"]:
                return httpx.Response(200, json={"log": "\n".join(LOG_LINES)})
            if tail == []:
                body = self._metadata(run, final)
                body["output"] = OUTPUT if run[2] == "knapsack" else {
                    "solutions": [{"vehicles": 3}], "statistics": ROUTING_STATISTICS}
                return httpx.Response(200, json=body)
        return httpx.Response(404, json={"error": f"no route {path}"})
