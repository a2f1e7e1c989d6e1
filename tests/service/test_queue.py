"""Queue semantics through the API: priority then age, cancel, max duration, no orphans."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import httpx

from tests.conftest import LocalService
from tests.service.helpers import NAPPER_APP, create_run, log_text, wait_status, wait_until

NAP = "napper"


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie nobody reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


def napper_pids(client: httpx.Client, run_id: str) -> tuple[int, int]:
    """(app pid, child pid) from the napper's first log line."""
    line: re.Match[str] = wait_until(
        lambda: re.search(r"pid (\d+) child (\d+)", log_text(client, NAP, run_id)),
        what=f"pids of {run_id}",
    )
    return int(line.group(1)), int(line.group(2))


def nap(client: httpx.Client, seconds: float, priority: int | None = None, name: str = "") -> str:
    body: dict[str, object] = {"input": {}, "name": name, "options": {"duration": str(seconds)}}
    if priority is not None:
        body["configuration"] = {"queuing": {"priority": priority}}
    return create_run(client, NAP, body)


def test_priority_then_age_order(make_local_service: Callable[..., LocalService]) -> None:
    service = make_local_service(concurrency=1, app=[NAPPER_APP])
    with service.client() as client:
        blocker = nap(client, 120, name="blocker")
        wait_status(client, NAP, blocker, ("running",))
        plan = [("a", 6), ("b", 3), ("c", 9), ("d", 3), ("e", 1), ("f", None)]
        ids = {name: nap(client, 0, priority, name) for name, priority in plan}
        expected = ["e", "b", "d", "a", "f", "c"]  # 1, then 3 by age, 6 by age (f defaults to 6), 9

        queue = client.get("/v1/account/queue").json()["runs"]
        assert [run["name"] for run in queue] == ["blocker", *expected]
        assert [run["status_v2"] for run in queue] == ["running"] + ["queued"] * 6

        assert client.patch(f"/v1/applications/{NAP}/runs/{blocker}/cancel").status_code == 200
        started = {}
        for name, run_id in ids.items():
            meta = wait_status(client, NAP, run_id)["metadata"]
            assert meta["status_v2"] == "succeeded", meta["error"]
            started[name] = meta["initiated_at"]
    assert sorted(started, key=started.__getitem__) == expected


def test_cancel_queued_is_immediate_and_running_leaves_no_process(
    make_local_service: Callable[..., LocalService],
) -> None:
    service = make_local_service(concurrency=1, app=[NAPPER_APP])
    with service.client() as client:
        running = nap(client, 120)
        queued = nap(client, 0)
        wait_status(client, NAP, running, ("running",))
        app_pid, child_pid = napper_pids(client, running)

        response = client.patch(f"/v1/applications/{NAP}/runs/{queued}/cancel")
        assert response.status_code == 200
        assert client.get(f"/v1/applications/{NAP}/runs/{queued}/metadata").json()[
            "metadata"]["status_v2"] == "canceled"

        response = client.patch(f"/v1/applications/{NAP}/runs/{running}/cancel")
        assert response.status_code == 200
        meta = client.get(f"/v1/applications/{NAP}/runs/{running}/metadata").json()["metadata"]
        assert meta["status_v2"] == "canceled"  # final by the time PATCH returns
        assert process_gone(app_pid)
        assert process_gone(child_pid)  # the whole process group, not just the app
        assert client.get("/v1/account/queue").json() == {"runs": []}


def test_max_duration_fails_an_overrunning_run(
    make_local_service: Callable[..., LocalService],
) -> None:
    service = make_local_service(app=[NAPPER_APP], max_duration=1)
    with service.client() as client:
        run_id = nap(client, 60)
        app_pid, child_pid = napper_pids(client, run_id)
        meta = wait_status(client, NAP, run_id)["metadata"]
    assert meta["status_v2"] == "failed"
    assert "maximum run duration of 1 s" in meta["error"]
    assert process_gone(app_pid)
    assert process_gone(child_pid)


