"""Issue 11 with the official SDK 1.13 against the real service: tracked runs, loud refusals,
recorded IDs, output formats, execution classes, the lifecycle routes, logs and statistics.

One service serves most tests of this module (starting one costs seconds on a loaded
machine); tests that need other ``serve`` flags start their own.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from nextmv import (  # type: ignore[import-untyped]
    PollingOptions,
    RunConfiguration,
    RunQueuing,
    TrackedRun,
    TrackedRunStatus,
    cloud,
)

from tests.conftest import LocalService
from tests.service.helpers import (
    KNAPSACK_INPUT,
    NAPPER_APP,
    log_text,
    wait_status,
    write_app,
)

MARKER_MAIN = """\
import json, sys
with open({marker!r}, "a") as handle:
    handle.write("executed\\n")
data = json.load(sys.stdin)
print("marker app ran", file=sys.stderr)
print(json.dumps({{"echo": data, "statistics": {{"result": {{"value": 7}}}},
                  "metrics": {{"cost": 1.23456789, "vehicles": 3}}}}))
"""

CSV_MAIN = """\
import json, pathlib, sys
files = sorted(p for p in pathlib.Path("input").rglob("*") if p.is_file())
out = pathlib.Path("output")
out.mkdir()
for path in files:
    (out / path.name).write_text(path.read_text().upper())
print("wrote", len(files), "files", file=sys.stderr)
print(json.dumps({"options": {}, "statistics": {"result": {"value": len(files)}}}))
"""

MFSTATS_MANIFEST = """\
type: python
files: [main.py]
configuration:
  content:
    format: multi-file
    multi-file:
      input:
        path: in
      output:
        solutions: out/solutions
        statistics: out/custom-stats.json
        metrics: out/custom-metrics.json
