"""Headless ``runs``, ``logs``, ``output`` and ``submit --wait`` against the REAL local service.

The ``hostile`` test app logs escape sequences (colour, OSC 52 clipboard writes, window
titles), a bidi override and a bare CR, and returns them in its output: none of it may reach
a terminal unless ``--raw`` is given and stdout is not a terminal.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from nextmv_tui.cli import main
from nextmv_tui.service.seeding import seed_history
from nextmv_tui.service.store import Store
from tests.conftest import LocalService, module_service, one_error_line
from tests.service.helpers import (
    APPS,
    KNAPSACK_INPUT,
    MFECHO_APP,
    NAPPER_APP,
    create_run,
    wait_status,
)

pytestmark = [pytest.mark.usefixtures("clean_env"), pytest.mark.xdist_group("cli-runs")]
"""One worker runs the module: it starts the shared ``service`` once."""
HOSTILE_APP = APPS / "hostile"
ESC = "\x1b"


APPS_SERVED = [HOSTILE_APP, NAPPER_APP, MFECHO_APP]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """One service for the module's tests that look only at their own runs (a test that
    lists every run starts its own)."""
    yield from module_service(tmp_path_factory, "cli-runs", app=APPS_SERVED)


def finished_run(service: LocalService, app: str, body: dict, status: str = "succeeded") -> str:
    with service.client() as client:
        run_id = create_run(client, app, body)
        assert wait_status(client, app, run_id)["metadata"]["status_v2"] == status
    return run_id


# --- runs ---------------------------------------------------------------------------------


def test_runs_lists_every_app_newest_first_with_objective(make_local_service, use, capsys):
    service = make_local_service(app=APPS_SERVED)  # its own: the list must hold only these
    use(service)
    old = finished_run(service, "knapsack", {"input": KNAPSACK_INPUT, "name": "first"})
    bad = finished_run(service, "napper", {"input": {}, "options": {"duration": "x"}}, "failed")
    new = finished_run(service, "hostile", {"input": {}, "name": f"{ESC}]52;c;aGk=\x07n{ESC}[1m"})

    assert main(["runs"]) == 0
    table = capsys.readouterr().out
    assert ESC not in table and "\x07" not in table
    lines = table.splitlines()
    assert lines[0].split() == ["STATUS", "ID", "NAME", "APP", "CREATED", "DURATION",
                                "OBJECTIVE"]
    assert [line.split()[1] for line in lines[1:]] == [new, bad, old]
    assert lines[3].split()[0] == "succeeded" and lines[3].split()[-1] == "90"
    assert lines[2].split()[0] == "failed" and lines[2].split()[-1] == "-"

    assert main(["runs", "--json", "--status", "succeeded"]) == 0
    out = capsys.readouterr().out
    assert ESC not in out  # JSON escapes it: "\u001b"
    runs = json.loads(out)["runs"]
    assert [run["id"] for run in runs] == [new, old]
    assert runs[0]["name"].startswith(ESC + "]52")  # the data itself is intact
    assert runs[1]["statistics"]["indicators"][0] == {"name": "result.value", "value": 90}


def test_runs_filters_by_app_status_age_and_count(
    make_local_service: Callable[..., LocalService], use, capsys
):
    service = make_local_service(start=False)
    store = Store(service.data_dir / "runs.db")
    now = time.time()
    seeded = seed_history(store, ["alpha", "beta"], 400, now=now, span=4 * 3600)
    store.close()
    service.start()
    use(service)

    def expect(app: str | None, status: str | None, hours: float) -> list[str]:
        return [
            run.id for run in reversed(seeded)
            if (app is None or run.app_id == app) and (status is None or run.status == status)
            and run.created_at >= now - hours * 3600 - 5
        ]

    assert main(["runs", "--app", "alpha", "--since", "1h", "--json", "--limit", "1000"]) == 0
    got = [run["id"] for run in json.loads(capsys.readouterr().out)["runs"]]
    assert got == expect("alpha", None, 1) and len(got) > 30
    assert main(["runs", "--status", "failed", "--json", "--limit", "1000"]) == 0
    got = [run["id"] for run in json.loads(capsys.readouterr().out)["runs"]]
    assert got == expect(None, "failed", 24) and got
    assert main(["runs", "--since", "24h", "--limit", "7", "--json"]) == 0
    assert [run["id"] for run in json.loads(capsys.readouterr().out)["runs"]] == expect(
        None, None, 24)[:7]
    assert main(["runs", "--app", "beta", "--status", "queued"]) == 0
    assert capsys.readouterr().out.strip() == "no queued runs created in the last 1d"


def test_runs_errors_are_one_line(service, use, capsys):
    use(service)
    assert main(["runs", "--app", "no-such-app"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "no-such-app" in line and "404" in line
    for argv in (["runs", "--since", "yesterday"], ["runs", "--status", "RUNNING"],
                 ["runs", "--limit", "0"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2


# --- logs ---------------------------------------------------------------------------------


def test_logs_are_sanitized_unless_raw_and_not_a_terminal(service, use, capsys, monkeypatch):
    use(service)
    run_id = finished_run(service, "hostile", {"input": {}})

    assert main(["logs", run_id, "--app-id", "hostile"]) == 0
    clean = capsys.readouterr().out
    assert ESC not in clean and "\x07" not in clean and "\u202e" not in clean
    assert "\r" not in clean
    assert clean.splitlines()[:6] == [
        "plain line", "red text", "␛]52;c;aGVsbG8=␇clipboard", "␛]0;pwned␇title",
        "bidi \\u202eevil", "cr␍overwrite",
    ]  # the one rule of cloud/text.py, as in the monitor: colours dropped, the rest visible

    assert main(["logs", run_id, "--app-id", "hostile", "--raw"]) == 0  # stdout: a pipe
    assert "\x1b]52;c;aGVsbG8=\x07clipboard" in capsys.readouterr().out

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["logs", run_id, "--app-id", "hostile", "--raw"]) == 0
    captured = capsys.readouterr()
    assert ESC not in captured.out and "--raw ignored: stdout is a terminal" in captured.err


def test_logs_follow_prints_lines_as_they_come_and_stops_when_final(service, use, capsys):
    use(service)
    with service.client() as client:
        run_id = create_run(client, "hostile", {"input": {}, "options": {"duration": "2"}})

    started = time.monotonic()
    assert main(["logs", run_id, "--app-id", "hostile", "--follow"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "plain line" and ESC not in captured.out
    ticks = [line for line in lines if line.startswith("tick ")]
    assert ticks == [f"tick {i}" for i in range(len(ticks))] and len(ticks) >= 5
    assert captured.err.strip().endswith(f"{run_id}: succeeded")
    assert time.monotonic() - started >= 2.0  # it followed the run to its end


def test_logs_of_an_unknown_run_is_one_line(service, use, capsys):
    use(service)
    assert main(["logs", "run-nope", "--app-id", "hostile", "--follow"]) == 1
    assert "404" in one_error_line(capsys.readouterr().err)


# --- output -------------------------------------------------------------------------------


def test_output_json_to_stdout_escaped_and_to_a_file(service, use, capsys, tmp_path: Path):
    use(service)
    run_id = finished_run(service, "hostile", {"input": {"k": "v"}})

    assert main(["output", run_id, "--app-id", "hostile"]) == 0
    out = capsys.readouterr().out
    assert ESC not in out and "\u202e" not in out
    assert json.loads(out)["title"] == "\x1b]0;pwned\x07\u202e"  # escaped, not lost
    target = tmp_path / "out.json"
    assert main(["output", run_id, "--app-id", "hostile", "-o", str(target)]) == 0
    assert json.loads(target.read_text())["echo"] == {"k": "v"}
    assert str(target) in capsys.readouterr().err


def test_output_multi_file_needs_o_and_failed_runs_have_none(service, use, capsys, tmp_path):
    use(service)
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text("abc\n")
    with service.client() as client:
        upload = client.post("/v1/applications/mfecho/runs/uploadurl").json()
    archive = tmp_path / "in.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(inputs / "a.txt", arcname="a.txt")
    assert httpx.put(upload["upload_url"], content=archive.read_bytes()).status_code == 200
    multi = finished_run(service, "mfecho", {"upload_id": upload["upload_id"], "configuration": {
        "format": {"input": {"type": "multi-file"}, "output": {"type": "multi-file"}}}})

    assert main(["output", multi, "--app-id", "mfecho"]) == 1
    assert "save it with -o FILE" in one_error_line(capsys.readouterr().err)
    assert main(["output", multi, "--app-id", "mfecho", "-o", str(tmp_path)]) == 0
    saved = tmp_path / f"{multi}-output.tar.gz"
    with tarfile.open(saved) as tar:
        assert "summary.json" in tar.getnames()

    failed = finished_run(service, "napper", {"input": {}, "options": {"duration": "x"}},
                          "failed")
    assert main(["output", failed, "--app-id", "napper"]) == 1
    assert "no output: its status is failed" in one_error_line(capsys.readouterr().err)


# --- submit --wait ------------------------------------------------------------------------


def test_submit_wait_returns_promptly_with_summary_and_output(service, use, capsys, tmp_path):
    use(service)
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"n": 1}))

    code = main(["submit", str(path), "--app-id", "napper", "--option", "duration=3", "--wait"])
    returned = datetime.now(timezone.utc)

    captured = capsys.readouterr()
    assert code == 0, captured.err
    run_id, _, output = captured.out.partition("\n")
    assert json.loads(output)["echo"] == {"n": 1}
    summary = captured.err.splitlines()[-1]
    assert summary.startswith(f"{run_id}: succeeded in ") and "objective" in summary
    with service.client() as client:
        meta = wait_status(client, "napper", run_id)["metadata"]
    ended = datetime.fromisoformat(meta["status_changed_at"].replace("Z", "+00:00"))
    # The SDK's schedule is up to ~4 s late for a 3 s run; ours about 1 s.
    assert (returned - ended).total_seconds() < 2.0


def test_submit_wait_saves_non_json_output_and_says_where(service, use, capsys, tmp_path,
                                                          monkeypatch):
    use(service)
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text("abc\n")
    monkeypatch.chdir(tmp_path)

    assert main(["submit", str(inputs), "--app-id", "mfecho", "--wait"]) == 0
    captured = capsys.readouterr()
    run_id = captured.out.strip()
    saved = tmp_path / f"{run_id}-output.tar.gz"
    assert saved.exists() and f"output saved to {saved}" in captured.err

    target = tmp_path / "knap.json"
    path = tmp_path / "k.json"
    path.write_text(json.dumps(KNAPSACK_INPUT))
    assert main(["submit", str(path), "--app-id", "knapsack", "--wait", "-o", str(target)]) == 0
    assert json.loads(target.read_text())["solution"]["value"] == 90
    assert main(["submit", str(path), "--app-id", "knapsack", "-o", str(target)]) == 1
    assert "--output needs --wait" in one_error_line(capsys.readouterr().err)


# --- the monitor's --history --------------------------------------------------------------


def test_monitor_history_option_is_parsed_and_refused_clearly(capsys):
    from nextmv_tui.cli import _monitor_parser
    from nextmv_tui.cloud.history import HistoryOptions

    parser = _monitor_parser()
    assert parser.parse_args(["--history", "7d:500"]).history == HistoryOptions(
        max_age=7 * 86400, max_runs=500)
    assert not parser.parse_args(["--history", "off"]).history.enabled
    assert parser.parse_args([]).history is None  # the monitor's default: HistoryOptions()
    with pytest.raises(SystemExit) as info:
        main(["--history", "yesterday"])
    assert info.value.code == 2
    assert "'yesterday' is not an age" in capsys.readouterr().err


def test_a_reader_that_leaves_early_gets_no_traceback(
    make_local_service: Callable[..., LocalService], tmp_path: Path
):
    service = make_local_service(start=False)
    store = Store(service.data_dir / "runs.db")
    seed_history(store, ["alpha"], 600, span=3600)  # ~600 KB of JSON: more than a pipe holds
    store.close()
    service.start()
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "NEXTMV_ENDPOINT": service.endpoint,
           "NEXTMV_API_KEY": service.api_key}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nextmv_tui", "runs", "--json", "--limit", "600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100).startswith(b"{")
    proc.stdout.close()  # like `| head -c 100`
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert b"Traceback" not in err
