"""Private by default (issue 10): the data dir is its owner's alone whatever the umask, the key
can come from a file or the environment instead of ``ps``-visible argv, and apps get an
allowlisted environment, never the service's secrets.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from nextmv_tui.service.environment import ALLOWED, RUN_ID_VARIABLE, app_environment
from tests.conftest import REPO_ROOT, LocalService
from tests.service.helpers import ENVDUMP_APP, KNAPSACK_INPUT, create_run, wait_status

SECRET = "sk-this-must-never-reach-an-app"


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.lstat().st_mode)
        for path in [root, *root.rglob("*")]
    }


def test_data_dir_is_private_whatever_the_umask(
    make_local_service: Callable[..., LocalService],
) -> None:
    with umask(0o022):
        service = make_local_service(app=[ENVDUMP_APP])
    with service.client() as client:
        done = create_run(client, "knapsack", {"input": KNAPSACK_INPUT})
        upload = client.post("/v1/applications/knapsack/runs/uploadurl").json()
        assert httpx.put(upload["upload_url"], content=b'{"items": [], "weight_capacity": 1}'
                         ).status_code == 200
        uploaded = create_run(client, "knapsack", {"upload_id": upload["upload_id"]})
        dumped = create_run(client, "envdump", {"input": {}})
        for app, run_id in (("knapsack", done), ("knapsack", uploaded), ("envdump", dumped)):
            assert wait_status(client, app, run_id)["metadata"]["status_v2"] == "succeeded"
        output = client.get(f"/v1/applications/envdump/runs/{dumped}/output").json()
    assert output["umask"] == "0o77"  # what the app itself creates is private too
    modes = _modes(service.data_dir)
    assert "runs.db-wal" in modes and f"runs/{done}/logs.jsonl" in modes
    loose = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (service.data_dir / name).is_dir() else 0o600)}
    assert not loose, loose


def test_an_older_data_dir_is_tightened_at_start(
    make_local_service: Callable[..., LocalService],
) -> None:
    service = make_local_service()
    service.stop()
    os.chmod(service.data_dir, 0o755)
    os.chmod(service.data_dir / "runs.db", 0o644)
    os.chmod(service.data_dir / "runs", 0o755)
    service.start()
    assert stat.S_IMODE(service.data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((service.data_dir / "runs.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((service.data_dir / "runs").stat().st_mode) == 0o700


def test_apps_get_an_allowlisted_environment(
    make_local_service: Callable[..., LocalService], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXTMV_API_KEY", SECRET)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("GRB_LICENSE_FILE", "/opt/gurobi/gurobi.lic")
    service = make_local_service(app=[ENVDUMP_APP], app_env=["GRB_LICENSE_FILE", "SEED=7"])
    with service.client() as client:
        run_id = create_run(client, "envdump", {"input": {}})
        wait_status(client, "envdump", run_id)
        env = client.get(f"/v1/applications/envdump/runs/{run_id}/output").json()["env"]
    assert SECRET not in str(env)
    assert env[RUN_ID_VARIABLE] == run_id
    assert env["GRB_LICENSE_FILE"] == "/opt/gurobi/gurobi.lic" and env["SEED"] == "7"
    assert env["LC_ALL"] == "C.UTF-8" and env["TZ"] == "UTC"
    extra = {"PYTHONUNBUFFERED", "PYTHONIOENCODING", RUN_ID_VARIABLE, "GRB_LICENSE_FILE", "SEED",
             "LC_CTYPE"}  # Python itself may set LC_CTYPE (PEP 538)
    unexpected = {k for k in env if k not in ALLOWED and not k.startswith("LC_")} - extra
    assert not unexpected, unexpected


def test_app_environment_marker_cannot_be_overridden() -> None:
    env = app_environment("run-a", {RUN_ID_VARIABLE: "run-b"}, environ={"SECRET": "x"})
    assert env[RUN_ID_VARIABLE] == "run-a" and "SECRET" not in env
    assert env["PATH"]


# --- the key: file and environment, not argv ---------------------------------------------


class KeyFileService(LocalService):
    """``serve --api-key-file FILE`` (or the key in ``NEXTMV_TUI_API_KEY``): no key in argv."""

    key_file: Path | None = None

    def argv(self) -> list[str]:
        argv = super().argv()
        at = argv.index("--api-key")
        del argv[at : at + 2]
        if self.key_file is not None:
            argv += ["--api-key-file", str(self.key_file)]
        return argv


def _key_service(tmp_path: Path, key_file: Path | None) -> KeyFileService:
    service = KeyFileService(tmp_path / "data", tmp_path / "service.log")
    service.key_file = key_file
    return service


def test_serve_reads_its_key_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    service = _key_service(tmp_path, key_file)
    key_file.write_text(service.api_key + "\n")
    service.start()
    try:
        assert service.api_key not in " ".join(service.argv())
        with service.client() as client:
            assert client.get("/v1/account/queue").status_code == 200
        assert f"API key: in {key_file}" in service.log()
        assert service.api_key not in service.log()
    finally:
        service.stop()


def test_serve_reads_its_key_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _key_service(tmp_path, None)
    monkeypatch.setenv("NEXTMV_TUI_API_KEY", service.api_key)
    service.start()
    try:
        with service.client() as client:
            assert client.get("/v1/account/queue").status_code == 200
        assert "given with NEXTMV_TUI_API_KEY" in service.log()
    finally:
        service.stop()


def test_api_key_flag_warns_that_ps_shows_it(local_service: LocalService) -> None:
    log = local_service.log()
    assert "warning: --api-key puts the key on the command line" in log
    assert local_service.api_key not in log


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTMV_")}
    return subprocess.run(
        [sys.executable, "-m", "nextmv_tui", *args], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_client_commands_take_a_key_file(local_service: LocalService, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(local_service.api_key)
    done = _cli("queue", "--endpoint", local_service.endpoint, "--api-key-file", str(key_file))
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr

    done = _cli("queue", "--endpoint", local_service.endpoint, "--api-key", local_service.api_key)
    assert done.returncode == 0, done.stderr
    assert "ps" in done.stderr and local_service.api_key not in done.stderr + done.stdout

    missing = tmp_path / "missing"
    done = _cli("queue", "--endpoint", local_service.endpoint, "--api-key-file", str(missing))
    assert done.returncode == 1
    assert f"API key file {missing} does not exist" in done.stderr

    done = _cli("--endpoint", local_service.endpoint, "--api-key-file", str(missing))
    assert done.returncode == 1  # the monitor refuses before taking the terminal
    assert f"API key file {missing} does not exist" in done.stderr