"""

MFSTATS_MAIN = """\
import json, pathlib
pathlib.Path("out/solutions/sub").mkdir(parents=True)
pathlib.Path("out/solutions/a.csv").write_text("x\\n1\\n")
pathlib.Path("out/solutions/sub/b.txt").write_text("b")
pathlib.Path("out/custom-stats.json").write_text(json.dumps({"statistics": {"run": {"n": 2}}}))
pathlib.Path("out/custom-metrics.json").write_text(json.dumps({"total": 2}))
print("stdout of a multi-file app is log")
"""


def fast() -> PollingOptions:
    return PollingOptions(
        initial_delay=0.05, delay=0.05, backoff=0, max_delay=0.2, jitter=0, max_duration=120
    )


pytestmark = pytest.mark.xdist_group("conformance")  # one worker builds the module fixture once


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("apps")
    marker = root / "executions.txt"
    return {
        "marker_file": marker,
        "marker": write_app(root / "marker", "type: python\nfiles: [main.py]\n",
                            {"main.py": MARKER_MAIN.format(marker=str(marker))}),
        # An October-2024-style manifest: no configuration (so "json"), csv files in and out.
        "csvapp": write_app(root / "csvapp", "type: python\nfiles: [main.py]\n",
                            {"main.py": CSV_MAIN}),
        "mfstats": write_app(root / "mfstats", MFSTATS_MANIFEST, {"main.py": MFSTATS_MAIN}),
    }


@pytest.fixture(scope="module")
def service(
    apps: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalService]:
    root = tmp_path_factory.mktemp("conformance")
    handle = LocalService(
        root / "data", root / "service.log",
        app=[apps["marker"], apps["csvapp"], apps["mfstats"], NAPPER_APP], concurrency=4,
    )
    handle.start()
    yield handle
    handle.stop()
    handle.reap_orphans()


def sdk_app(service: LocalService, app_id: str) -> Any:
    client = cloud.Client(api_key=service.api_key, url=service.endpoint)
    return cloud.Application(client=client, id=app_id)


def executions(apps: dict[str, Path]) -> int:
    path = apps["marker_file"]
    return len(path.read_text().splitlines()) if path.exists() else 0


# --- tracked runs ------------------------------------------------------------------------


def test_tracked_run_is_recorded_and_never_executed(
    service: LocalService, apps: dict[str, Path]
) -> None:
    app = sdk_app(service, "marker")
    before = executions(apps)
    output = {"solution": [1, 2], "statistics": {"result": {"value": 42}}, "metrics": {"m": 1}}

    run_id = app.track_run(TrackedRun(
        status=TrackedRunStatus.SUCCEEDED, input={"x": 1}, output=output, duration=1234,
        # A str: the SDK joins a list of lines with a literal backslash-n, kept as sent.
        logs="solved elsewhere\nvalue 42", name="tracked", description="from a laptop",
    ))
    result = app.run_result_with_polling(run_id, polling_options=fast())

    meta = result.metadata
    assert meta.status_v2.value == "succeeded" and meta.error == ""
    assert meta.run_type.run_type.value == "external"
    assert meta.duration == 1234 and meta.execution_duration == 1234
    assert result.output == output
    assert meta.metrics == {"m": 1} and meta.statistics is None  # see wire.py
    assert (result.name, result.description) == ("tracked", "from a laptop")
    assert app.run_logs(run_id).log == "solved elsewhere\nvalue 42"
    assert app.run_input(run_id) == {"x": 1}
    # A normal run of the same app leaves its marker: the tracked run never ran.
    normal = app.new_run(input={"y": 2})
    app.run_result_with_polling(normal, polling_options=fast())
    assert executions(apps) == before + 1


def test_tracked_failed_run_and_file_outputs_through_the_sdk(
    service: LocalService, apps: dict[str, Path], tmp_path: Path
) -> None:
    app = sdk_app(service, "marker")
    out_dir = tmp_path / "out"
    (out_dir / "sub").mkdir(parents=True)
    (out_dir / "sub" / "plan.csv").write_text("a,b\n")
    before = executions(apps)

    run_id = app.track_run(
        TrackedRun(status=TrackedRunStatus.FAILED, input={"x": 1}, output_dir_path=str(out_dir),
                   error="solver crashed", statistics={"run": {"duration": 2}},
                   metrics={"gap": 0.5}, duration=50),
        configuration={"format": {"input": {"type": "json"}, "output": {"type": "multi-file"}}},
    )
    back = tmp_path / "back"
    result = app.run_result_with_polling(run_id, polling_options=fast(),
                                         output_dir_path=str(back))

    assert result.metadata.status_v2.value == "failed"
    assert result.metadata.error == "solver crashed"
    assert result.metadata.format.format_output.output_type.value == "multi-file"
    assert (back / "sub" / "plan.csv").read_text() == "a,b\n"
    assert result.metadata.metrics == {"gap": 0.5}
    assert executions(apps) == before


def test_tracked_run_through_the_raw_create_body(
    service: LocalService, apps: dict[str, Path]
) -> None:
    before = executions(apps)
    with service.client() as client:
        up = client.post("/v1/applications/marker/runs/uploadurl").json()
        assert httpx.put(up["upload_url"], content=b"line one\nline two\n").status_code == 200
        run_id = client.post("/v1/applications/marker/runs", json={
            "input": {"a": 1},
            "result": {"status": "succeeded", "execution_duration": 77,
                       "error_upload_id": up["upload_id"]},
        }).json()["run_id"]
        meta = client.get(f"/v1/applications/marker/runs/{run_id}/metadata").json()["metadata"]
        assert (meta["status_v2"], meta["status"], meta["duration"]) == ("succeeded",
                                                                          "succeeded", 77)
        assert log_text(client, "marker", run_id) == "line one\nline two"
        queue = client.get("/v1/account/queue").json()["runs"]
        assert run_id not in {entry["id"] for entry in queue}
        refused = client.post("/v1/applications/marker/runs", json={
            "input": {}, "result": {"status": "succeeded", "assets_upload_id": "u"}})
        assert refused.status_code == 400 and "run assets" in refused.json()["error"]
    assert executions(apps) == before


# --- loud refusals and recorded fields ---------------------------------------------------


@pytest.mark.parametrize(
    ("configuration", "kwargs", "needle"),
    [
        ({"run_type": {"type": "ensemble", "definition_id": "def-1"}}, {}, "ensemble runs"),
        ({"run_type": {"type": "ensemble-child"}}, {}, "ensemble child runs"),
        ({"integration_id": "int-1"}, {}, "integrations"),
        ({}, {"managed_input_id": "mi-1"}, "managed inputs"),
        ({"run_type": {"type": "external"}}, {}, "tracked run"),
    ],
)
def test_unimplemented_features_are_refused_naming_them(
    service: LocalService, configuration: dict[str, Any], kwargs: dict[str, Any], needle: str
) -> None:
    app = sdk_app(service, "knapsack")
    inputs = {} if kwargs else {"input": KNAPSACK_INPUT}
    with pytest.raises(requests.HTTPError) as caught:
        app.new_run(**inputs, configuration=configuration or None, **kwargs)
    assert caught.value.response.status_code == 400
    assert needle in caught.value.response.json()["error"]
    assert "not supported by the local service" in caught.value.response.text or \
        needle == "tracked run"


def test_recorded_ids_come_back_in_metadata_and_run_list(service: LocalService) -> None:
    app = sdk_app(service, "knapsack")
    run_id = app.new_run(
        input=KNAPSACK_INPUT, instance_id="prod-2024", batch_experiment_id="bexp-1",
        configuration=RunConfiguration(secrets_collection_id="sc-9"),
    )
    result = app.run_result_with_polling(run_id, polling_options=fast())

    meta = result.metadata
    assert meta.status_v2.value == "succeeded"
    assert meta.application_instance_id == "prod-2024"  # unknown instance: recorded, not refused
    assert meta.secrets_collection_id == "sc-9"
    assert meta.experiment_id == "bexp-1"
    with service.client() as client:
        raw = client.get(f"/v1/applications/knapsack/runs/{run_id}/metadata").json()["metadata"]
    assert raw["batch_experiment_id"] == "bexp-1"
    listed = {run.id: run for run in app.list_runs()}
    assert listed[run_id].experiment_id == "bexp-1"
    assert listed[run_id].application_instance_id == "prod-2024"


# --- output formats, statistics, metrics -------------------------------------------------


def test_csv_archive_output_of_a_json_manifest_app_is_kept(
    service: LocalService, tmp_path: Path
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "items.csv").write_text("id,w\na,1\n")
    (inputs / "cap.csv").write_text("c\n5\n")
    app = sdk_app(service, "csvapp")
    config = {"format": {"input": {"type": "csv-archive"}, "output": {"type": "csv-archive"}}}

    run_id = app.new_run(input_dir_path=str(inputs), configuration=config)
    out = tmp_path / "out"
    result = app.run_result_with_polling(run_id, polling_options=fast(), output_dir_path=str(out))

    assert result.metadata.status_v2.value == "succeeded", result.metadata.error
    assert result.metadata.format.format_output.output_type.value == "csv-archive"
    assert (out / "items.csv").read_text() == "ID,W\nA,1\n"
    assert (out / "cap.csv").read_text() == "C\n5\n"
    # Statistics from the stdout JSON, served as metrics (the app writes no metrics).
    assert result.metadata.metrics == {"result.value": 2}


def test_multi_file_output_statistics_and_metrics_where_the_manifest_says(
    service: LocalService, tmp_path: Path
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "x.txt").write_text("x")
    app = sdk_app(service, "mfstats")

    run_id = app.new_run(input_dir_path=str(inputs))
    out = tmp_path / "out"
    result = app.run_result_with_polling(run_id, polling_options=fast(), output_dir_path=str(out))

    assert result.metadata.status_v2.value == "succeeded", result.metadata.error
    assert (out / "a.csv").read_text() == "x\n1\n"
    assert (out / "sub" / "b.txt").read_text() == "b"
    assert result.metadata.metrics == {"total": 2}  # the manifest's metrics path
    assert "stdout of a multi-file app is log" in app.run_logs(run_id).log
    with service.client() as client:
        url = client.get(f"/v1/applications/mfstats/runs/{run_id}",
                         params={"format": "url"}).json()["output"]["url"]
    archive = tmp_path / "o.tar.gz"
    archive.write_bytes(httpx.get(url).content)
    with tarfile.open(archive, "r:gz") as tar:
        assert sorted(tar.getnames()) == ["a.csv", "sub/b.txt"]


def test_metrics_feed_compare_runs(
    service: LocalService,
) -> None:
    app = sdk_app(service, "marker")
    ids = [app.new_run(input={"i": i}) for i in range(2)]
    for run_id in ids:
        app.run_result_with_polling(run_id, polling_options=fast())

    info = app.run_information(ids[0])
    comparison = app.compare_runs(ids)

    assert info.metadata.statistics is None
    assert info.metadata.metrics == {"cost": 1.23456789, "vehicles": 3}
    assert comparison.metrics["cost"].values == {ids[0]: 1.23457, ids[1]: 1.23457}
    assert comparison.metrics["vehicles"].values == {ids[0]: 3, ids[1]: 3}


def test_the_service_writes_no_line_of_its_own_into_a_run_log(service: LocalService) -> None:
    app = sdk_app(service, "knapsack")
    run_id = app.new_run(input=KNAPSACK_INPUT)
    app.run_result_with_polling(run_id, polling_options=fast())

    log = app.run_logs(run_id).log
    assert log.startswith("knapsack: 4 items")
    assert "note:" not in log and "python environment" not in log


# --- execution classes ---------------------------------------------------------------------


def test_cloud_execution_class_names_run_locally_and_are_kept(service: LocalService) -> None:
    app = sdk_app(service, "napper")
    run_id = app.new_run(
        input={"n": 1}, options={"duration": 30},
        configuration=RunConfiguration(execution_class="8c16gb12h",
                                       queuing=RunQueuing(priority=2)),
    )
    with service.client() as client:
        wait_status(client, "napper", run_id, ("running",))
        entry = next(e for e in client.get("/v1/account/queue").json()["runs"]
                     if e["id"] == run_id)
        assert (entry["execution_class"], entry["status"]) == ("8c16gb12h", "running")
        app.cancel_run(run_id)
        meta = client.get(f"/v1/applications/napper/runs/{run_id}/metadata").json()["metadata"]
    assert (meta["execution_class"], meta["status_v2"], meta["status"]) == (
        "8c16gb12h", "canceled", "failed")

    quick = app.new_run(input={"n": 2}, options={"duration": 0},
                        configuration=RunConfiguration(execution_class="6c9gb"))
    result = app.run_result_with_polling(quick, polling_options=fast())
    assert result.metadata.status_v2.value == "succeeded"
    assert result.metadata.execution_class == "6c9gb"

    with pytest.raises(requests.HTTPError) as caught:
        app.new_run(input={"n": 3}, configuration=RunConfiguration(execution_class="warp9"))
    assert caught.value.response.status_code == 400
    assert "unknown execution class 'warp9'" in caught.value.response.text


def test_execution_class_map_sends_names_to_a_pool(
    make_local_service: Callable[..., LocalService],
) -> None:
    service = make_local_service(execution_class=["big=0"], execution_class_map=["8c*=big"])
    app = sdk_app(service, "knapsack")

    held = app.new_run(input=KNAPSACK_INPUT,
                       configuration=RunConfiguration(execution_class="8c16gb12h"))
    done = app.new_run(input=KNAPSACK_INPUT,
                       configuration=RunConfiguration(execution_class="6c9gb"))
    assert app.run_result_with_polling(done, polling_options=fast()).metadata.status_v2.value \
        == "succeeded"

    with service.client() as client:
        queue = client.get("/v1/account/queue").json()["runs"]
    assert [(e["id"], e["execution_class"], e["status_v2"], e["status"]) for e in queue] == [
        (held, "8c16gb12h", "queued", "running")]  # pool 'big' runs nothing (concurrency 0)


# --- lifecycle routes ----------------------------------------------------------------------


def test_application_update_and_delete(service: LocalService) -> None:
    client = cloud.Client(api_key=service.api_key, url=service.endpoint)
    app = cloud.Application.new(client=client, name="Scratch", id="scratch")
    run_id = app.new_run(input={"a": 1})
    with service.client() as http:
        wait_status(http, "scratch", run_id)  # an app without code: the run fails at once

    updated = app.update(name="Renamed", description="new words", default_instance_id="prod")
    assert (updated.name, updated.description) == ("Renamed", "new words")
    assert cloud.Application.get(client=client, id="scratch").name == "Renamed"
    with service.client() as http:  # a run that names no instance gets the default one
        later = http.post("/v1/applications/scratch/runs", json={"input": {}}).json()["run_id"]
        meta = http.get(f"/v1/applications/scratch/runs/{later}/metadata").json()["metadata"]
        assert meta["application_instance_id"] == "prod"

    app.delete()
    assert not cloud.Application.exists(client=client, id="scratch")
    with service.client() as http:
        gone = http.get(f"/v1/applications/scratch/runs/{run_id}/metadata")
        assert gone.status_code == 404
        served = http.delete("/v1/applications/knapsack")
        assert served.status_code == 409 and "serves" in served.json()["error"]


def test_run_name_and_description_update(service: LocalService) -> None:
    app = sdk_app(service, "knapsack")
    run_id = app.new_run(input=KNAPSACK_INPUT, name="before")
    path = f"/v1/applications/knapsack/runs/{run_id}"
    with service.client() as client:  # the SDK has no call for it: raw HTTP
        response = client.put(path, json={"name": "after", "description": "why"})
        assert response.status_code == 200, response.text
        assert client.put(path, json={"status": "succeeded"}).status_code == 400
        assert client.put(path, json={}).status_code == 400
    info = app.run_information(run_id)
    assert (info.name, info.description) == ("after", "why")



def test_compare_runs_of_an_app_with_only_legacy_statistics(service: LocalService) -> None:
    app = sdk_app(service, "knapsack")
    ids = [app.new_run(input=KNAPSACK_INPUT) for _ in range(2)]
    for run_id in ids:
        app.run_result_with_polling(run_id, polling_options=fast())

    comparison = app.compare_runs(ids)  # a nested statistics object made this raise

    assert comparison.metrics["result.value"].values == {ids[0]: 90, ids[1]: 90}
    assert not comparison.metrics["result.value"].has_differences


def test_bad_tracked_runs_are_refused_and_leave_nothing(service: LocalService) -> None:
    runs_dir = service.data_dir / "runs"
    with service.client() as client:
        up = client.post("/v1/applications/marker/runs/uploadurl").json()
        assert httpx.put(up["upload_url"], content=b"[1, 2]").status_code == 200
        before = sorted(runs_dir.iterdir())
        cases = [
            ({"status": "succeeded", "output_upload_id": "nope"},
             404, "result.output_upload_id: upload 'nope' not found"),
            ({"output_upload_id": up["upload_id"]}, 400, "result.status is required"),
            ({"status": "maybe"}, 400, "result.status"),
            ({"status": "succeeded", "statistics_upload_id": up["upload_id"]},
             400, "result.statistics_upload_id: upload"),
        ]
        for result, status, needle in cases:
            answer = client.post("/v1/applications/marker/runs",
                                 json={"input": {}, "result": result})
            assert answer.status_code == status, answer.text
            assert needle in answer.json()["error"]
        as_files = client.post("/v1/applications/marker/runs", json={
            "input": {}, "result": {"status": "succeeded", "output_upload_id": up["upload_id"]},
            "configuration": {"format": {"output": {"type": "multi-file"}}}})
        assert as_files.status_code == 400
        assert "must be a gzip-compressed tar" in as_files.json()["error"]
    assert sorted(runs_dir.iterdir()) == before  # no half-made run dir
