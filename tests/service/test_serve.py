"""``nextmv-tui serve`` as a user runs it, the launcher used by ``--local``, and the TLS cert."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from nextmv_tui.service import launcher, tls
from nextmv_tui.service.settings import EXIT_PORT_UNAVAILABLE
from tests.conftest import REPO_ROOT, LocalService, free_port
from tests.service.helpers import wait_until


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nextmv_tui", "serve", *args], cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_serve_prints_endpoint_and_key_location_never_the_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = _serve("--port", "0", "--data-dir", str(data_dir))
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        second = proc.stdout.readline()
        endpoint = first.rsplit(" ", 1)[-1].strip()
        assert endpoint.startswith("http://127.0.0.1:")
        key_file = data_dir / "api_key"
        assert str(key_file) in second
        key = key_file.read_text().strip()
        assert key and key not in first + second
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        info = json.loads((data_dir / "service.json").read_text())
        assert info["endpoint"] == endpoint
        assert info["pid"] == proc.pid
        ok = httpx.get(endpoint + "/v1/account/queue", headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200

        second_service = _serve("--port", "0", "--data-dir", str(data_dir))
        _, err = second_service.communicate(timeout=30)
        assert second_service.returncode == 1
        assert "already using" in err
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert key not in rest
    assert not (data_dir / "service.json").exists()
    # the generated key is kept for the next start
    assert (data_dir / "api_key").read_text().strip() == key


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--app", "/nonexistent-dir"], "no such directory"),
        (["--app", "/tmp"], "no app.yaml"),
        (["--concurrency", "-1"], "--concurrency"),
        (["--port", "70000"], "--port"),
        (["--execution-class", "gpu"], "NAME=N"),
        (["--execution-class", "gpu=x"], "integer"),
        (["--execution-class-map", "8c*=nope"], "no execution class 'nope'; known: local"),
        (["--execution-class-map", "8c*"], "PATTERN=CLASS"),
        (["--max-duration", "-1"], "--max-duration"),
    ],
)
def test_serve_refuses_bad_arguments(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = _serve("--data-dir", str(tmp_path), *args)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert needle in err


def test_serve_refuses_a_broken_app_folder(tmp_path: Path) -> None:
    app = tmp_path / "broken"
    app.mkdir()
    (app / "app.yaml").write_text("type: cobol\nfiles: [main.py]\n")
    proc = _serve("--port", "0", "--data-dir", str(tmp_path / "d"), "--app", str(app))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "app.yaml" in err and "type" in err


def test_port_in_use_is_a_clear_error(local_service: LocalService, tmp_path: Path) -> None:
    proc = _serve("--port", str(local_service.port), "--data-dir", str(tmp_path / "other"))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_PORT_UNAVAILABLE, "its own code: the launcher tries any port"
    assert str(local_service.port) in err


def test_launcher_starts_reuses_and_stops(tmp_path: Path) -> None:
    data_dir = tmp_path / "launched"
    port = free_port()
    handle = launcher.ensure_running(data_dir, port=port)
    try:
        assert handle.started
        assert handle.endpoint == f"http://127.0.0.1:{port}"
        assert handle.api_key == (data_dir / "api_key").read_text().strip()
        headers = {"Authorization": f"Bearer {handle.api_key}"}
        assert httpx.get(handle.endpoint + "/v1/account/queue", headers=headers).status_code == 200

        again = launcher.ensure_running(data_dir, port=port)
        assert not again.started
        assert again.endpoint == handle.endpoint
        again.stop()  # not ours: must leave it running
        assert httpx.get(handle.endpoint + "/healthz").status_code == 200
    finally:
        handle.stop()
    assert not (data_dir / "service.json").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(handle.endpoint + "/healthz")
    assert "local service at" in (data_dir / "service.log").read_text()


def test_launcher_ignores_a_stale_service_file(
    make_local_service: Callable[..., LocalService], tmp_path: Path
) -> None:
    service = make_local_service()
    service.kill()  # leaves service.json with a dead pid behind
    assert (service.data_dir / "service.json").exists()
    handle = launcher.ensure_running(service.data_dir, port=free_port())
    try:
        assert handle.started
        wait_until(lambda: httpx.get(handle.endpoint + "/healthz").status_code == 200)
    finally:
        handle.stop()


def test_launcher_refuses_a_service_with_an_explicit_key(local_service: LocalService) -> None:
    with pytest.raises(launcher.LauncherError, match="explicit --api-key"):
        launcher.ensure_running(local_service.data_dir)


def test_tls_certificate_names_loopback_and_is_generated_once(tmp_path: Path) -> None:
    files = tls.ensure_certificate(tmp_path / "tls")
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    before = files.cert.read_bytes()
    assert tls.ensure_certificate(tmp_path / "tls").cert.read_bytes() == before


def test_launcher_falls_back_to_a_free_port(local_service: LocalService, tmp_path: Path) -> None:
    handle = launcher.ensure_running(tmp_path / "second", port=local_service.port)
    try:
        assert handle.started
        assert not handle.endpoint.endswith(f":{local_service.port}")
        assert httpx.get(handle.endpoint + "/healthz").status_code == 200
    finally:
        handle.stop()


def test_serve_lists_its_apps_and_marks_a_replaced_bundled_app(tmp_path: Path) -> None:
    own = tmp_path / "knapsack"
    import shutil

    shutil.copytree(REPO_ROOT / "tests" / "service" / "api_apps" / "shout", own)
    proc = _serve("--port", "0", "--data-dir", str(tmp_path / "d"),
                  "--app", str(REPO_ROOT / "tests" / "service" / "api_apps" / "napper"),
                  "--app", str(own))
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        apps = next(line for line in lines if line.startswith("apps: "))
        assert "routing (bundled)" in apps
        assert f"knapsack ({own}, replaces the bundled app)" in apps
        assert "napper (" in apps
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_serve_refuses_two_folders_with_the_same_app_id(tmp_path: Path) -> None:
    import shutil

    first, second = tmp_path / "a" / "napper", tmp_path / "b" / "napper"
    for target in (first, second):
        shutil.copytree(REPO_ROOT / "tests" / "service" / "api_apps" / "napper", target)
    proc = _serve("--port", "0", "--data-dir", str(tmp_path / "d"),
                  "--app", str(first), "--app", str(second))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert f"--app {second}: app ID 'napper' is already registered by --app {first}" in err


def test_serve_names_a_missing_app_folder(tmp_path: Path) -> None:
    proc = _serve("--port", "0", "--data-dir", str(tmp_path / "d"), "--app", str(tmp_path / "nope"))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "no such directory" in err
