"""Run one app execution as a subprocess in its own process group.

Mirrors the SDK's local runner (``shared/reference/nextmv-apps.md`` §1): the manifest's files
plus ``app.yaml`` are copied into ``run_dir/work``; options become ``-name value`` flags (only
those the run asked for); JSON/text input is the child's stdin, file-based input is unpacked
into the manifest's input folder. Differences, on purpose:

- the child is ``subprocess.Popen`` watched by threads, not ``asyncio`` subprocesses, because
  ``asyncio``'s ``Process.wait()`` also waits for the pipes, which a leftover grandchild can hold
  open forever;
- stdin and (for JSON/text apps) stdout are plain files handed to the child, so nothing is ever
  buffered in memory and no pipe can deadlock;
- the whole process group is killed on cancel, on a max-duration overrun and after the entry
  point exits, so no process of a run survives it.

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
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal, TypeVar

from nextmv_tui.service.manifest import FILE_FORMATS, AppManifest, ManifestError

MAX_PARSED_OUTPUT = 64 * 1024 * 1024
"""Stdout above this size is not parsed for ``statistics`` (format is sniffed instead)."""

MAX_LOG_LINE = 64 * 1024
"""Longer log lines are split so one line never holds unbounded memory."""

PIPE_DRAIN_TIMEOUT = 5.0
"""How long to wait for log pipes after the process group is gone (escaped processes)."""

KILL_SETTLE_TIMEOUT = 5.0
"""How long to wait for SIGKILLed processes to disappear before giving up."""

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


def utc_timestamp() -> str:
    """Now as RFC 3339 with milliseconds and ``Z``, the log line timestamp format."""
    text = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


class LogWriter:
    """Appends ``{"timestamp", "log"}`` JSON lines to ``logs.jsonl``, flushed per line.

    Each line is one ``write`` of a complete line, so a reader at a byte offset sees whole lines
    (a reader should still only consume up to the last newline).
    """

    def __init__(self, path: Path) -> None:
        self._file = path.open("ab")
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        record = json.dumps({"timestamp": utc_timestamp(), "log": line}, ensure_ascii=False)
        data = record.encode("utf-8", "replace") + b"\n"
        with self._lock:
            if not self._file.closed:
                self._file.write(data)
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class _SetupError(Exception):
    """A run cannot start; the message is the run's one-line error."""


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


# --- process groups --------------------------------------------------------------------


def _group_members(pgid: int) -> list[int] | None:
    """Live (non-zombie) pids of process group ``pgid``; None where /proc is unavailable."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    members = []
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and fields[0] != b"Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process of the group exists."""
    members = _group_members(pgid)
    if members is not None:
        return bool(members)
    try:  # pragma: no cover - non-Linux fallback (zombies count as alive)
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_stale_run(run_dir: Path, pid: int | None) -> bool:
    """After a service crash: kill a run's leftover process group and drop its working copy.

    Runs live in their own session, so they survive a killed service. ``pid`` is the stored
    ``Execution.pid`` (also the process group id). The group is killed only if one of its
    processes works inside ``run_dir`` (guards against pid reuse; Linux only). Blocking; returns
    True if a group was killed.
    """
    killed = False
    members = _group_members(pid) if pid and pid > 0 else None
    if members:
        root = run_dir.resolve()
        for member in members:
            with contextlib.suppress(OSError):
                if Path(os.readlink(f"/proc/{member}/cwd")).is_relative_to(root):
                    killed = True
                    break
    if killed and pid:
        _signal_group(pid, signal.SIGKILL)
        deadline = time.monotonic() + KILL_SETTLE_TIMEOUT
        while _group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
    shutil.rmtree(run_dir / "work", ignore_errors=True)
    return killed


# --- files -----------------------------------------------------------------------------


def _copy_app(manifest: AppManifest, work: Path) -> None:
    try:
        selected = manifest.resolve_files()
    except ManifestError as exc:
        raise _SetupError(f"app files missing: {exc}") from None
    if manifest.entrypoint not in selected:
        raise _SetupError(
            f"app files missing: entry point {manifest.entrypoint!r} not found in {manifest.root}"
        )
    for relative in selected:
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(manifest.root / relative, target)
        except OSError as exc:
            raise _SetupError(f"app files missing: cannot copy {relative!r}: {exc}") from None
    try:
        shutil.copy2(manifest.manifest_path, work / "app.yaml")
    except OSError as exc:
        raise _SetupError(f"app files missing: cannot copy app.yaml: {exc}") from None


def _check_member(member: tarfile.TarInfo, dest: Path) -> None:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise _SetupError(f"input archive: member {member.name!r} escapes the input folder")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise _SetupError(f"input archive: member {member.name!r} is not a file or folder")
    if member.issym() or member.islnk():
        base = dest if member.islnk() else (dest / name).parent
        target = (base / member.linkname).resolve()
        absolute = PurePosixPath(member.linkname).is_absolute()
        if absolute or not target.is_relative_to(dest.resolve()):
            raise _SetupError(
                f"input archive: link {member.name!r} points outside the input folder"
            )


