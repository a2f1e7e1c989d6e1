"""List calls of the local service as Nextmv Cloud answers them (issue 9): page size 50,
newest first, opaque and strictly checked page tokens, filters, Cloud-like run items.

In process: the real FastAPI app over ``httpx.ASGITransport`` with a real SQLite store, seeded
with finished runs through the store (the SDK-driven checks, which need a real socket, are in
``test_sdk.py``).
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from nextmv import Run as SdkRun  # type: ignore[import-untyped]
from nextmv.cloud import Application as SdkApplication  # type: ignore[import-untyped]
from nextmv.cloud import Client as SdkClient  # type: ignore[import-untyped]

from nextmv_tui.service.app import create_app
from nextmv_tui.service.seeding import seed_history
from nextmv_tui.service.settings import ServiceSettings
from nextmv_tui.service.store import RunRecord, Store

KEY = "test-key"
RUNS = "/v1/applications/app-a/runs"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    settings = ServiceSettings(data_dir=tmp_path / "data", api_key=KEY, concurrency=0)
    app = create_app(settings)
    store: Store = app.state.service.store
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://local", headers={"Authorization": f"Bearer {KEY}"}
    ) as client:
        yield client, store
    store.close()


async def all_pages(client: httpx.AsyncClient, path: str, **params: str) -> list[dict[str, Any]]:
    pages = []
    query = {"pagereturn": "true", **params}
    while True:
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        token = body.get("next_page_token")
        if not token:
            return pages
        query["pagetoken"] = token


async def test_runs_come_newest_first_in_pages_of_50(api) -> None:
    client, store = api
    runs = seed_history(store, ["app-a", "app-b"], 242, span=3600)
    mine = [run.id for run in reversed(runs) if run.app_id == "app-a"]  # newest first

    pages = await all_pages(client, RUNS)

    assert [len(page["runs"]) for page in pages] == [50, 50, 21]
    assert [run["id"] for page in pages for run in page["runs"]] == mine
    assert "next_page_token" not in pages[-1]
    created = [run["created_at"] for page in pages for run in page["runs"]]
    assert created == sorted(created, reverse=True)


async def test_without_pagereturn_the_newest_page_comes_alone(api) -> None:
    client, store = api
    runs = seed_history(store, ["app-a"], 80, span=3600)

    body = (await client.get(RUNS)).json()

    assert [run["id"] for run in body["runs"]] == [run.id for run in reversed(runs)][:50]
    assert "next_page_token" not in body


async def test_a_new_run_does_not_shift_the_pages_being_read(api) -> None:
    client, store = api
    runs = seed_history(store, ["app-a"], 100, span=3600)
    first = (await client.get(RUNS, params={"pagereturn": "true"})).json()
    seed_history(store, ["app-a"], 3, now=time.time() + 10, span=1, seed=1)  # newer runs

    second = (await client.get(
        RUNS, params={"pagereturn": "true", "pagetoken": first["next_page_token"]}
    )).json()

    assert [r["id"] for r in first["runs"] + second["runs"]] == [r.id for r in reversed(runs)]


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "²",  # "²".isdigit() is True
        "99999999999999999999",  # overflows SQLite's INTEGER
        "-1",
        "abc def",
        "x" * 600,
        "%00",
        "eyJhIjoxfQ",  # base64 of a JSON object
        _token("v1:000000000000:5"),  # a well-formed token of another list
        "\x1b[31mred",
    ],
)
async def test_bad_page_tokens_are_a_400_naming_the_token(api, token: str) -> None:
    client, store = api
    seed_history(store, ["app-a"], 60, span=3600)

    response = await client.get(RUNS, params={"pagereturn": "true", "pagetoken": token})

    assert response.status_code == 400, response.text
    message = response.json()["error"]
    assert message.startswith("invalid pagetoken "), message
    assert repr(token[:20])[1:-1] in message or len(token) > 60


async def test_forged_positions_out_of_range_are_refused(api) -> None:
    client, store = api
    seed_history(store, ["app-a"], 60, span=3600)
    real = (await client.get(RUNS, params={"pagereturn": "true"})).json()["next_page_token"]
    raw = base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)).decode()
    prefix = raw.rsplit(":", 1)[0]
    for position in ("99999999999999999999", "9223372036854775808", "0", "²", "1e3", ""):
        response = await client.get(
            RUNS, params={"pagereturn": "true", "pagetoken": _token(f"{prefix}:{position}")}
        )
        assert response.status_code == 400, (position, response.text)
        assert "invalid pagetoken" in response.json()["error"]
    largest = _token(f"{prefix}:9223372036854775807")
    response = await client.get(RUNS, params={"pagereturn": "true", "pagetoken": largest})
    assert response.status_code == 200
    assert len(response.json()["runs"]) == 50  # every run is below the largest position


async def test_a_token_is_bound_to_its_application_and_filters(api) -> None:
    client, store = api
    seed_history(store, ["app-a", "app-b"], 240, span=3600)
    token = (await client.get(RUNS, params={"pagereturn": "true"})).json()["next_page_token"]

    other_app = await client.get(
        "/v1/applications/app-b/runs", params={"pagereturn": "true", "pagetoken": token}
    )
    other_filter = await client.get(
        RUNS, params={"pagereturn": "true", "pagetoken": token, "status": "failed"}
    )

    for response in (other_app, other_filter):
        assert response.status_code == 400
        assert "belongs to another list" in response.json()["error"]


async def test_status_and_created_after_filters(api) -> None:
    client, store = api
    now = time.time()
    runs = seed_history(store, ["app-a"], 300, now=now, span=7200)
    cut = now - 1800
    since = datetime.fromtimestamp(cut, tz=timezone.utc).isoformat().replace("+00:00", "Z")

    failed = await all_pages(client, RUNS, status="failed")
    recent = await all_pages(client, RUNS, created_after=since)
    both = await all_pages(client, RUNS, created_after=since, status="succeeded,canceled")

    def ids(pages: list[dict[str, Any]]) -> list[str]:
        return [run["id"] for page in pages for run in page["runs"]]

    newest = list(reversed(runs))
    assert ids(failed) == [r.id for r in newest if r.status == "failed"]
    assert ids(recent) == [r.id for r in newest if r.created_at >= cut]
    assert ids(both) == [
        r.id for r in newest if r.created_at >= cut and r.status in ("succeeded", "canceled")
    ]
    assert 0 < len(ids(both)) < len(ids(recent)) < len(runs)


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"status": "RUNNING"}, "invalid status 'RUNNING'"),
        ({"status": "queued,bogus"}, "invalid status 'bogus'"),
        ({"created_after": "yesterday"}, "invalid created_after 'yesterday'"),
        ({"created_after": "2024-13-45T00:00:00Z"}, "invalid created_after"),
        ({"created_after": "99999-01-01T00:00:00Z"}, "invalid created_after"),
    ],
)
async def test_bad_filters_are_a_400_naming_them(api, params, names) -> None:
    client, _store = api
    response = await client.get(RUNS.replace("app-a", "knapsack"), params=params)
    assert response.status_code == 400
    assert names in response.json()["error"]


async def test_run_items_carry_statistics_priority_batch_and_durations(api) -> None:
    client, store = api
    now = time.time()
    store.upsert_application("app-a", "A", "")
    store.insert_run(RunRecord(
        id="run-full", app_id="app-a", status="succeeded", created_at=now - 10,
        status_changed_at=now - 2, started_at=now - 8, finished_at=now - 2,
        input_format="json", output_format="json", input_file="input.json",
        execution_class="local", priority=2, batch_experiment_id="bx-42",
        statistics={
            "schema": "v1",
            "run": {"duration": 6.0, "iterations": 120},
            "result": {"value": 1234.5, "duration": 3.1,
                       "custom": {"unplanned": 0, "label": "x", "nan": float("nan")}},
            "series_data": {"value": {"name": "best", "data_points": [{"x": 0, "y": 1}]}},
        },
    ))
    store.insert_run(RunRecord(
        id="run-queued", app_id="app-a", status="queued", created_at=now - 1,
        status_changed_at=now - 1, input_format="json", output_format="json",
        input_file="input.json", execution_class="local",
    ))

    items = {run["id"]: run for run in (await client.get(RUNS)).json()["runs"]}

    full = items["run-full"]
    assert full["statistics"] == {
        "status": "success",
        "indicators": [
            {"name": "result.value", "value": 1234.5},
            {"name": "result.duration", "value": 3.1},
            {"name": "run.duration", "value": 6.0},
            {"name": "run.iterations", "value": 120},
            {"name": "result.custom.unplanned", "value": 0},
        ],
    }
    assert full["queuing_priority"] == 2 and full["execution_class"] == "local"
    assert full["batch_experiment_id"] == "bx-42"
    assert full["duration"] == pytest.approx(8000, abs=1)
    assert full["execution_duration"] == pytest.approx(6000, abs=1)
    queued = items["run-queued"]
    assert "statistics" not in queued and "batch_experiment_id" not in queued
    assert queued["execution_duration"] == 0
    for item in items.values():
        run = SdkRun.from_dict(item)  # the official SDK's model of a list item
        assert run.id == item["id"]
    assert SdkRun.from_dict(full).statistics.indicators[0].value == 1234.5


async def test_applications_paged_and_as_a_bare_list(api) -> None:
    client, store = api
    for index in range(57):
        store.upsert_application(f"app-{index:03d}", f"App {index}", "")

    bare = (await client.get("/v1/applications")).json()
    pages = await all_pages(client, "/v1/applications")

    assert isinstance(bare, list)
    expected = sorted(["knapsack", "routing"] + [f"app-{i:03d}" for i in range(57)])
    assert [app["id"] for app in bare] == expected
    assert [len(page["items"]) for page in pages] == [50, 9]
    assert [app["id"] for page in pages for app in page["items"]] == expected
    sdk_client = SdkClient(api_key="k", url="http://local")
    for app in bare:
        assert SdkApplication.from_dict({"client": sdk_client} | app).id == app["id"]
    bad = await client.get("/v1/applications", params={"pagereturn": "true", "pagetoken": "²"})
    assert bad.status_code == 400 and "invalid pagetoken" in bad.json()["error"]
    runs_token = (await client.get(
        "/v1/applications", params={"pagereturn": "true"}
    )).json()["next_page_token"]
    crossed = await client.get(
        "/v1/applications/knapsack/runs", params={"pagereturn": "true", "pagetoken": runs_token}
    )
    assert crossed.status_code == 400
