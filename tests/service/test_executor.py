"""The executor runs real apps (bundled ones and small test apps in tests/service/apps)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import shutil
import stat
import subprocess
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest

from nextmv_tui.service.executor import Execution, RunJob, RunOutcome, start_run, stop_stale_run
from nextmv_tui.service.manifest import AppManifest, bundled_app_dir, load_manifest
from tests.service.helpers import until as wait_until

TEST_APPS = Path(__file__).parent / "apps"


def alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:  # pragma: no cover - no /proc
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return data[data.rfind(b")") + 2 :].split()[0] != b"Z"


def log_lines(run_dir: Path) -> list[str]:
    path = run_dir / "logs.jsonl"
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(line)["log"] for line in text.splitlines() if line.endswith("}")]


def child_pid(run_dir: Path) -> int | None:
    for line in log_lines(run_dir):
        if line.startswith("pids "):
            return int(line.split()[1])
    return None


def make_job(
    tmp_path: Path,
    manifest: AppManifest,
    payload: bytes | str | Path,
    *,
    input_format: str = "json",
    options: dict[str, str] | None = None,
    max_duration: float | None = None,
    execution_class: str | None = None,
) -> RunJob:
    # A run ID of its own: processes are marked with it, and a stale-run cleanup kills every
    # process carrying its run's marker, so "run-1" in every test let one test's cleanup kill
    # another's app when xdist ran them side by side.
    run_id = f"run-{tmp_path.name[-40:]}-{secrets.token_hex(4)}"
    run_dir = tmp_path / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(payload, Path):
        input_path = payload
    else:
        input_path = run_dir / ("input.json" if input_format == "json" else "input")
        data = payload.encode() if isinstance(payload, str) else payload
        input_path.write_bytes(data)
    return RunJob(
        run_id=run_id,
        manifest=manifest,
        input_path=input_path,
        input_format=input_format,
        options=options or {},
        run_dir=run_dir,
        max_duration=max_duration,
        execution_class=execution_class,
    )


def output_of(outcome: RunOutcome) -> Path:
    assert outcome.output_path is not None, outcome.error
    return outcome.output_path


async def run(job: RunJob) -> RunOutcome:
    execution = await start_run(job)
    return await execution.wait()


@pytest.fixture
def knapsack() -> AppManifest:
    return load_manifest(bundled_app_dir("knapsack"))


def helper_app(name: str) -> AppManifest:
    return load_manifest(TEST_APPS / name)


async def test_json_run_succeeds_with_output_statistics_and_logs(tmp_path, knapsack):
    sample = (bundled_app_dir("knapsack") / "input.json").read_text()
    job = make_job(tmp_path, knapsack, sample, options={"duration": "20"})
    outcome = await run(job)

    assert outcome.status == "succeeded", outcome.error
    assert outcome.error == "" and outcome.exit_code == 0
    assert outcome.output_format == "json"
    assert outcome.output_path == job.run_dir / "output.json"
    output = json.loads(output_of(outcome).read_text())
    assert outcome.output_size == output_of(outcome).stat().st_size
    assert output["solution"]["value"] == sum(i["value"] for i in output["solution"]["items"])
    assert outcome.statistics == output["statistics"]
    assert output["statistics"]["result"]["value"] == output["solution"]["value"]
    assert (job.run_dir / "stdout").read_bytes() == output_of(outcome).read_bytes()
    records = [json.loads(line) for line in (job.run_dir / "logs.jsonl").read_text().splitlines()]
    assert records and all(r["timestamp"].endswith("Z") for r in records)
    assert any("optimal value" in r["log"] for r in records)
    assert not (job.run_dir / "work").exists()


async def test_invalid_input_fails_with_the_apps_one_line_reason(tmp_path, knapsack):
    outcome = await run(make_job(tmp_path, knapsack, '{"items": 3, "weight_capacity": 5}'))
    assert outcome.status == "failed"
    assert outcome.error == "invalid input: 'items' must be a list"
    assert outcome.exit_code == 1
    assert outcome.output_path is None and outcome.statistics is None


async def test_silent_nonzero_exit_reports_the_exit_code(tmp_path):
    outcome = await run(make_job(tmp_path, helper_app("texty"), "exit 3", input_format="text"))
    assert outcome.status == "failed"
    assert outcome.error == "exit code 3"
    assert outcome.exit_code == 3


async def test_only_requested_options_are_passed_in_order(tmp_path):
    strict = helper_app("strict")
    outcome = await run(make_job(tmp_path, strict, "{}", options={"seed": "4", "duration": "2"}))
    assert outcome.status == "succeeded", outcome.error
    assert json.loads(output_of(outcome).read_text())["argv"] == ["-seed", "4", "-duration", "2"]

    outcome = await run(make_job(tmp_path / "b", strict, "{}"))
    assert outcome.status == "succeeded", outcome.error
    assert json.loads(output_of(outcome).read_text())["argv"] == []


async def test_old_style_app_rejects_an_option_it_does_not_declare(tmp_path):
    """Why only requested options are passed: such an app exits 2 on any unknown flag."""
    outcome = await run(make_job(tmp_path, helper_app("strict"), "{}", options={"unknown": "3"}))
    assert outcome.status == "failed"
    assert outcome.exit_code == 2
    assert "unrecognized arguments: -unknown 3" in outcome.error


async def test_text_format_output_is_saved_as_text(tmp_path):
    job = make_job(tmp_path, helper_app("texty"), "hello\nworld\n", input_format="text")
    outcome = await run(job)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output_format == "text"
    assert output_of(outcome).name == "output.txt"
    assert output_of(outcome).read_text() == "HELLO\nWORLD\n"
    assert outcome.statistics is None


def make_archive(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


async def test_multi_file_app_gets_files_and_its_output_is_a_tarball(tmp_path):
    manifest = helper_app("multifile")
    assert manifest.input_path == "data/in/" and manifest.solutions_path == "data/out/"
    archive = make_archive(tmp_path / "input.tar.gz", {"a.txt": b"alpha", "sub/b.txt": b"beta"})
    job = make_job(tmp_path, manifest, archive, input_format="multi-file")
    outcome = await run(job)

    assert outcome.status == "succeeded", outcome.error
    assert outcome.output_format == "multi-file"
    assert outcome.output_path == job.run_dir / "output.tar.gz"
    contents = {}
    with tarfile.open(output_of(outcome), "r:gz") as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            if handle is not None:
                contents[member.name] = handle.read()
    assert contents == {"a.txt": b"ALPHA", "sub/b.txt": b"BETA"}
    assert outcome.statistics == {"result": {"value": 2}}
    lines = log_lines(job.run_dir)
    assert "converted sub/b.txt" in lines  # stdout of a multi-file app is logged
    assert "multifile: 2 files" in lines


async def test_multi_file_input_escaping_the_input_folder_is_refused(tmp_path):
    archive = make_archive(tmp_path / "evil.tar.gz", {"../../evil.txt": b"x"})
    job = make_job(tmp_path, helper_app("multifile"), archive, input_format="multi-file")
    outcome = await run(job)
    assert outcome.status == "failed"
    assert "escapes the input folder" in outcome.error
    assert not (tmp_path / "runs" / "evil.txt").exists()
    assert outcome.error in log_lines(job.run_dir)


async def test_logs_appear_while_the_run_is_running(tmp_path):
    job = make_job(tmp_path, helper_app("sleeper"), "")
    execution = await start_run(job)
    waiter = asyncio.ensure_future(execution.wait())
    try:
        await wait_until(lambda: "started" in log_lines(job.run_dir))
        assert not waiter.done()
    finally:
        await execution.cancel(grace=1.0)
    assert (await waiter).status == "canceled"


async def test_cancel_stops_the_whole_process_group(tmp_path):
    job = make_job(tmp_path, helper_app("sleeper"), "")
    execution = await start_run(job)
    await wait_until(lambda: child_pid(job.run_dir) is not None)
    grandchild = child_pid(job.run_dir)
    assert grandchild is not None and alive(execution.pid) and alive(grandchild)

    await execution.cancel(grace=2.0)
    assert not alive(execution.pid)
    assert not alive(grandchild)
    outcome = await execution.wait()
    assert outcome.status == "canceled"
    assert outcome.output_path is None


async def test_cancel_kills_processes_that_ignore_sigterm(tmp_path):
    job = make_job(tmp_path, helper_app("sleeper"), "", options={"ignore_term": "1"})
    execution = await start_run(job)
    await wait_until(lambda: "started" in log_lines(job.run_dir))
    grandchild = child_pid(job.run_dir)
    assert grandchild is not None

    await execution.cancel(grace=0.3)
    assert not alive(execution.pid) and not alive(grandchild)
    outcome = await execution.wait()
    assert outcome.status == "canceled"
    assert outcome.exit_code == -9


async def test_max_duration_overrun_fails_and_leaves_no_process(tmp_path):
    job = make_job(tmp_path, helper_app("sleeper"), "", max_duration=0.5, execution_class="default")
    execution = await start_run(job)
    outcome = await execution.wait()
    assert outcome.status == "failed"
    assert outcome.error == (
        "exceeded the maximum run duration of 0.5 s for execution class default"
    )
    grandchild = child_pid(job.run_dir)
    assert grandchild is not None
    assert not alive(execution.pid) and not alive(grandchild)


async def test_background_child_left_by_a_finished_app_is_reaped(tmp_path):
    """The child still holds the stderr pipe: wait() must not hang and the child must go."""
    job = make_job(tmp_path, helper_app("sleeper"), "", options={"exit_after_spawn": "1"})
    execution = await start_run(job)
    outcome = await execution.wait()
    assert outcome.status == "succeeded", outcome.error
    left = json.loads(output_of(outcome).read_text())["child"]
    assert not alive(left)


async def test_cancel_after_the_run_finished_changes_nothing(tmp_path, knapsack):
    execution = await start_run(make_job(tmp_path, knapsack, '{"items": [], "weight_capacity": 1}'))
    outcome = await execution.wait()
    await execution.cancel()
    assert outcome.status == "succeeded"
    assert (await execution.wait()) == outcome


async def test_missing_app_files_fail_the_run_clearly(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(bundled_app_dir("knapsack"), app)
    manifest = load_manifest(app)
    (app / "main.py").unlink()
    execution = await start_run(make_job(tmp_path, manifest, "{}"))
    assert execution.pid == 0
    outcome = await execution.wait()
    assert outcome.status == "failed"
    assert outcome.error.startswith("app files missing:")
    assert "main.py" in outcome.error


async def test_missing_input_file_fails_the_run_clearly(tmp_path, knapsack):
    job = make_job(tmp_path, knapsack, tmp_path / "nowhere.json")
    outcome = await run(job)
    assert outcome.status == "failed"
    assert outcome.error.startswith("input file missing:")


def write_binary_app(folder: Path, script: str, executable: bool = True) -> AppManifest:
    folder.mkdir()
    (folder / "app.yaml").write_text("type: binary\nfiles: [main]\n")
    main = folder / "main"
    main.write_text(script)
    if executable:
        main.chmod(main.stat().st_mode | stat.S_IXUSR)
    return load_manifest(folder)


async def test_binary_app_runs_its_main_directly(tmp_path):
    manifest = write_binary_app(
        tmp_path / "bin",
        '#!/bin/sh\necho "args: $*" >&2\n'
        'printf \'{"echo": %s, "statistics": {"n": 1}}\' "$(cat)"\n',
    )
    job = make_job(tmp_path, manifest, '{"x": 1}', options={"a": "1"})
    outcome = await run(job)
    assert outcome.status == "succeeded", outcome.error
    assert json.loads(output_of(outcome).read_text())["echo"] == {"x": 1}
    assert outcome.statistics == {"n": 1}
    assert "args: -a 1" in log_lines(job.run_dir)


async def test_app_that_cannot_be_started_fails_clearly(tmp_path):
    manifest = write_binary_app(tmp_path / "bin", "#!/bin/sh\n", executable=False)
    outcome = await run(make_job(tmp_path, manifest, "{}"))
    assert outcome.status == "failed"
    assert outcome.error.startswith("cannot start the app")


async def test_routing_runs_for_the_requested_duration(tmp_path):
    manifest = load_manifest(bundled_app_dir("routing"))
    sample = (bundled_app_dir("routing") / "input.json").read_text()
    outcome = await run(make_job(tmp_path, manifest, sample, options={"duration": "1"}))
    assert outcome.status == "succeeded", outcome.error
    assert outcome.statistics is not None
    points = outcome.statistics["series_data"]["value"]["data_points"]
    assert points and points[-1]["y"] == outcome.statistics["result"]["value"]


async def test_concurrent_waiters_get_the_same_outcome(tmp_path, knapsack):
    execution: Execution = await start_run(make_job(tmp_path, knapsack, "not json"))
    first, second = await asyncio.gather(execution.wait(), execution.wait())
    assert first == second and first.status == "failed"
    assert first.error.startswith("invalid input: not valid JSON")


async def test_long_log_lines_are_split_and_nothing_is_lost(tmp_path):
    manifest = write_binary_app(
        tmp_path / "bin",
        "#!/bin/sh\nhead -c 150000 /dev/zero | tr '\\0' x >&2\nprintf '\\nend\\n' >&2\n"
        "echo '{}'\n",
    )
    job = make_job(tmp_path, manifest, "{}")
    outcome = await run(job)
    assert outcome.status == "succeeded", outcome.error
    lines = log_lines(job.run_dir)
    assert lines[-1] == "end"
    pieces = lines[:-1]
    assert all(len(p) <= 64 * 1024 for p in pieces)
    assert "".join(pieces) == "x" * 150000


async def test_stale_run_of_a_crashed_service_is_stopped_and_cleaned(tmp_path):
    job = make_job(tmp_path, helper_app("sleeper"), "")
    execution = await start_run(job)
    await wait_until(lambda: "started" in log_lines(job.run_dir))
    grandchild = child_pid(job.run_dir)
    assert grandchild is not None

    # A folder the group does not work in is not enough to kill it (pid reuse guard).
    assert not await asyncio.to_thread(stop_stale_run, tmp_path / "elsewhere", execution.pid)
    assert alive(execution.pid)

    assert await asyncio.to_thread(stop_stale_run, job.run_dir, execution.pid)
    assert not alive(execution.pid) and not alive(grandchild)
    outcome = await execution.wait()
    assert outcome.status == "failed"
    assert outcome.error == "terminated by signal SIGKILL"
    assert not (job.run_dir / "work").exists()


async def test_cancelled_start_leaves_no_process(tmp_path, monkeypatch):
    """Popen is wrapped only to pause right after the spawn, so the start can be cancelled in
    that window (the real process is still started and must be killed)."""
    spawned, proceed = threading.Event(), threading.Event()
    pids: list[int] = []
    real_popen = subprocess.Popen

    def paused_popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = real_popen(*args, **kwargs)
        pids.append(proc.pid)
        spawned.set()
        proceed.wait(10)
        return proc

    monkeypatch.setattr(subprocess, "Popen", paused_popen)
    task = asyncio.ensure_future(start_run(make_job(tmp_path, helper_app("sleeper"), "")))
    await wait_until(spawned.is_set)
    task.cancel()
    proceed.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: not alive(pids[0]))


def test_file_outputs_take_statistics_and_metrics_where_the_manifest_says(tmp_path):
    """multi-file: the manifest's statistics/metrics paths first; csv-archive: output/ and
    the stdout JSON; a missing output folder gives an empty archive and a log note."""
    from nextmv_tui.service.staging import collect_files

    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text("")
    (app / "app.yaml").write_text(
        "type: python\nfiles: [main.py]\nconfiguration:\n  content:\n    format: multi-file\n"
        "    multi-file:\n      output:\n        statistics: o/s.json\n        metrics: o/m.json\n"
    )
    manifest = load_manifest(app)
    work, run_dir = tmp_path / "work", tmp_path / "run"
    (work / "o").mkdir(parents=True)
    run_dir.mkdir()
    (work / "o" / "s.json").write_text('{"statistics": {"run": {"n": 2}}}')
    (work / "o" / "m.json").write_text('{"total": 2}')
    (work / "outputs" / "solutions").mkdir(parents=True)
    (work / "outputs" / "solutions" / "a.txt").write_text("a")

    out = collect_files(manifest, work, run_dir, "multi-file")
    assert (out.statistics, out.metrics, out.note) == ({"run": {"n": 2}}, {"total": 2}, None)
    with tarfile.open(out.path) as tar:
        assert tar.getnames() == ["a.txt"]

    (run_dir / "stdout").write_text('{"statistics": {"result": {"value": 3}}}')
    csv = collect_files(manifest, work, run_dir, "csv-archive")
    assert csv.format == "csv-archive" and csv.statistics == {"run": {"n": 2}}
    assert csv.note == "note: the app wrote no output/ folder, so its csv-archive output is empty"


async def test_a_run_canceled_while_its_environment_builds_never_starts(tmp_path, knapsack):
    """Building an app's environment can take minutes: a cancel meanwhile means no app."""
    import dataclasses

    from nextmv_tui.service.appenv import Environments

    entered, release, canceled = threading.Event(), threading.Event(), threading.Event()

    class SlowEnvironments(Environments):
        def prepare(self, manifest):
            entered.set()
            release.wait(30)
            return None

    sample = (bundled_app_dir("knapsack") / "input.json").read_text()
    job = dataclasses.replace(
        make_job(tmp_path, knapsack, sample),
        environments=SlowEnvironments(tmp_path / "envs"), canceled=canceled,
    )
    starting = asyncio.ensure_future(start_run(job))
    await wait_until(entered.is_set)
    canceled.set()
    release.set()
    execution = await starting
    outcome = await execution.wait()

    assert execution.pid == 0
    assert (outcome.status, outcome.error) == ("failed", "run canceled before its app started")
    assert not (job.run_dir / "stdout").exists()
