"""The run queue: pools with a concurrency limit, priority then age, cancel, recovery.

A run asks for an execution class (``local``, a pool declared with ``--execution-class``, or a
Cloud-style name such as ``6c9gb``); ``settings.pool_for`` picked the pool that runs it when
it was created (``RunRecord.pool``). Pools are what this module schedules.

Why it looks like this: the database is the queue (status 'queued', ordered by priority then
insertion ``seq``), so nothing is lost on a crash; this class only holds the in-memory *slots*
of runs it started. ``dispatch()`` is synchronous and runs on the event loop, so a slot is
reserved (queued -> running in one conditional UPDATE) before any await: two dispatches can
never over-fill a class, and a cancel racing a start is seen by whichever comes second.

A full disk is a state, not a crash: a final status the store cannot write (``database or
disk is full``) is kept in memory, shown to clients as if stored (``unsaved_final``), and
written again every second until it succeeds; a dispatch that cannot mark a run running is
retried the same way. Nothing stays ``running`` once space is freed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from nextmv_tui.service.appenv import Environments
from nextmv_tui.service.executor import RunJob, RunOutcome, start_run
from nextmv_tui.service.manifest import AppManifest
from nextmv_tui.service.processes import stop_stale_run
from nextmv_tui.service.runlog import LOG_FILE, append_log
from nextmv_tui.service.settings import ServiceSettings
from nextmv_tui.service.store import RunRecord, Store

log = logging.getLogger(__name__)

INTERRUPTED_ERROR = "interrupted: service restarted"
RETRY_INTERVAL = 1.0
"""Seconds between attempts to store what a full disk refused (final statuses, dispatch)."""
_STORAGE_ERRORS = (sqlite3.Error, OSError)


class ExecutionLike(Protocol):
    """What the scheduler needs of ``executor.Execution``."""

    pid: int

    async def wait(self) -> RunOutcome: ...

    async def cancel(self, grace: float = 3.0) -> None: ...


StartRun = Callable[[RunJob], Awaitable[ExecutionLike]]
"""``executor.start_run``: takes a ``RunJob``; injectable so tests of the queue need no apps."""


@dataclass
class _Slot:
    run_id: str
    execution_class: str
    execution: ExecutionLike | None = None
    cancel_requested: bool = False
    canceled: threading.Event = field(default_factory=threading.Event)
    """Seen by the executor's start thread (e.g. after a long environment build)."""
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Scheduler:
    """Starts queued runs when their class has room, records outcomes, cancels on request."""

    def __init__(
        self,
        store: Store,
        settings: ServiceSettings,
        manifests: dict[str, AppManifest],
        start_run: StartRun | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._manifests = manifests
        self._start_run = start_run
        self._slots: dict[str, _Slot] = {}
        self._closing = False
        self.environments = (
            Environments(settings.envs_dir, settings.env_build_timeout)
            if settings.app_envs else None
        )
        self._unsaved: dict[str, tuple[str, dict[str, Any]]] = {}
        self._dispatch_blocked = False
        self._retry_task: asyncio.Task[None] | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def recover(self) -> list[RunRecord]:
        """Runs left 'running' by a crash or a stop become failed; leftover processes die.

        The run's end is its last sign of life (last log write), so the downtime does not
        count as execution. Queued runs of a pool that is no longer configured fail too (they
        could never start).
        """
        for name in self._store.queued_pools():
            if name not in self._settings.execution_classes:
                for run in self._store.next_queued(name, 1_000_000):
                    self._fail(run.id, f"execution class {name!r} is no longer configured")
        orphans = self._store.running_runs()
        for run in orphans:
            run_dir = self._settings.runs_dir / run.id
            stop_stale_run(run_dir, run.pid)
            ended = _last_activity(run_dir, run.started_at)
            append_log(run_dir, INTERRUPTED_ERROR)
            self._save_final(run.id, "failed", now=ended, error=INTERRUPTED_ERROR)
        return orphans

    async def shutdown(self) -> None:
        """Stop accepting work and end running apps.

        Their runs stay 'running' in the store and become failed "interrupted: service
        restarted" on the next start, exactly as after a crash.
        """
        self._closing = True
        if self._retry_task is not None:
            self._retry_task.cancel()
        slots = list(self._slots.values())
        grace = self._settings.cancel_grace
        await asyncio.gather(
            *(slot.execution.cancel(grace) for slot in slots if slot.execution is not None),
            return_exceptions=True,
        )
        for slot in slots:
            if slot.task is not None:
                slot.task.cancel()
        for slot in slots:
            if slot.task is not None:
                with contextlib.suppress(BaseException):
                    await slot.task

    # --- queries -------------------------------------------------------------------------

    def running_in(self, pool: str) -> int:
        return sum(1 for slot in self._slots.values() if slot.execution_class == pool)

    def class_is_full(self, pool: str) -> bool:
        """True when a new run of this pool would have to wait (for ``queuing.disabled``)."""
        limit = self._settings.execution_classes[pool].concurrency
        return self._store.count_active(pool) >= limit

    # --- dispatch ------------------------------------------------------------------------

    def dispatch(self) -> None:
        """Start as many queued runs as the classes allow. Synchronous on purpose (see module).

        A store that cannot be written (disk full) leaves the runs queued; dispatch is retried
        every ``RETRY_INTERVAL`` until it can.
        """
        if self._closing:
            return
        try:
            self._dispatch()
        except _STORAGE_ERRORS as exc:
            log.warning("cannot start queued runs (%s); retrying", exc)
            self._dispatch_blocked = True
            self._retry_later()

    def _dispatch(self) -> None:
        for name, exec_class in self._settings.execution_classes.items():
            free = exec_class.concurrency - self.running_in(name)
            if free <= 0:
                continue
            for run in self._store.next_queued(name, free):
                if not self._store.mark_running(run.id, time.time()):
                    continue
                slot = _Slot(run.id, name)
                self._slots[run.id] = slot
                slot.task = asyncio.get_running_loop().create_task(
                    self._execute(slot, run), name=f"run {run.id}"
                )

    async def _execute(self, slot: _Slot, run: RunRecord) -> None:
        try:
            await self._execute_inner(slot, run)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never let a run task die silently
            log.exception("run %s crashed the scheduler task", run.id)
            self._fail(run.id, f"local service error while running: {exc}")
        finally:
            self._slots.pop(run.id, None)
            slot.done.set()
            if not self._closing:
                self.dispatch()

    async def _execute_inner(self, slot: _Slot, run: RunRecord) -> None:
        run_dir = self._settings.runs_dir / run.id
        manifest = self._manifests.get(run.app_id)
        if manifest is None:
            self._fail(
                run.id,
                f"application {run.app_id!r} has no code on this local service: start "
                f"'nextmv-tui serve --app DIR' with the app's folder (containing app.yaml)",
            )
            return
        start = self._start_run or start_run
        exec_class = self._settings.execution_classes[run.pool]
        job = RunJob(
            run_id=run.id,
            manifest=manifest,
            input_path=run_dir / run.input_file,
            input_format=run.input_format,
            options=dict(run.options),
            run_dir=run_dir,
            max_duration=exec_class.max_duration,
            execution_class=run.execution_class,
            output_format=run.output_format,
            environments=self.environments,
            canceled=slot.canceled,
            environment=dict(self._settings.app_env),
            max_log_bytes=self._settings.max_log_bytes,
        )
        try:
            execution = await start(job)
        except Exception as exc:
            self._fail(run.id, f"could not start the app: {exc}")
            return
        slot.execution = execution
        if execution.pid > 1:
            try:
                self._store.set_pid(run.id, execution.pid)
            except _STORAGE_ERRORS as exc:  # only used to clean up after a crash
                log.warning("run %s: pid not stored (%s)", run.id, exc)
        if slot.cancel_requested:
            await execution.cancel(self._settings.cancel_grace)
        outcome = await self._wait(execution, exec_class.max_duration)
        if self._closing and not slot.cancel_requested:
            return  # stopped by a service shutdown: recovered as interrupted on the next start
        if slot.cancel_requested:
            self._save_final(run.id, "canceled", now=time.time(), exit_code=outcome.exit_code)
            return
        output_path = outcome.output_path
        self._save_final(
            run.id,
            outcome.status,
            now=time.time(),
            error=outcome.error,
            output_file=output_path.name if output_path is not None else None,
            output_format=outcome.output_format or None,
            output_size=outcome.output_size,
            statistics=outcome.statistics,
            metrics=outcome.metrics,
            exit_code=outcome.exit_code,
        )

    async def _wait(self, execution: ExecutionLike, max_duration: float | None) -> RunOutcome:
        """The executor enforces ``max_duration``; this is only a backstop if it did not."""
        if max_duration is None:
            return await execution.wait()
        backstop = max_duration + self._settings.cancel_grace + 30
        waiter = asyncio.ensure_future(execution.wait())
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), backstop)
        except asyncio.TimeoutError:
            await execution.cancel(self._settings.cancel_grace)
            inner = await waiter
            error = f"run exceeded the maximum duration of {max_duration:g} s and was stopped"
            return RunOutcome("failed", error, None, inner.output_format, 0, None, inner.exit_code)

    def _fail(self, run_id: str, error: str) -> None:
        append_log(self._settings.runs_dir / run_id, error)
        self._save_final(run_id, "failed", now=time.time(), error=error)

    # --- what a full disk refused ----------------------------------------------------------

    def _save_final(self, run_id: str, status: str, **fields: Any) -> None:
        """Store a run's final status; if the store cannot be written, keep it and retry."""
        try:
            self._store.finish(run_id, status, **fields)
        except _STORAGE_ERRORS as exc:
            log.warning("run %s: final status %s not stored yet (%s); retrying", run_id,
                        status, exc)
            self._unsaved[run_id] = (status, fields)
            self._retry_later()

    def unsaved_final(self, run: RunRecord) -> RunRecord:
        """``run`` as clients must see it: with its final status even if not stored yet."""
        pending = self._unsaved.get(run.id)
        if pending is None or run.status not in ("queued", "running"):
            return run
        status, fields = pending
        changes = {k: v for k, v in fields.items() if k != "now" and v is not None}
        return dataclasses.replace(
            run, status=status, finished_at=fields["now"], status_changed_at=fields["now"],
            **changes,
        )

    @property
    def unsaved_ids(self) -> frozenset[str]:
        """Runs whose final status is known but not stored yet (not in the queue any more)."""
        return frozenset(self._unsaved)

    def _retry_later(self) -> None:
        if self._retry_task is None or self._retry_task.done():
            self._retry_task = asyncio.get_running_loop().create_task(
                self._retry_storage(), name="retry storage"
            )

    async def _retry_storage(self) -> None:
        while (self._unsaved or self._dispatch_blocked) and not self._closing:
            await asyncio.sleep(RETRY_INTERVAL)
            for run_id, (status, fields) in list(self._unsaved.items()):
                try:
                    self._store.finish(run_id, status, **fields)
                except _STORAGE_ERRORS:
                    break
                self._unsaved.pop(run_id, None)
                log.info("run %s: final status %s stored", run_id, status)
            if self._dispatch_blocked and not self._unsaved:
                self._dispatch_blocked = False
                self.dispatch()

    # --- cancel --------------------------------------------------------------------------

    async def cancel(self, run_id: str) -> bool:
        """Cancel a queued or running run; False if it was already final.

        A queued run becomes canceled at once. A running one gets SIGTERM to its process
        group, SIGKILL after the grace period, and is canceled when its process is gone;
        this waits for that so the caller sees the final status.
        """
        slot = self._slots.get(run_id)
        if slot is None:
            if self._store.finish(run_id, "canceled", now=time.time()):
                return True
            slot = self._slots.get(run_id)
            if slot is None:
                return False
        slot.cancel_requested = True
        slot.canceled.set()
        if slot.execution is not None:
            await slot.execution.cancel(self._settings.cancel_grace)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(slot.done.wait(), self._settings.cancel_grace + 10)
        return True


def _last_activity(run_dir: Path, started_at: float | None) -> float:
    """When a run that died with its service was last seen alive: its last log write."""
    try:
        seen = (run_dir / LOG_FILE).stat().st_mtime
    except OSError:
        seen = started_at or time.time()
    return max(seen, started_at or seen)
