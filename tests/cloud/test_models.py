"""Wire models: realistic payloads round-trip; the client side is tolerant, never silent."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nextmv_tui.cloud.models import (
    CreateRunRequest,
    LiveLogs,
    QueueResponse,
    RunInformation,
    RunList,
    RunResult,
)
from nextmv_tui.cloud.status import RunStatus

METADATA = {
    "id": "run-abc123",
    "name": "knapsack small",
    "description": "",
    "user_email": "dev@example.com",
    "console_url": "ignored",
    "metadata": {
        "application_id": "knapsack",
        "application_instance_id": "latest",
        "application_version_id": "",
        "created_at": "2024-01-01T12:00:00Z",
        "duration": 1234.0,
        "error": "",
        "format": {"input": {"type": "json"}, "output": {"type": "json"}},
        "input_size": 52.0,
        "output_size": 400.0,
        "status_v2": "succeeded",
        "run_type": {"type": "standard", "definition_id": "", "reference_id": ""},
        "execution_class": "6c9500mb870s",
        "execution_duration": 1100,
        "options": {
            "active_options": {"duration": 5},
            "request_options": {"duration": "5"},
            "options_summary": [{"name": "duration", "source": "run", "value": 5}],
        },
        "statistics": {"result": {"value": 42}},
        "queuing_priority": 6,
        "queuing_disabled": False,
    },
}


def test_run_information_round_trip():
    info = RunInformation.model_validate(METADATA)
    assert info.status is RunStatus.SUCCEEDED
    assert info.metadata.options is not None
    summary = info.metadata.options.options_summary
    assert summary is not None and summary[0].value == "5"
    wire = info.to_wire()
    assert wire["metadata"]["created_at"] == "2024-01-01T12:00:00.000Z"
    assert "console_url" not in wire
    again = RunInformation.model_validate(wire)
    assert again == info


def test_unknown_status_and_extra_fields_are_tolerated():
    payload = {
        "runs": [
            {
                "id": "r1",
                "user_email": "a@b.c",
                "name": "n",
                "description": "d",
                "created_at": "2024-01-01 12:00:00",
                "application_id": "app",
                "application_instance_id": "i",
                "application_version_id": "v",
                "execution_class": "c",
                "status_v2": "paused-by-the-future",
                "brand_new_field": {"x": 1},
            }
        ]
    }
    queue = QueueResponse.model_validate(payload)
    run = queue.runs[0]
    assert run.status_v2 is RunStatus.UNKNOWN
    assert not run.status_v2.is_final
    assert run.created_at.tzinfo is not None


def test_uppercase_status_maps_to_unknown_not_a_crash():
    item = {"timestamp": "2024-01-01T00:00:00Z", "log": "x"}
    logs = LiveLogs.model_validate({"items": [item], "status_v2": "RUNNING"})
    assert logs.status_v2 is RunStatus.UNKNOWN
    assert LiveLogs.model_validate({"items": None}).items == []


def test_missing_required_field_names_the_field():
    bad = {"runs": [{"id": "r1"}]}
    with pytest.raises(ValidationError) as info:
        QueueResponse.model_validate(bad)
    first = info.value.errors()[0]
    assert first["loc"] == ("runs", 0, "created_at")


def test_run_result_rejects_list_output():
    payload = dict(METADATA, output=[1, 2])
    with pytest.raises(ValidationError):
        RunResult.model_validate(payload)
    assert RunResult.model_validate(dict(METADATA, output={"v": 1})).output == {"v": 1}


def test_run_list_with_page_token():
    page = RunList.model_validate(
        {
            "runs": [
                {
                    "id": "r1",
                    "created_at": 1704110400,
                    "status_v2": "queued",
                    "run_type": {},
                    "options": {"a": "1"},
                }
            ],
            "next_page_token": "tok-2",
        }
    )
    assert page.next_page_token == "tok-2"
    assert page.runs[0].status_v2 is RunStatus.QUEUED
    assert page.runs[0].created_at.year == 2024


def test_create_request_dumps_like_the_sdk():
    req = CreateRunRequest(
        input={"a": 1, "nothing": None},
        options={"duration": 2, "flag": True, "text": "x", "nested": {"q": [1]}},
    )
    wire = req.to_wire()
    assert wire["input"] == {"a": 1, "nothing": None}
    assert wire["options"] == {
        "duration": "2",
        "flag": "true",
        "text": "x",
        "nested": '{"q":[1]}',
    }
    assert wire["configuration"] == {}
    assert "upload_id" not in wire
