"""The official ``nextmv`` CLI (1.13.0) against the real local service over ``--tls``.

The CLI only speaks HTTPS to endpoints from its config file (reference §6), so this is the
README recipe: HOME with ``.nextmv/config.yaml`` (apikey + host:port, no scheme),
``REQUESTS_CA_BUNDLE`` = the service's self-signed cert, stdin from /dev/null.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import LocalService
from tests.service.helpers import KNAPSACK_INPUT, NAPPER_APP, log_text, wait_status, wait_until

NEXTMV = Path(sys.executable).parent / "nextmv"


@pytest.fixture
def tls_service(make_local_service: Callable[..., LocalService]) -> LocalService:
    return make_local_service(tls=True, app=[NAPPER_APP])


@pytest.fixture
def cli(
    tls_service: LocalService, tmp_path: Path
) -> Callable[..., subprocess.CompletedProcess[str]]:
    home = tmp_path / "home"
    (home / ".nextmv").mkdir(parents=True)
    (home / ".nextmv" / "config.yaml").write_text(
        f"apikey: {tls_service.api_key}\nendpoint: 127.0.0.1:{tls_service.port}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTMV_")}
    env.update(HOME=str(home), REQUESTS_CA_BUNDLE=str(tls_service.cert))

    def run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(NEXTMV), "cloud", "run", *args], cwd=tmp_path, env=env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
        )

    return run


def test_create_with_wait_prints_the_result(
    cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    (tmp_path / "in.json").write_text(json.dumps(KNAPSACK_INPUT, indent=2) + "\n")

    done = cli("create", "-a", "knapsack", "-i", "in.json", "--wait")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["metadata"]["status_v2"] == "succeeded"
    assert result["output"]["solution"]["value"] == 90


def test_cli_auto_creates_an_unknown_app_whose_runs_fail_clearly(
    cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path,
    tls_service: LocalService,
) -> None:
    (tmp_path / "in.json").write_text(json.dumps({"x": 1}))

    done = cli("create", "-a", "no-code-app", "-i", "in.json")

    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    with tls_service.client() as client:
        assert client.get("/v1/applications/no-code-app").status_code == 200
        info = wait_status(client, "no-code-app", run_id)
    assert info["metadata"]["status_v2"] == "failed"
    assert "has no code on this local service" in info["metadata"]["error"]


def test_cancel_and_logs(
    cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path,
    tls_service: LocalService,
) -> None:
    (tmp_path / "in.json").write_text("{}")
    created = cli("create", "-a", "napper", "-i", "in.json", "-o", "duration=30")
    assert created.returncode == 0, created.stderr
    run_id = json.loads(created.stdout)["run_id"]
    with tls_service.client() as client:
        wait_status(client, "napper", run_id, ("running",))
        # wait for a log line so `run logs` has something to show
        wait_until(lambda: "tick 0" in log_text(client, "napper", run_id), what="first tick")

    canceled = cli("cancel", "-a", "napper", "-r", run_id)
    assert canceled.returncode == 0, canceled.stderr
    with tls_service.client() as client:
        assert wait_status(client, "napper", run_id)["metadata"]["status_v2"] == "canceled"

    logs = cli("logs", "-a", "napper", "-r", run_id)
    assert logs.returncode == 0, logs.stderr
    assert "tick 0" in logs.stderr

    again = cli("cancel", "-a", "napper", "-r", run_id)
    assert again.returncode == 1
    assert "is already canceled" in " ".join(again.stderr.split())  # rich wraps lines
