"""Headless commands (queue, submit, cancel) against the REAL local service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nextmv_tui.cli import headless, main
from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.retry import RetryPolicy
from tests.conftest import one_error_line

ITEMS = {
    "items": [{"id": "a", "value": 10, "weight": 5}, {"id": "b", "value": 40, "weight": 4}],
    "weight_capacity": 6,
}


pytestmark = pytest.mark.usefixtures("clean_env")


def write_input(tmp_path: Path, data: object, name: str = "in.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_queue_empty_table_and_json(local_service, use, capsys):
    use(local_service)
    assert main(["queue"]) == 0
    assert capsys.readouterr().out.strip() == "queue is empty"
    assert main(["queue", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"runs": []}


def test_submit_queue_and_cancel(make_local_service, use, capsys, tmp_path: Path):
    service = make_local_service(concurrency=0)
    use(service)
    path = write_input(tmp_path, ITEMS)
    code = main(["submit", str(path), "--app-id", "knapsack", "--name", "from cli",
                 "--option", "duration=3", "--priority", "2"])
    out = capsys.readouterr().out
    assert code == 0
    run_id = out.strip()
    assert run_id and "\n" not in run_id

    assert main(["queue"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["STATUS", "ID", "NAME", "APP", "CLASS", "CREATED"]
    row = next(line for line in table if run_id in line)
    assert row.split()[0] == "queued" and "from cli" in row and "knapsack" in row
    assert table[0].index("ID") == row.index(run_id)  # aligned columns

    assert main(["queue", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["id"] for r in runs] == [run_id]
    assert runs[0]["queuing_priority"] == 2

    assert main(["cancel", run_id, "--app-id", "knapsack"]) == 0
    capsys.readouterr()
    # Cancel is asynchronous on the service: wait (with a deadline) until it is final.
    deadline = time.monotonic() + 30
    while main(["cancel", run_id, "--app-id", "knapsack"]) == 0:
        assert time.monotonic() < deadline, "run never became final after cancel"
    assert "cannot be canceled" in one_error_line(capsys.readouterr().err)


def test_submit_wait_success(local_service, use, capsys, tmp_path: Path):
    use(local_service)
    path = write_input(tmp_path, ITEMS)
    assert main(["submit", str(path), "--app-id", "knapsack", "--wait"]) == 0
    captured = capsys.readouterr()
    run_id, _, output = captured.out.partition("\n")
    assert json.loads(output)["solution"]["value"] == 40  # the output follows the run ID
    summary = captured.err.splitlines()[-1]
    assert summary.startswith(f"{run_id}: succeeded in ") and "(ran " in summary
    assert summary.endswith(", objective 40")


def test_submit_wait_failure_exits_1_with_the_reason(local_service, use, capsys, tmp_path):
    use(local_service)
    path = write_input(tmp_path, {"items": "not a list", "weight_capacity": 1})
    assert main(["submit", str(path), "--app-id", "knapsack", "--wait"]) == 1
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert captured.out.strip() in line and " failed in " in line and "items" in line


def test_no_api_key_is_one_clear_line(capsys):
    assert main(["queue"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "NEXTMV_API_KEY" in line and "--local" in line


def test_bad_input_is_refused_before_any_network(monkeypatch, capsys, tmp_path):
    def no_client(config):  # pragma: no cover - must not be called
        raise AssertionError("a client was built for an invalid input")

    monkeypatch.setattr(headless, "client_factory", no_client)
    monkeypatch.setenv("NEXTMV_API_KEY", "k")
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    assert main(["submit", str(bad), "--app-id", "a"]) == 1
    assert "line 1, column 2" in one_error_line(capsys.readouterr().err)
    assert main(["submit", str(tmp_path / "missing"), "--app-id", "a"]) == 1
    assert "no such file" in one_error_line(capsys.readouterr().err)


def test_unreachable_endpoint_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(
        headless,
        "client_factory",
        lambda config: NextmvClient(config, retry=RetryPolicy(max_attempts=1)),
    )
    monkeypatch.setenv("NEXTMV_API_KEY", "secret-k")
    assert main(["queue", "--endpoint", "http://127.0.0.1:9"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "could not connect to http://127.0.0.1:9" in line and "secret-k" not in line


@pytest.mark.parametrize(
    "argv",
    [
        ["submit", "x.json", "--app-id", "a", "--option", "novalue"],
        ["submit", "x.json", "--app-id", "a", "--priority", "10"],
        ["submit", "x.json"],
        ["cancel", "run-1"],
    ],
)
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_entry_point_in_a_subprocess(local_service, tmp_path: Path):
    env = {**os.environ, "HOME": str(tmp_path), "NEXTMV_ENDPOINT": local_service.endpoint,
           "NEXTMV_API_KEY": local_service.api_key}
    result = subprocess.run(
        [sys.executable, "-m", "nextmv_tui", "queue", "--json"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"runs": []}
    assert local_service.api_key not in result.stdout + result.stderr
