"""The scheduler's failure paths, in process on the real store: an app that cannot start, a
run task that crashes, an application without code, the max-duration backstop, a cancel
that arrives while the app is still starting, and queued runs of a class that is no longer
configured. Each ends the run ``failed`` (or ``canceled``) with the reason stored and logged,
and the scheduler keeps dispatching the next run.

The executions are stand-ins (``start_run`` is injectable) because these faults cannot be
produced on demand by a real app: an exec that fails after the fork, a task that raises, an
executor whose own duration limit did not fire."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nextmv_tui.service.executor import RunJob, RunOutcome
from nextmv_tui.service.manifest import bundled_app_dir, load_manifest
from nextmv_tui.service.scheduler import Scheduler
from nextmv_tui.service.settings import ExecutionClass, ServiceSettings
from nextmv_tui.service.store import RunRecord, Store
from tests.service.helpers import until

SUCCEEDED = RunOutcome("succeeded", "", None, "json", 0, None, 0)


class Hanging:
    """An execution that runs until canceled (its executor's own time limit never fires)."""

    pid = 0

    def __init__(self) -> None:
        self.stopped = asyncio.Event()
        self.cancels = 0

    async def wait(self) -> RunOutcome:
        await self.stopped.wait()
        return RunOutcome("canceled", "", None, "json", 0, None, -15)

    async def cancel(self, grace: float = 3.0) -> None:
        self.cancels += 1
        self.stopped.set()


class Instant:
    pid = 0

    async def wait(self) -> RunOutcome:
        return SUCCEEDED

    async def cancel(self, grace: float = 3.0) -> None:
        return None


def queued(run_id: str, app_id: str = "knapsack", pool: str = "local") -> RunRecord:
    return RunRecord(
        id=run_id, app_id=app_id, status="queued", created_at=1.0, status_changed_at=1.0,
        input_format="json", output_format="json", input_file="input.json",
        execution_class=pool, pool=pool,
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Callable[..., tuple[Scheduler, Store]]]:
    stores: list[Store] = []

    def make(start: Any, **options: Any) -> tuple[Scheduler, Store]:
        settings = ServiceSettings(data_dir=tmp_path, api_key="k", **options)
        settings.prepare_dirs()
        store = Store(settings.db_path)
        stores.append(store)
        manifests = {"knapsack": load_manifest(bundled_app_dir("knapsack"), "knapsack")}
        return Scheduler(store, settings, manifests, start), store

    yield make
    for store in stores:
        store.close()


def record(store: Store, run_id: str) -> RunRecord:
    found = store.get_run(run_id)
    assert found is not None
    return found


def logged(tmp_path: Path, run_id: str) -> list[str]:
    path = tmp_path / "runs" / run_id / "logs.jsonl"
    return [json.loads(line)["log"] for line in path.read_text().splitlines()]


async def test_an_app_that_cannot_start_fails_its_run_and_the_next_one_starts(service,
                                                                              tmp_path):
    calls: list[str] = []

    async def start(job: RunJob) -> Instant:
        calls.append(job.run_id)
        if job.run_id == "bad":
            raise OSError("exec format error")
        return Instant()

    scheduler, store = service(start, concurrency=1)
    store.insert_run(queued("bad"))
    store.insert_run(queued("good"))
    scheduler.dispatch()
    await until(lambda: record(store, "good").status == "succeeded")
    bad = record(store, "bad")
    assert bad.status == "failed"
    assert bad.error == "could not start the app: exec format error"
    assert bad.error in logged(tmp_path, "bad")
    assert calls == ["bad", "good"]
    await scheduler.shutdown()


async def test_a_crashing_run_task_fails_the_run_instead_of_dying_silently(service, tmp_path):
    class Broken(Instant):
        async def wait(self) -> RunOutcome:
            raise RuntimeError("boom")

    async def start(job: RunJob) -> Broken:
        return Broken()

    scheduler, store = service(start)
    store.insert_run(queued("r1"))
    scheduler.dispatch()
    await until(lambda: record(store, "r1").status == "failed")
    assert record(store, "r1").error == "local service error while running: boom"
    assert scheduler.running_in("local") == 0, "the slot is freed"
    await scheduler.shutdown()


async def test_an_application_without_code_fails_with_how_to_serve_it(service, tmp_path):
    async def start(job: RunJob) -> Instant:  # pragma: no cover - must not be called
        raise AssertionError("no app to start")

    scheduler, store = service(start)
    store.insert_run(queued("r1", app_id="ghost"))
    scheduler.dispatch()
    await until(lambda: record(store, "r1").status == "failed")
    error = record(store, "r1").error
    assert "application 'ghost' has no code on this local service" in error
    assert "nextmv-tui serve --app DIR" in error
    await scheduler.shutdown()


async def test_the_backstop_stops_a_run_its_executor_let_overrun(service, monkeypatch):
    """``max_duration + cancel_grace + 30`` with the 30 s shrunk: the backstop is the
    scheduler's own deadline, used only when the executor's limit failed."""
    original = asyncio.wait_for
    hanging = Hanging()

    async def fast_wait_for(awaitable: Any, timeout: float | None) -> Any:
        return await original(awaitable, None if timeout is None else min(timeout, 0.3))

    monkeypatch.setattr("nextmv_tui.service.scheduler.asyncio.wait_for", fast_wait_for)

    async def start(job: RunJob) -> Hanging:
        return hanging

    scheduler, store = service(start, max_duration=1.0, cancel_grace=0.1)
    store.insert_run(queued("r1"))
    scheduler.dispatch()
    await until(lambda: record(store, "r1").status == "failed")
    assert record(store, "r1").error == (
        "run exceeded the maximum duration of 1 s and was stopped")
    assert hanging.cancels == 1
    await scheduler.shutdown()


async def test_a_cancel_during_the_apps_start_cancels_it_once_started(service):
    """The cancel arrives while ``start_run`` is still working (e.g. building the app's
    environment): the start sees ``canceled``, and the started app is stopped at once."""
    release = asyncio.Event()
    hanging = Hanging()
    seen: list[bool] = []
    jobs: list[RunJob] = []

    async def start(job: RunJob) -> Hanging:
        jobs.append(job)
        await release.wait()
        seen.append(job.canceled.is_set())
        return hanging

    scheduler, store = service(start, cancel_grace=0.1)
    store.insert_run(queued("r1"))
    scheduler.dispatch()
    await until(lambda: record(store, "r1").status == "running")
    cancel = asyncio.ensure_future(scheduler.cancel("r1"))
    await until(lambda: bool(jobs) and jobs[0].canceled.is_set())
    release.set()
    assert await cancel is True
    await until(lambda: record(store, "r1").status == "canceled")
    assert seen == [True] and hanging.cancels >= 1
    assert await scheduler.cancel("r1") is False, "already final"
    await scheduler.shutdown()


async def test_queued_runs_of_a_class_no_longer_configured_fail_at_recovery(tmp_path):
    gpu = ExecutionClass("gpu", concurrency=1)
    settings = ServiceSettings(data_dir=tmp_path, api_key="k", extra_classes=(gpu,))
    settings.prepare_dirs()
    store = Store(settings.db_path)
    store.insert_run(queued("r-gpu", pool="gpu"))
    store.insert_run(queued("r-local"))
    store.close()

    without = ServiceSettings(data_dir=tmp_path, api_key="k")
    store = Store(without.db_path)
    try:
        scheduler = Scheduler(store, without, {}, None)
        scheduler.recover()
        assert record(store, "r-gpu").status == "failed"
        assert record(store, "r-gpu").error == "execution class 'gpu' is no longer configured"
        assert record(store, "r-local").status == "queued"
    finally:
        store.close()
