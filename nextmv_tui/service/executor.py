"""Run one app execution as a subprocess in its own process group.

Mirrors the SDK's local runner (``shared/reference/nextmv-apps.md`` §1): the manifest's files
plus ``app.yaml`` are copied into ``run_dir/work``; options become ``-name value`` flags (only
those the run asked for); JSON/text input is the child's stdin, file-based input is unpacked
into the manifest's input folder. A Python app with ``python.pip-requirements`` runs with the
interpreter of its environment (``appenv.py``, built on first use). The output is what the
run's output format says (``RunJob.output_format``): stdout for json/text, the ``output/``
folder for csv-archive, the manifest's solutions folder for multi-file (whose stdout is log).
Differences, on purpose:

- the child is ``subprocess.Popen`` watched by threads, not ``asyncio`` subprocesses, because
  ``asyncio``'s ``Process.wait()`` also waits for the pipes, which a leftover grandchild can hold
  open forever;
- stdin and (for JSON/text apps) stdout are plain files handed to the child, so nothing is ever
  buffered in memory and no pipe can deadlock;
- the whole process group is killed on cancel, on a max-duration overrun and after the entry
  point exits, and so is every process that left the group (found by the run's marker in its
  environment, ``processes.kill_marked``), so no process of a run survives it;
- the app gets an allowlisted environment (``environment.app_environment``), never the
  service's own.

Process-group control lives in ``processes.py``, the working copy and output files in
``staging.py``, the log file in ``runlog.py``; this module starts, supervises and concludes.

The executor never raises for app faults: every problem becomes a ``failed`` :class:`RunOutcome`
whose error is one line, and the same line is appended to the run's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

from nextmv_tui.service.appenv import EnvError, Environments
from nextmv_tui.service.environment import app_environment
from nextmv_tui.service.faults import DISK_FULL_ERROR, is_disk_full
from nextmv_tui.service.manifest import FILE_FORMATS, AppManifest
from nextmv_tui.service.processes import (
    group_alive,
    kill_group,
    kill_marked,
    run_marker,
    signal_group,
    signal_name,
    stop_stale_run,
)
from nextmv_tui.service.runlog import LOG_FILE, LineReader, LogWriter, NullLog
from nextmv_tui.service.staging import (
    SetupError,
    collect_files,
    collect_stdout,
    extract_input,
    open_input,
    prepare_work_dir,
)

__all__ = ["Execution", "RunJob", "RunOutcome", "start_run", "stop_stale_run"]

PIPE_DRAIN_TIMEOUT = 5.0
"""How long to wait for log pipes after the process group is gone (escaped processes)."""

T = TypeVar("T")


@dataclass(frozen=True)
class RunJob:
    """Everything the executor needs to run one run (see ARCHITECTURE.md)."""

    run_id: str
    manifest: AppManifest
    input_path: Path
    input_format: str
    options: dict[str, str]
    run_dir: Path
    max_duration: float | None
    execution_class: str | None = None
    """Only used to word the max-duration error; optional extension of the contract."""
    output_format: str | None = None
    """The output format the run asked for; None: the manifest's (json unless file-based)."""
    environments: Environments | None = None
    """Builds Python apps' environments; None runs them with the service's interpreter."""
    canceled: threading.Event | None = None
    """Set by the scheduler when the run is canceled while it is still being prepared (an
    environment build can take minutes): the app is then never started."""

    @property
    def effective_output_format(self) -> str:
        if self.output_format:
            return self.output_format
        content = self.manifest.content_format
        return content if content in FILE_FORMATS else "json"
    environment: Mapping[str, str] = field(default_factory=dict)
    """Extra variables for the app (``serve --app-env``), on top of the allowlist."""
    max_log_bytes: int | None = None
    """The run's log stops growing here, with a note (``serve --max-log-mb``); None: no cap."""


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended and where its output is."""

    status: Literal["succeeded", "failed", "canceled"]
    error: str
    output_path: Path | None
    output_format: str
    output_size: int
    statistics: dict[str, Any] | None
    exit_code: int | None
    metrics: dict[str, Any] | None = None


def command_line(job: RunJob, work: Path, python: str | None = None) -> list[str]:
    """The entry point's argv: the manifest's command, then ``-name value`` per run option.

    ``python``: the interpreter of the app's environment (default: the service's own)."""
    args = job.manifest.command(work, python)
    for name, value in job.options.items():
        args += [f"-{name}", value if isinstance(value, str) else json.dumps(value)]
    return args


def child_environment(job: RunJob) -> dict[str, str]:
    """The app's environment: the allowlist, the run's variables (its marker, unbuffered
    UTF-8 Python I/O) and ``job.environment``; never the service's secrets."""
    return app_environment(job.run_id, job.environment)