def _extract_input(archive: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, dest)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, members=members, filter="data")
            else:  # pragma: no cover - Python without extraction filters
                tar.extractall(dest, members=members)
    except FileNotFoundError:
        raise _SetupError(f"input file missing: {archive}") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _SetupError(f"input archive {archive.name} is not a valid tar.gz: {exc}") from None


def _pack_output(source: Path, archive: Path) -> None:
    """Gzip tar of the regular files under ``source`` with names relative to it."""
    with tarfile.open(archive, "w:gz") as tar:
        if not source.is_dir():
            return
        for path in sorted(source.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            tar.add(path, arcname=path.relative_to(source).as_posix(), recursive=False)


def _statistics_from(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        stats = value.get("statistics")
        if isinstance(stats, dict):
            return stats
    return None


def _sniff_json(path: Path) -> bool:
    """Cheap check for huge stdout: does it start with '{'/'[' and end with '}'/']'?"""
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
        handle.seek(max(0, path.stat().st_size - 4096))
        tail = handle.read().rstrip()
    return head[:1] in (b"{", b"[") and tail[-1:] in (b"}", b"]")


def _link_or_copy(source: Path, target: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --- the execution ---------------------------------------------------------------------


class _LineReader:
    """Reads a pipe on its own thread, sending each line to the log (and raw bytes to a sink)."""

    def __init__(self, fd: IO[bytes], log: LogWriter, sink: IO[bytes] | None) -> None:
        self.last_line = ""
        self._fd = fd
        self._log = log
        self._sink = sink
        self.done = threading.Event()
        threading.Thread(target=self._run, name="executor-pipe", daemon=True).start()

    def _emit(self, raw: bytes) -> None:
        for start in range(0, max(len(raw), 1), MAX_LOG_LINE):
            line = raw[start : start + MAX_LOG_LINE].decode("utf-8", "replace").rstrip("\r")
            self._log.write(line)
            if line.strip():
                self.last_line = line.strip()

    def _run(self) -> None:
        buffer = b""
        try:
            while chunk := os.read(self._fd.fileno(), 65536):
                if self._sink is not None:
                    self._sink.write(chunk)
                    self._sink.flush()
                *lines, buffer = (buffer + chunk).split(b"\n")
                for line in lines:
                    self._emit(line)
                if len(buffer) >= MAX_LOG_LINE:  # a very long line: log it in pieces
                    cut = len(buffer) - len(buffer) % MAX_LOG_LINE
                    self._emit(buffer[:cut])
                    buffer = buffer[cut:]
            if buffer:
                self._emit(buffer)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                self._fd.close()
            self.done.set()


class Execution:
    """A started run: ``wait()`` for its outcome, ``cancel()`` to stop its process group."""

    def __init__(self, job: RunJob, log: LogWriter, work: Path) -> None:
        self.pid = 0
        self._job = job
        self._log = log
        self._work = work
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: _LineReader | None = None
        self._stdout: _LineReader | None = None
        self._stdout_file: IO[bytes] | None = None
        self._exited: asyncio.Future[int] | None = None
        self._cancel_requested = False
        self._timed_out = False
        self._terminator: asyncio.Task[None] | None = None
        self._task: asyncio.Task[RunOutcome] | None = None
        self._outcome: RunOutcome | None = None
        self._spawn_lock = threading.Lock()
        self._abandoned = False

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
            _signal_group(proc.pid, signal.SIGKILL)

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
        _signal_group(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + max(0.0, grace)
        while time.monotonic() < deadline:
            if self._exited.done() and not await _in_thread(_group_alive, self.pid):
                break
            await asyncio.sleep(0.05)
        if not self._exited.done() or await _in_thread(_group_alive, self.pid):
            await self._kill_group()
        await asyncio.shield(self._exited)

    async def _kill_group(self) -> None:
        """SIGKILL the group and wait (bounded) until its processes are really gone."""
        _signal_group(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + KILL_SETTLE_TIMEOUT
        while await _in_thread(_group_alive, self.pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    def _start(self) -> None:
        """Prepare the working copy and spawn the entry point (runs on a worker thread)."""
        job, manifest, work = self._job, self._job.manifest, self._work
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        _copy_app(manifest, work)
        if manifest.pip_requirements:
            self._log.write(
                "note: python.pip-requirements are not installed locally; "
                "the app runs with the service's Python environment"
            )
        stdin: IO[bytes] | int = subprocess.DEVNULL
        if job.input_format in FILE_FORMATS:
            _extract_input(job.input_path, work / manifest.input_dir(job.input_format))
        else:
            try:
                stdin = job.input_path.open("rb")
            except OSError as exc:
                raise _SetupError(f"input file missing: {job.input_path}: {exc}") from None
        args = manifest.command(work)
        for name, value in job.options.items():
            args += [f"-{name}", value if isinstance(value, str) else json.dumps(value)]
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
        file_based = manifest.file_based
        try:
            self._stdout_file = (job.run_dir / "stdout").open("wb")
            self._proc = subprocess.Popen(
                args,
                stdin=stdin,
                stdout=subprocess.PIPE if file_based else self._stdout_file,
                stderr=subprocess.PIPE,
                cwd=work / manifest.cwd if manifest.cwd else work,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise _SetupError(f"cannot start the app ({args[0]}): {reason}") from None
        finally:
            if not isinstance(stdin, int):
                stdin.close()
        with self._spawn_lock:
            if self._abandoned:  # start_run was cancelled while we were spawning
                _signal_group(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
                for pipe in (self._proc.stdout, self._proc.stderr):
                    if pipe is not None:
                        pipe.close()
                self._cleanup()
                raise _SetupError("run start abandoned")
            self.pid = self._proc.pid
        try:
            assert self._proc.stderr is not None
            self._stderr = _LineReader(self._proc.stderr, self._log, None)
            if file_based:
                assert self._proc.stdout is not None
                self._stdout = _LineReader(self._proc.stdout, self._log, self._stdout_file)
        except BaseException:
            _signal_group(self.pid, signal.SIGKILL)
            self._proc.wait()
            raise

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
            # Leftovers of a finished entry point (background children) do not outlive the run.
            if await _in_thread(_group_alive, self.pid):
                await self._kill_group()
            await self._drain()
            return await _in_thread(self._conclude, exit_code)
        except asyncio.CancelledError:
            # The service is going away: the run's processes must not outlive it.
            _signal_group(self.pid, signal.SIGKILL)
            raise
        except Exception as exc:  # executor bug or disk fault: still one failed outcome
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
        if exit_code != 0:
            last = self._stderr.last_line if self._stderr else ""
            if exit_code < 0:  # killed from outside (e.g. OOM): its last log line is no reason
                error = f"terminated by signal {_signal_name(-exit_code)}"
            elif last:
                error = last[:500]
            else:
                error = f"exit code {exit_code}"
            return _failed(job, error, exit_code)
        if self._stdout_file is not None:
            self._stdout_file.close()
        if job.manifest.file_based:
            return self._collect_files(exit_code)
        return self._collect_stdout(exit_code)

    def _collect_stdout(self, exit_code: int) -> RunOutcome:
        run_dir = self._job.run_dir
        stdout = run_dir / "stdout"
        size = stdout.stat().st_size
        statistics: dict[str, Any] | None = None
        if size <= MAX_PARSED_OUTPUT:
            try:
                statistics = _statistics_from(json.loads(stdout.read_bytes()))
                is_json = True
            except ValueError:
                is_json = False
        else:
            is_json = _sniff_json(stdout)
        target = run_dir / ("output.json" if is_json else "output.txt")
        _link_or_copy(stdout, target)
        fmt = "json" if is_json else "text"
        return RunOutcome("succeeded", "", target, fmt, size, statistics, exit_code)

    def _collect_files(self, exit_code: int) -> RunOutcome:
        manifest = self._job.manifest
        target = self._job.run_dir / "output.tar.gz"
        _pack_output(self._work / manifest.output_dir, target)
        statistics: dict[str, Any] | None = None
        stats_file = self._work / "outputs" / "statistics.json"
        if stats_file.is_file() and stats_file.stat().st_size <= MAX_PARSED_OUTPUT:
            with contextlib.suppress(ValueError, OSError):
                value = json.loads(stats_file.read_bytes())
                statistics = _statistics_from(value) or (value if isinstance(value, dict) else None)
        fmt = "csv-archive" if manifest.content_format == "csv-archive" else "multi-file"
        return RunOutcome(
            "succeeded", "", target, fmt, target.stat().st_size, statistics, exit_code
        )

    def _cleanup(self) -> None:
        if self._stdout_file is not None:
            self._stdout_file.close()
        if self._work.parent.is_dir():
            shutil.rmtree(self._work, ignore_errors=True)
        self._log.close()


def _default_format(job: RunJob) -> str:
    content = job.manifest.content_format
    return content if content in FILE_FORMATS else "json"


def _failed(job: RunJob, error: str, exit_code: int | None) -> RunOutcome:
    return RunOutcome("failed", error, None, _default_format(job), 0, None, exit_code)


async def start_run(job: RunJob) -> Execution:
    """Start ``job``'s app; never raises for app faults (a failed outcome instead)."""
    try:
        job.run_dir.mkdir(parents=True, exist_ok=True)
        log: LogWriter = LogWriter(job.run_dir / "logs.jsonl")
    except OSError as exc:
        # Without a run folder there is no log; the outcome alone carries the reason.
        bare = Execution(job, _NullLog(), job.run_dir / "work")
        bare._outcome = _failed(job, f"cannot create the run folder {job.run_dir}: {exc}", None)
        return bare
    execution = Execution(job, log, job.run_dir / "work")
    try:
        await _in_thread(execution._start)
    except asyncio.CancelledError:
        execution._abandon()
        raise
    except _SetupError as exc:
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


class _NullLog(LogWriter):
    """Stands in when the run folder itself cannot be created."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        return None

    def close(self) -> None:
        return None
