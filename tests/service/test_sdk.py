"""The official ``nextmv`` SDK (1.13.0) against the real local service over plain HTTP.

These are the compatibility contract of issue 3: the SDK validates every response with its
own pydantic models, so a missing or null field fails here.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from nextmv import PollingOptions, StatusV2, cloud  # type: ignore[import-untyped]

from tests.conftest import LocalService, module_service
from tests.service.helpers import (
    KNAPSACK_INPUT,
    MFECHO_APP,
    NAPPER_APP,
    ROUTING_INPUT,
    SHOUT_APP,
    wait_status,
    wait_until,
)


def fast_polling() -> PollingOptions:
    """Short, deterministic SDK polling so tests stay quick (the SDK's own loop)."""
    return PollingOptions(
        initial_delay=0.05, delay=0.05, backoff=0, max_delay=0.2, jitter=0, max_duration=90
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """One service for the module's tests: each looks only at its own runs."""
    yield from module_service(tmp_path_factory, "sdk", app=[MFECHO_APP, NAPPER_APP, SHOUT_APP])


pytestmark = pytest.mark.xdist_group("sdk")  # one worker starts the module's service once


def sdk_app(service: LocalService, app_id: str) -> Any:
    client = cloud.Client(api_key=service.api_key, url=service.endpoint)
    return cloud.Application(client=client, id=app_id)


def test_json_run_polled_to_success_with_result(service: LocalService) -> None:
    app = sdk_app(service, "knapsack")
    run_id = app.new_run(input=KNAPSACK_INPUT, name="sdk json", options={"duration": 5})

    result = app.run_result_with_polling(run_id, polling_options=fast_polling())

    assert result.id == run_id
    assert result.name == "sdk json"
    assert result.metadata.status_v2.value == "succeeded"
    assert result.metadata.error == ""
    assert result.output["solution"]["value"] == 90
    assert sorted(i["id"] for i in result.output["solution"]["items"]) == ["b", "d"]
    assert result.metadata.format.format_output.output_type.value == "json"
    assert result.metadata.output_size > 0
    assert result.metadata.statistics is None  # deprecated: as metrics (wire.py)
    assert result.metadata.metrics["result.value"] == 90
    summary = {o.name: o.value for o in result.metadata.options.options_summary}
    assert summary == {"duration": "5"}
    assert app.run_input(run_id) == KNAPSACK_INPUT


def test_text_input_is_uploaded_and_returned_as_text(service: LocalService) -> None:
    app = sdk_app(service, "knapsack")
    text = json.dumps(KNAPSACK_INPUT, indent=1)  # a str input: the SDK uploads it as text

    run_id = app.new_run(input=text)
    result = app.run_result_with_polling(run_id, polling_options=fast_polling())

    assert result.metadata.format.format_input.input_type.value == "text"
    assert result.metadata.format.format_output.output_type.value == "json"
    assert result.output["solution"]["value"] == 90
    assert result.metadata.input_size == len(text.encode())
    assert app.run_input(run_id) == text


def test_input_over_5_mib_goes_through_upload_and_download(service: LocalService) -> None:
    app = sdk_app(service, "knapsack")
    big = {**KNAPSACK_INPUT, "padding": "x" * (6 * 1024 * 1024)}

    run_id = app.new_run(input=big)
    result = app.run_result_with_polling(run_id, polling_options=fast_polling())

    assert result.metadata.status_v2.value == "succeeded"
    assert result.metadata.input_size > 5 * 1024 * 1024
    assert result.output["solution"]["value"] == 90
    assert app.run_input(run_id) == big  # > 5 MiB: fetched via format=url and a download


def test_multi_file_directory_round_trip(service: LocalService, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    (inputs / "sub").mkdir(parents=True)
    (inputs / "a.csv").write_text("x,y\n1,2\n")
    (inputs / "sub" / "b.txt").write_text("hello\nworld\n")
    app = sdk_app(service, "mfecho")

    run_id = app.new_run(input_dir_path=str(inputs))
    out_dir = tmp_path / "out"
    result = app.run_result_with_polling(
        run_id, polling_options=fast_polling(), output_dir_path=str(out_dir)
    )

    assert result.metadata.status_v2.value == "succeeded", result.metadata.error
    assert result.metadata.format.format_input.input_type.value == "multi-file"
    assert result.metadata.format.format_output.output_type.value == "multi-file"
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary == {"a.csv": {"bytes": 8, "lines": 2}, "sub/b.txt": {"bytes": 12, "lines": 2}}
    assert (out_dir / "upper.txt").read_text() == "X,Y\n1,2\nHELLO\nWORLD\n"
    assert result.metadata.metrics["result.value"] == 2

    back = tmp_path / "input-back"
    app.run_input(run_id, output_dir_path=str(back))
    assert (back / "sub" / "b.txt").read_text() == "hello\nworld\n"


def test_cancel_of_a_running_run(service: LocalService) -> None:
    app = sdk_app(service, "routing")
    run_id = app.new_run(input=ROUTING_INPUT, options={"duration": 30})
    wait_until(
        lambda: app.run_information(run_id).metadata.status_v2.value == "running",
        what="routing run to start",
    )

    app.cancel_run(run_id)

    info = app.run_information(run_id)
    assert info.metadata.status_v2.value == "canceled"
    assert info.metadata.error == ""
    result = app.run_result(run_id)
    assert result.output is None


def test_logs_full_and_live(service: LocalService) -> None:
    app = sdk_app(service, "knapsack")
    run_id = app.new_run(input=KNAPSACK_INPUT)
    app.run_result_with_polling(run_id, polling_options=fast_polling())
    assert "knapsack: 4 items" in app.run_logs(run_id).log

    napper = sdk_app(service, "napper")
    run_id = napper.new_run(input={"n": 1}, options={"duration": 1.5})
    lines = napper.run_logs_with_polling(run_id, polling_options=fast_polling())
    texts = [line.log for line in lines]
    assert texts[0].startswith("pid ")
    assert "tick 0" in texts
    assert len([t for t in texts if t.startswith("tick ")]) >= 5
    assert napper.run_information(run_id).metadata.status_v2.value == "succeeded"


def test_list_runs_with_pagination(make_local_service: Callable[..., LocalService]) -> None:
    service = make_local_service(concurrency=0)  # runs stay queued: listing only
    app = sdk_app(service, "knapsack")
    created = {app.new_run(input={"items": [], "weight_capacity": i}) for i in range(230)}

    runs = app.list_runs()  # pagereturn=true: 5 pages of at most 50, newest first

    assert {run.id for run in runs} == created and len(runs) == 230
    assert all(run.status_v2.value == "queued" for run in runs)
    created_at = [run.created_at for run in runs]
    assert created_at == sorted(created_at, reverse=True)
    # One plain GET: the newest 50, as Cloud caps a request at 50 runs.
    assert [run.id for run in app.list_runs(no_pagination=True)] == [r.id for r in runs[:50]]
    items = app.client.iter_with_pagination(
        method="GET", endpoint="v1/applications/knapsack/runs", items_key="runs"
    )
    assert [item["id"] for item in items] == [r.id for r in runs]
    assert [r.id for r in app.list_runs(status=StatusV2.queued)] == [r.id for r in runs]
    assert app.list_runs(status=StatusV2.failed) == []


def test_list_applications_paginated_and_not(
    make_local_service: Callable[..., LocalService],
) -> None:
    service = make_local_service(concurrency=0)
    client = cloud.Client(api_key=service.api_key, url=service.endpoint)
    with service.client() as http:
        for index in range(60):
            assert http.post("/v1/applications", json={"id": f"app-{index:02d}",
                                                       "name": f"App {index}"}).status_code == 201

    paged = cloud.list_applications(client)
    plain = cloud.list_applications(client, no_pagination=True)

    expected = sorted(["knapsack", "routing"] + [f"app-{i:02d}" for i in range(60)])
    assert [app.id for app in paged] == expected
    assert [app.id for app in plain] == expected
    assert {app.id: app.name for app in paged}["app-07"] == "App 7"


def test_download_urls_need_no_key_and_are_not_content_encoded(service: LocalService) -> None:
    import httpx

    app = sdk_app(service, "mfecho")
    inputs = service.data_dir.parent / "mf-in"
    inputs.mkdir()
    (inputs / "f.txt").write_text("abc\n")
    run_id = app.new_run(input_dir_path=str(inputs))
    with service.client() as client:
        wait_status(client, "mfecho", run_id)
        url = client.get(f"/v1/applications/mfecho/runs/{run_id}/output",
                         params={"format": "url"}).json()["url"]
    response = httpx.get(url)  # no Authorization header
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    archive = service.data_dir.parent / "out.tar.gz"
    archive.write_bytes(response.content)
    with tarfile.open(archive, "r:gz") as tar:
        assert sorted(tar.getnames()) == ["summary.json", "upper.txt"]
    assert httpx.get(url.rsplit("/", 1)[0] + "/not-a-token").status_code == 404


def test_text_output_comes_back_as_a_tar_with_output_txt(
    service: LocalService, tmp_path: Path
) -> None:
    app = sdk_app(service, "shout")
    run_id = app.new_run(input="hello, text\n")
    out_dir = tmp_path / "out"

    result = app.run_result_with_polling(
        run_id, polling_options=fast_polling(), output_dir_path=str(out_dir)
    )

    assert result.metadata.status_v2.value == "succeeded", result.metadata.error
    assert result.metadata.format.format_output.output_type.value == "text"
    assert (out_dir / "output.txt").read_text() == "HELLO, TEXT\n"


def test_output_over_5_mib_comes_through_a_download_url(service: LocalService) -> None:
    app = sdk_app(service, "napper")
    big = {"pad": "y" * (6 * 1024 * 1024)}

    run_id = app.new_run(input=big, options={"duration": 0})
    result = app.run_result_with_polling(run_id, polling_options=fast_polling())

    assert result.metadata.output_size > 5 * 1024 * 1024
    assert result.output["echo"] == big  # fetched with format=url, then the presigned URL