def _in_thread(func: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """Run ``func`` on a dedicated daemon thread (keeps the default executor free)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def target() -> None:
        try:
            result = func(*args)
        except BaseException as exc:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(deliver, None, exc)
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(deliver, result, None)

    threading.Thread(target=target, name=f"executor-{func.__name__}", daemon=True).start()
    return future


def _format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --- the execution ---------------------------------------------------------------------


class Execution:
    """A started run: ``wait()`` for its outcome, ``cancel()`` to stop its process group."""

    def __init__(self, job: RunJob, log: LogWriter, work: Path) -> None:
        self.pid = 0
        self._job = job
        self._log = log
        self._work = work
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: LineReader | None = None
        self._stdout: LineReader | None = None
        self._stdout_file: IO[bytes] | None = None
        self._exited: asyncio.Future[int] | None = None
        self._cancel_requested = False
        self._timed_out = False
        self._terminator: asyncio.Task[None] | None = None
        self._task: asyncio.Task[RunOutcome] | None = None
        self._outcome: RunOutcome | None = None
        self._spawn_lock = threading.Lock()
        self._abandoned = False
        self._python: str | None = None
        self._output_format = job.effective_output_format
        self._stdout_is_log = self._output_format == "multi-file"

    # public API

    async def wait(self) -> RunOutcome:
        """The outcome once the run is over; safe to await from several tasks."""
        if self._outcome is not None:
            return self._outcome
        assert self._task is not None
        return await asyncio.shield(self._task)

    async def cancel(self, grace: float = 3.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace`` s; returns once it is gone."""
        if self._exited is None or self._exited.done():
            return
        if not self._timed_out:
            self._cancel_requested = True
        self._log.write(f"run canceled: stopping process group {self.pid}")
        await self._terminate(grace)

    # internals

    def _abandon(self) -> None:
        """``start_run`` was cancelled: make sure a process spawned meanwhile does not live on."""
        with self._spawn_lock:
            self._abandoned = True
            proc = self.pid and self._proc
        if proc:
            signal_group(proc.pid, signal.SIGKILL)

            def reap() -> None:
                proc.wait()
                self._cleanup()

            threading.Thread(target=reap, daemon=True).start()

    def _finish_early(self, error: str) -> None:
        self._log.write(error)
        self._outcome = _failed(self._job, error, None)

    async def _terminate(self, grace: float) -> None:
        if self._terminator is None:
            self._terminator = asyncio.create_task(self._stop_group(grace))
        await asyncio.shield(self._terminator)

    async def _stop_group(self, grace: float) -> None:
        assert self._exited is not None
        signal_group(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + max(0.0, grace)
        while time.monotonic() < deadline:
            if self._exited.done() and not await _in_thread(group_alive, self.pid):
                break
            await asyncio.sleep(0.05)
        await self._kill_group()  # whatever is left, in the group or escaped from it
        await asyncio.shield(self._exited)

    async def _kill_group(self) -> None:
        """SIGKILL the group, then every process that left it (the run's marker), and wait
        (bounded) until they are really gone."""
        await _in_thread(self._kill_all)

    def _kill_all(self) -> None:
        if self.pid:
            kill_group(self.pid)
        kill_marked(run_marker(self._job.run_id))

    def _start(self) -> None:
        """Prepare the working copy and spawn the entry point (runs on a worker thread)."""
        stdin = self._stage()
        if self._job.canceled is not None and self._job.canceled.is_set():
            if not isinstance(stdin, int):
                stdin.close()
            raise SetupError("run canceled before its app started")
        try:
            proc = self._spawn(stdin)
        finally:
            if not isinstance(stdin, int):
                stdin.close()
        self._claim(proc)
        try:
            assert proc.stderr is not None
            self._stderr = LineReader(proc.stderr, self._log, None)
            if self._stdout_is_log:
                assert proc.stdout is not None
                self._stdout = LineReader(proc.stdout, self._log, self._stdout_file)
        except BaseException:
            signal_group(self.pid, signal.SIGKILL)
            proc.wait()
            raise

    def _stage(self) -> IO[bytes] | int:
        """The working copy and the child's stdin (DEVNULL for a file-based input)."""
        job, manifest = self._job, self._job.manifest
        prepare_work_dir(manifest, self._work)
        self._python = self._environment()
        if job.input_format in FILE_FORMATS:
            extract_input(job.input_path, self._work / manifest.input_dir(job.input_format))
            return subprocess.DEVNULL
        return open_input(job.input_path)

    def _environment(self) -> str | None:
        """The interpreter of the app's Python environment (None: the service's own).

        Building it may take minutes on first use; this runs on the start thread."""
        manifest, environments = self._job.manifest, self._job.environments
        if environments is None:
            if manifest.type == "python" and manifest.pip_requirements:
                self._log.write(
                    "note: python.pip-requirements are not installed (app environments are "
                    "off: serve --no-app-envs); the app runs with the service's Python"
                )
            return None
        try:
            env = environments.prepare(manifest)
        except EnvError as exc:
            for line in exc.details.splitlines():
                if line.strip():
                    self._log.write(line)
            raise SetupError(str(exc)) from None
        if env is None:
            return None
        for line in env.log_lines(manifest.runtime):
            self._log.write(line)
        return env.python

    def _spawn(self, stdin: IO[bytes] | int) -> subprocess.Popen[bytes]:
        """Start the entry point in a new session (its own process group)."""
        job, manifest, work = self._job, self._job.manifest, self._work
        args = command_line(job, work, self._python)
        try:
            self._stdout_file = open(job.run_dir / "stdout", "wb", opener=_private)  # noqa: SIM115
            self._proc = subprocess.Popen(
                args,
                stdin=stdin,
                stdout=subprocess.PIPE if self._stdout_is_log else self._stdout_file,
                stderr=subprocess.PIPE,
                cwd=work / manifest.cwd if manifest.cwd else work,
                env=child_environment(job),
                start_new_session=True,
            )
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise SetupError(f"cannot start the app ({args[0]}): {reason}") from None
        return self._proc

    def _claim(self, proc: subprocess.Popen[bytes]) -> None:
        """Publish the pid, unless ``start_run`` was cancelled while we were spawning."""
        with self._spawn_lock:
            if self._abandoned:
                signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
                for pipe in (proc.stdout, proc.stderr):
                    if pipe is not None:
                        pipe.close()
                self._cleanup()
                raise SetupError("run start abandoned")
            self.pid = proc.pid

    async def _supervise(self) -> RunOutcome:
        job = self._job
        try:
            assert self._exited is not None
            if job.max_duration is not None and job.max_duration > 0:
                try:
                    await asyncio.wait_for(asyncio.shield(self._exited), job.max_duration)
                except asyncio.TimeoutError:
                    if not self._cancel_requested:
                        self._timed_out = True
                        limit = _format_seconds(job.max_duration)
                        self._log.write(f"run exceeded the maximum duration of {limit} s: stopping")
                        await self._terminate(3.0)
            exit_code = await asyncio.shield(self._exited)
            if self._terminator is not None:
                await asyncio.shield(self._terminator)
            # Leftovers of a finished entry point (background children, daemons that left the
            # group) do not outlive the run; killing them also closes the log pipes they hold.
            await self._kill_group()
            await self._drain()
            return await _in_thread(self._conclude, exit_code)
        except asyncio.CancelledError:
            # The service is going away: the run's processes must not outlive it.
            signal_group(self.pid, signal.SIGKILL)
            kill_marked(run_marker(job.run_id), settle=1.0)
            raise
        except Exception as exc:  # executor bug or disk fault: still one failed outcome
            if is_disk_full(exc):
                error = f"{DISK_FULL_ERROR}: the run's output could not be stored"
            else:
                error = f"executor error: {type(exc).__name__}: {exc}"
            self._log.write(error)
            return _failed(job, error, None)
        finally:
            await _in_thread(self._cleanup)

    async def _drain(self) -> None:
        readers = [r for r in (self._stderr, self._stdout) if r is not None]

        def join() -> None:
            for reader in readers:
                reader.done.wait(PIPE_DRAIN_TIMEOUT)

        await _in_thread(join)

    def _conclude(self, exit_code: int) -> RunOutcome:
        job = self._job
        if self._cancel_requested:
            return RunOutcome("canceled", "run canceled", None, _default_format(job), 0, None,
                              exit_code)
        if self._timed_out:
            limit = _format_seconds(job.max_duration or 0)
            error = f"exceeded the maximum run duration of {limit} s"
            if job.execution_class:
                error += f" for execution class {job.execution_class}"
            return _failed(job, error, exit_code)
        if self._log.failure is not None:
            reason = "" if is_disk_full(self._log.failure) else f" ({self._log.failure})"
            lead = DISK_FULL_ERROR if not reason else "the run's log could not be written"
            return _failed(job, f"{lead}: the run's log could not be stored{reason}", exit_code)
        if exit_code != 0:
            last = self._stderr.last_line if self._stderr else ""
            if exit_code < 0:  # killed from outside (e.g. OOM): its last log line is no reason
                error = f"terminated by signal {signal_name(-exit_code)}"
            elif last:
                error = last[:500]
            else:
                error = f"exit code {exit_code}"
            return _failed(job, error, exit_code)
        if self._stdout_file is not None:
            self._stdout_file.close()
        if self._output_format in FILE_FORMATS:
            out = collect_files(job.manifest, self._work, job.run_dir, self._output_format)
        else:
            out = collect_stdout(job.manifest, self._work, job.run_dir, self._output_format)
        if out.note:
            self._log.write(out.note)
        return RunOutcome("succeeded", "", out.path, out.format, out.size, out.statistics,
                          exit_code, out.metrics)

    def _cleanup(self) -> None:
        if self._stdout_file is not None:
            self._stdout_file.close()
        if self._work.parent.is_dir():
            shutil.rmtree(self._work, ignore_errors=True)
        self._log.close()


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _default_format(job: RunJob) -> str:
    return job.effective_output_format


def _failed(job: RunJob, error: str, exit_code: int | None) -> RunOutcome:
    return RunOutcome("failed", error, None, _default_format(job), 0, None, exit_code)


async def start_run(job: RunJob) -> Execution:
    """Start ``job``'s app; never raises for app faults (a failed outcome instead)."""
    try:
        job.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        log: LogWriter = LogWriter(job.run_dir / LOG_FILE, job.max_log_bytes)
    except OSError as exc:
        # Without a run folder there is no log; the outcome alone carries the reason.
        bare = Execution(job, NullLog(), job.run_dir / "work")
        bare._outcome = _failed(job, f"cannot create the run folder {job.run_dir}: {exc}", None)
        return bare
    execution = Execution(job, log, job.run_dir / "work")
    try:
        await _in_thread(execution._start)
    except asyncio.CancelledError:
        execution._abandon()
        raise
    except SetupError as exc:
        execution._finish_early(str(exc))
    except Exception as exc:
        execution._finish_early(f"cannot start the run: {type(exc).__name__}: {exc}")
    if execution._outcome is not None:
        await _in_thread(execution._cleanup)
        return execution
    proc = execution._proc
    assert proc is not None
    execution._exited = _in_thread(proc.wait)
    execution._task = asyncio.create_task(execution._supervise(), name=f"run-{job.run_id}")
    return execution
