"""Per-app environments through the real service and the official SDK 1.13.

``test_a_pinned_library_runs_in_its_own_environment`` installs ``idna==2.10`` from PyPI (the
service itself has idna 3.x through httpx): the only test here that needs the package index,
cached for the session by the ``uv_cache`` fixture. The others use wheels built by the test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import idna
from nextmv import PollingOptions, cloud  # type: ignore[import-untyped]

from tests.conftest import LocalService
from tests.service.helpers import log_text, wait_status, write_app, write_wheel

PINNED_MAIN = """\
import json, sys, idna
print("idna", idna.__version__, file=sys.stderr)
print(json.dumps({"idna": idna.__version__, "prefix": sys.prefix}))
"""

FAKE_MAIN = """\
import json, fakepkg
print(json.dumps({"fakepkg": fakepkg.VERSION}))
"""


def fast() -> PollingOptions:
    return PollingOptions(
        initial_delay=0.05, delay=0.05, backoff=0, max_delay=0.2, jitter=0, max_duration=300
    )


def sdk_app(service: LocalService, app_id: str) -> Any:
    client = cloud.Client(api_key=service.api_key, url=service.endpoint)
    return cloud.Application(client=client, id=app_id)


def pinned_app(folder: Path) -> Path:
    return write_app(
        folder,
        "type: python\nruntime: ghcr.io/nextmv-io/runtime/python:3.11\nfiles: [main.py]\n"
        "python:\n  pip-requirements: requirements.txt\n",
        {"main.py": PINNED_MAIN, "requirements.txt": "idna==2.10\n"},
    )


def test_a_pinned_library_runs_in_its_own_environment(
    make_local_service: Callable[..., LocalService], tmp_path: Path
) -> None:
    assert idna.__version__ != "2.10"  # the service's own environment has another idna
    service = make_local_service(app=[pinned_app(tmp_path / "pinned")])
    app = sdk_app(service, "pinned")

    first = app.new_run(input={})
    result = app.run_result_with_polling(first, polling_options=fast())
    second = app.new_run(input={})
    again = app.run_result_with_polling(second, polling_options=fast())

    assert result.metadata.status_v2.value == "succeeded", result.metadata.error
    assert result.output["idna"] == again.output["idna"] == "2.10"
    assert Path(result.output["prefix"]).parent == service.data_dir / "envs"
    first_log = app.run_logs(first).log.splitlines()
    assert first_log[0].startswith("python environment: 1 requirement(s) from "
                                   "requirements.txt, built in ")
    assert first_log[1] == "  idna==2.10 -> idna 2.10"
    assert first_log[2].startswith("note: runtime ghcr.io/nextmv-io/runtime/python:3.11 is "
                                   "not emulated")
    assert first_log[3] == "idna 2.10"
    assert ", reused (" in app.run_logs(second).log.splitlines()[0]


def test_no_app_envs_runs_python_apps_with_the_service_interpreter(
    make_local_service: Callable[..., LocalService], tmp_path: Path
) -> None:
    service = make_local_service(app=[pinned_app(tmp_path / "pinned")], no_app_envs=True)
    app = sdk_app(service, "pinned")

    run_id = app.new_run(input={})
    result = app.run_result_with_polling(run_id, polling_options=fast())

    assert result.output["idna"] == idna.__version__
    assert app.run_logs(run_id).log.splitlines()[0] == (
        "note: python.pip-requirements are not installed (app environments are off: serve "
        "--no-app-envs); the app runs with the service's Python"
    )
    assert not (service.data_dir / "envs").exists()


def test_environment_built_once_for_concurrent_runs_and_a_failed_build_names_the_requirement(
    make_local_service: Callable[..., LocalService], tmp_path: Path
) -> None:
    local_index = "--no-index\n--find-links wheels\n"
    good = write_app(tmp_path / "good", "type: python\nfiles: [main.py]\npython:\n"
                     "  pip-requirements: requirements.txt\n",
                     {"main.py": FAKE_MAIN, "requirements.txt": local_index + "fakepkg==1.0\n"})
    write_wheel(good / "wheels", "fakepkg", "1.0")
    broken = write_app(tmp_path / "broken", "type: python\nfiles: [main.py]\npython:\n"
                       "  pip-requirements: requirements.txt\n",
                       {"main.py": FAKE_MAIN, "requirements.txt": local_index + "fakepkg==1.0\n"})
    write_wheel(broken / "wheels", "fakepkg", "1.0", "py3-none-manylinux2014_s390x")
    service = make_local_service(app=[good, broken], concurrency=3)
    app = sdk_app(service, "good")

    runs = [app.new_run(input={"i": i}) for i in range(2)]
    failed = sdk_app(service, "broken").new_run(input={})
    results = [app.run_result_with_polling(run_id, polling_options=fast()) for run_id in runs]

    assert [r.output for r in results] == [{"fakepkg": "1.0"}] * 2
    with service.client() as client:
        heads = [log_text(client, "good", run_id).splitlines()[0] for run_id in runs]
        meta = wait_status(client, "broken", failed)["metadata"]
        broken_log = log_text(client, "broken", failed)
    assert sorted(", built in " in head for head in heads) == [False, True]
    assert sum(", reused (" in head for head in heads) == 1
    assert meta["status_v2"] == "failed"
    assert meta["error"].startswith(
        "cannot install python requirement 'fakepkg==1.0' (requirements.txt): "
    )
    assert "platform" in meta["error"]
    assert "s390x" in broken_log  # uv's own explanation is in the log when it fails
