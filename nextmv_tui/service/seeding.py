"""Synthetic finished runs written straight into a service's store (benchmarks, tests, demos).

Seeding 5,000 runs through the API would execute 5,000 apps; a history benchmark only needs
rows that look like finished runs: a status, times, a priority and, for successes, the
statistics an app would have reported. They are inserted in one transaction, in creation
order, so the service lists them newest first exactly as it lists real runs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from nextmv_tui.service import payloads
from nextmv_tui.service.store import RunRecord, Store

STATUS_WEIGHTS = (("succeeded", 0.8), ("failed", 0.15), ("canceled", 0.05))


def synthetic_runs(
    app_ids: Sequence[str],
    total: int,
    *,
    now: float,
    span: float,
    seed: int = 0,
    execution_class: str = "local",
) -> list[RunRecord]:
    """``total`` finished runs spread evenly over ``app_ids``, created in ``[now - span, now)``,
    oldest first."""
    rng = random.Random(seed)
    created = sorted(now - span * rng.random() for _ in range(total))
    statuses = [name for name, _ in STATUS_WEIGHTS]
    weights = [weight for _, weight in STATUS_WEIGHTS]
    runs: list[RunRecord] = []
    for index, created_at in enumerate(created):
        status = rng.choices(statuses, weights)[0]
        started = created_at + rng.uniform(0.05, 2.0)
        finished = min(now, started + rng.uniform(0.2, 30.0))
        statistics = None
        if status == "succeeded":
            statistics = {
                "schema": "v1",
                "run": {"duration": round(finished - started, 3)},
                "result": {"value": round(rng.uniform(100, 10_000), 2),
                           "duration": round((finished - started) / 2, 3)},
            }
        runs.append(RunRecord(
            id=payloads.new_id("run-"),
            app_id=app_ids[index % len(app_ids)],
            status=status,
            created_at=created_at,
            status_changed_at=finished,
            started_at=started,
            finished_at=finished,
            input_format="json",
            output_format="json",
            input_file="input.json",
            execution_class=execution_class,
            instance_id="latest",
            name=f"seeded {index}",
            priority=rng.randint(1, 9),
            error="synthetic failure" if status == "failed" else "",
            statistics=statistics,
            batch_experiment_id=f"bx-{index % 7}" if index % 5 == 0 else None,
        ))
    return runs


def seed_history(
    store: Store,
    app_ids: Sequence[str],
    total: int,
    *,
    now: float | None = None,
    span: float = 48 * 3600.0,
    seed: int = 0,
) -> list[RunRecord]:
    """Register ``app_ids`` and insert ``total`` synthetic finished runs; returns them."""
    for app_id in app_ids:
        store.upsert_application(app_id, app_id, "seeded application")
    runs = synthetic_runs(
        app_ids, total, now=time.time() if now is None else now, span=span, seed=seed
    )
    store.insert_runs(runs)
    return runs
