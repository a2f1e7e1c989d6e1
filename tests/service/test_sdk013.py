"""The OLD official SDK, ``nextmv==0.13.1`` (pinned by most community apps), against the real
service: ``run_result``, ``new_run_with_result`` and ``Account.queue()`` validate the v1
``status`` beside ``status_v2`` (issue 11, point 1).

0.13.1 cannot share a virtualenv with 1.13, so the session builds ``.venv-sdk013`` at the
repository root with uv on first use and keeps it (``.gitignore``d): later sessions reuse it.
The package index is needed the first time (CI installs from a fresh clone anyway).
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nextmv_tui.service.appenv import uv_command
from tests.conftest import REPO_ROOT, LocalService
from tests.service.helpers import NAPPER_APP, create_run, wait_status

SDK_VERSION = "0.13.1"
VENV = REPO_ROOT / ".venv-sdk013"
CLIENT = Path(__file__).with_name("sdk013_client.py")


def _installed(python: Path) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", "import nextmv; print(nextmv.__version__)"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    return probe.stdout.strip().lstrip("v") == SDK_VERSION  # 0.13.1 says "v0.13.1"


@pytest.fixture(scope="session")
def sdk013_python() -> Path:
    """``.venv-sdk013/bin/python`` with nextmv 0.13.1, built once and cached."""
    python = VENV / "bin" / "python"
    with (REPO_ROOT / ".venv-sdk013.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two sessions at once build it once
        if not _installed(python):
            uv = uv_command()
            subprocess.run([*uv, "venv", "--clear", "--python", sys.executable, str(VENV)],
                           check=True, capture_output=True, timeout=300)
            done = subprocess.run(
                [*uv, "pip", "install", "--compile-bytecode", "--python", str(python),
                 f"nextmv=={SDK_VERSION}"],
                capture_output=True, text=True, timeout=600, check=False,
            )
            assert done.returncode == 0, f"cannot install nextmv=={SDK_VERSION}:\n{done.stderr}"
    assert _installed(python)
    return python


def old_sdk(python: Path, service: LocalService, mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), str(CLIENT), service.endpoint, service.api_key, mode],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_run_result_and_new_run_with_result(
    sdk013_python: Path, local_service: LocalService
) -> None:
    answers = old_sdk(sdk013_python, local_service, "runs")

    assert answers["run_result"]["status"] == answers["run_result"]["status_v2"] == "succeeded"
    assert answers["run_result"]["value"] == 90
    assert answers["new_run_with_result"] == {"status": "succeeded", "value": 90}
    with local_service.client() as client:  # 0.13.1 sends instance_id=devint: recorded
        meta = client.get(
            f"/v1/applications/knapsack/runs/{answers['run_result']['id']}/metadata"
        ).json()["metadata"]
    assert (meta["application_instance_id"], meta["execution_class"]) == ("devint", "6c9gb")


def test_account_queue_with_running_and_queued_runs(
    sdk013_python: Path, make_local_service: Callable[..., LocalService]
) -> None:
    service = make_local_service(app=[NAPPER_APP], concurrency=1)
    with service.client() as client:
        running = create_run(client, "napper", {"input": {}, "options": {"duration": "60"}})
        wait_status(client, "napper", running, ("running",))
        queued = create_run(client, "napper", {
            "input": {}, "configuration": {"execution_class": "8c16gb12h"}})

        answers = old_sdk(sdk013_python, service, "queue")

        for run_id in (queued, running):
            client.patch(f"/v1/applications/napper/runs/{run_id}/cancel")
    entries = {entry["id"]: entry for entry in answers["runs"]}
    assert entries[running] == {"id": running, "status": "running", "status_v2": "running",
                                "execution_class": "local"}
    assert entries[queued] == {"id": queued, "status": "running", "status_v2": "queued",
                               "execution_class": "8c16gb12h"}