def test_kill_9_and_restart_recovers(make_local_service: Callable[..., LocalService]) -> None:
    service = make_local_service(concurrency=1, app=[NAPPER_APP])
    with service.client() as client:
        interrupted = nap(client, 120)
        wait_status(client, NAP, interrupted, ("running",))
        app_pid, child_pid = napper_pids(client, interrupted)
        waiting = [nap(client, 0) for _ in range(3)]

    killed_at = datetime.now(timezone.utc)
    service.kill()
    assert (service.data_dir / "service.json").exists()  # a crash leaves it behind
    service.start()

    with service.client() as client:
        meta = client.get(f"/v1/applications/{NAP}/runs/{interrupted}/metadata").json()["metadata"]
        assert meta["status_v2"] == "failed"
        assert meta["error"] == "interrupted: service restarted"
        # the run ended when its service died, not when the new one started
        ended = datetime.fromisoformat(meta["status_changed_at"].replace("Z", "+00:00"))
        assert ended <= killed_at
        for run_id in waiting:
            assert wait_status(client, NAP, run_id)["metadata"]["status_v2"] == "succeeded"
        listed = client.get(f"/v1/applications/{NAP}/runs").json()["runs"]
        assert {run["id"] for run in listed} == {interrupted, *waiting}
        assert "interrupted: service restarted" in log_text(client, NAP, interrupted)
    # the orphaned process group of the interrupted run was killed on restart
    wait_until(lambda: process_gone(app_pid) and process_gone(child_pid), timeout=10,
               what="orphans of the killed service to be gone")


def test_clean_stop_ends_apps_and_removes_service_file(
    make_local_service: Callable[..., LocalService],
) -> None:
    service = make_local_service(app=[NAPPER_APP])  # concurrency 2
    assert (service.data_dir / "service.json").exists()
    with service.client() as client:
        run_ids = [nap(client, 120), nap(client, 120)]
        pids = [pid for run_id in run_ids for pid in napper_pids(client, run_id)]
        queued = nap(client, 0)

    assert service.stop() == 0
    assert not (service.data_dir / "service.json").exists()
    assert all(process_gone(pid) for pid in pids)

    service.start()
    with service.client() as client:
        for run_id in run_ids:  # a stop is not a cancel: both runs were interrupted
            meta = client.get(f"/v1/applications/{NAP}/runs/{run_id}/metadata").json()
            assert meta["metadata"]["status_v2"] == "failed"
            assert meta["metadata"]["error"] == "interrupted: service restarted"
        assert wait_status(client, NAP, queued)["metadata"]["status_v2"] == "succeeded"


def test_execution_classes_have_their_own_limit_and_max_duration(
    make_local_service: Callable[..., LocalService],
) -> None:
    service = make_local_service(
        concurrency=1, app=[NAPPER_APP], execution_class=["fast=1:1", "wide=3"]
    )
    with service.client() as client:
        blocker = nap(client, 120)
        wait_status(client, NAP, blocker, ("running",))
        body = {"input": {}, "options": {"duration": "60"},
                "configuration": {"execution_class": "fast"}}
        overrun = create_run(client, NAP, body)  # runs although class "local" is full
        meta = wait_status(client, NAP, overrun)["metadata"]
        assert meta["status_v2"] == "failed"
        assert meta["execution_class"] == "fast"
        assert "maximum run duration of 1 s for execution class fast" in meta["error"]
        assert status_of(client, blocker) == "running"

        unknown = client.post(f"/v1/applications/{NAP}/runs", json={
            "input": {}, "configuration": {"execution_class": "gpu"}})
        assert unknown.status_code == 400
        assert "this service runs fast, local, wide and Cloud-style" in unknown.json()["error"]
        client.patch(f"/v1/applications/{NAP}/runs/{blocker}/cancel")


def status_of(client: httpx.Client, run_id: str) -> str:
    meta = client.get(f"/v1/applications/{NAP}/runs/{run_id}/metadata").json()["metadata"]
    return str(meta["status_v2"])
