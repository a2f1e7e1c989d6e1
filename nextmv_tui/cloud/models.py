"""Wire models of the Nextmv run API, shared by the client and the local service.

Two audiences, one set of models:
- the local service dumps them (``to_wire``) and the official ``nextmv`` SDK must accept the
  result: required strings are never null, ``format.output`` and ``run_type`` are always there,
  datetimes end in ``Z``;
- the client parses them tolerantly: extra fields are ignored and an unknown ``status_v2``
  becomes ``RunStatus.UNKNOWN`` instead of an error.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.cloud.timefmt import as_utc, format_utc

MAX_INLINE_BYTES = 5 * 1024 * 1024
"""Inline JSON inputs and outputs above this size go through upload/download URLs."""

MAX_PAYLOAD_BYTES = 500 * 1024 * 1024
"""Largest input the API accepts at all."""


UtcDatetime = Annotated[
    datetime,
    AfterValidator(as_utc),
    PlainSerializer(format_utc, return_type=str, when_used="json"),
]
"""A datetime written as RFC 3339 with ``Z``; naive values are taken as UTC."""

Status = Annotated[RunStatus, BeforeValidator(RunStatus.parse)]
"""A status field that never fails to parse (unknown values map to UNKNOWN)."""


def _none_to(empty: Any) -> BeforeValidator:
    return BeforeValidator(lambda value: empty() if value is None else value)


Str = Annotated[str, _none_to(str)]
"""A string the SDK requires non-null: the server always sends one; the client reads null as ""."""

InputType = Literal["json", "text", "csv-archive", "multi-file"]
OutputType = Literal["json", "text", "csv-archive", "multi-file"]


class WireModel(BaseModel):
    """Base: ignore unknown fields, accept field names or aliases, dump by alias."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict as the server sends it (None values dropped)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- formats, run type, options -------------------------------------------------------


class FormatInput(WireModel):
    type: str = "json"


class FormatOutput(WireModel):
    type: str = "json"


class Format(WireModel):
    input: FormatInput = Field(default_factory=FormatInput)
    output: FormatOutput = Field(default_factory=FormatOutput)


OUTPUT_FOR_INPUT: dict[str, str] = {
    "json": "json",
    "text": "json",
    "csv-archive": "csv-archive",
    "multi-file": "multi-file",
}
"""The SDK's mirror rule: the output format that goes with an input format."""


class RunTypeConfiguration(WireModel):
    type: str = "standard"
    definition_id: str = ""
    reference_id: str = ""


class OptionSummary(WireModel):
    name: str
    source: str = "run"
    value: str = ""

    @field_validator("value", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> str:
        return value if isinstance(value, str) else str(value)


class RunOptions(WireModel):
    active_options: dict[str, Any] | None = None
    request_options: dict[str, Any] | None = None
    options_summary: list[OptionSummary] | None = None


class RunTracking(WireModel):
    cloned_run_id: str | None = None
    input_id: str | None = None


# --- run information ---------------------------------------------------------------------


class Metadata(WireModel):
    application_id: Str = ""
    application_instance_id: Str = ""
    application_version_id: Str = ""
    created_at: UtcDatetime
    duration: float = 0
    error: Str = ""
    format: Format = Field(default_factory=Format)
    input_size: float = 0
    output_size: float = 0
    status_v2: Status = RunStatus.NONE
    status: str | None = None
    """Deprecated v1 status (``running``/``succeeded``/``failed``); see ``status.V1_STATUS``."""
    run_type: RunTypeConfiguration = Field(default_factory=RunTypeConfiguration)
    execution_class: str | None = None
    execution_duration: float | None = None
    initiated_at: UtcDatetime | None = None
    runtime: str | None = None
    options: RunOptions | None = None
    statistics: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    queuing_priority: int | None = None
    queuing_disabled: bool | None = None
    tracking: RunTracking | None = None
    experiment_id: str | None = None
    secrets_collection_id: str | None = None
    batch_experiment_id: str | None = None
    # Extension (local service; absent on Nextmv Cloud): when the run entered its status.
    status_changed_at: UtcDatetime | None = None

    @property
    def objective(self) -> float | None:
        """``result.value`` when it is a number (the run's objective): from ``metrics`` (nested
        or as the dotted key Cloud gives indicators), else the deprecated ``statistics``."""
        return objective_of(self.metrics) if self.metrics else objective_of(self.statistics)


def objective_of(statistics: Any) -> float | None:
    """``result.value`` of a statistics or metrics object (nested, or the flat key
    ``"result.value"``), when it is a finite number."""
    if not isinstance(statistics, dict):
        return None
    result = statistics.get("result")
    value = result.get("value") if isinstance(result, dict) else statistics.get("result.value")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


class RunInformation(WireModel):
    id: str
    name: Str = ""
    description: Str = ""
    user_email: Str = ""
    metadata: Metadata


    @property
    def status(self) -> RunStatus:
        return self.metadata.status_v2


class ErrorLog(WireModel):
    error: str | None = None
    stdout: str | None = None
    stderr: str | None = None


class RunResult(RunInformation):
    """``GET …/runs/{run}``: run information plus the inline output (object or null)."""

    output: dict[str, Any] | None = None
    error_log: ErrorLog | None = None


# --- queue and run lists -----------------------------------------------------------------


class QueuedRun(WireModel):
    """One entry of ``GET v1/account/queue``; every field is required by the SDK."""

    id: str
    user_email: Str = ""
    name: Str = ""
    description: Str = ""
    created_at: UtcDatetime
    application_id: Str = ""
    application_instance_id: Str = ""
    application_version_id: Str = ""
    execution_class: Str = ""
    status_v2: Status = RunStatus.NONE
    status: str | None = None
    """Deprecated v1 status, required by SDK 0.13.1 (``running`` for queued runs)."""
    # Extensions (local service only; optional so Nextmv Cloud payloads parse).
    queuing_priority: int | None = None
    status_changed_at: UtcDatetime | None = None


class QueueResponse(WireModel):
    runs: list[QueuedRun]


class StatisticsIndicator(WireModel):
    """One ``{name, value}`` of a run list item's ``statistics.indicators``."""

    name: str
    value: Any = None


def _indicators(value: Any) -> Any:
    """Keep well-formed indicators only: one odd entry must not cost the whole page."""
    if value is None:
        return []
    if not isinstance(value, list):
        return value
    return [
        item for item in value
        if isinstance(item, StatisticsIndicator)
        or (isinstance(item, dict) and isinstance(item.get("name"), str))
    ]


class StatisticsSummary(WireModel):
    """``statistics`` (and ``metrics``) of a run list item: a status plus indicators."""

    status: Str = ""
    error: str | None = None
    indicators: Annotated[list[StatisticsIndicator], BeforeValidator(_indicators)] = Field(
        default_factory=list
    )

    def indicator(self, name: str) -> Any:
        """The value of indicator ``name`` (e.g. ``result.value``), None when absent."""
        for item in self.indicators:
            if item.name == name:
                return item.value
        return None


OBJECTIVE_INDICATOR = "result.value"
"""Name of the indicator that carries the objective (``statistics.result.value``)."""


class RunSummary(WireModel):
    """One item of ``GET v1/applications/{app}/runs``.

    Fields after ``statistics`` are optional: ``metrics`` and ``experiment_id`` are Cloud
    fields; ``batch_experiment_id``, ``duration``, ``execution_duration`` (ms),
    ``initiated_at`` and ``status_changed_at`` are sent by the local service (and read if
    Cloud sends them).
    """

    id: str
    user_email: Str = ""
    name: Str = ""
    description: Str = ""
    created_at: UtcDatetime
    application_id: Str = ""
    application_instance_id: Str = ""
    application_version_id: Str = ""
    run_type: Annotated[RunTypeConfiguration, _none_to(RunTypeConfiguration)] = Field(
        default_factory=RunTypeConfiguration
    )
    execution_class: Str = ""
    runtime: Str = ""
    status_v2: Status = RunStatus.NONE
    queuing_priority: int | None = None
    queuing_disabled: bool | None = None
    experiment_id: str | None = None
    options: dict[str, str] | None = None
    request_options: dict[str, str] | None = None
    statistics: StatisticsSummary | None = None
    metrics: StatisticsSummary | None = None
    batch_experiment_id: str | None = None
    duration: float | None = None
    execution_duration: float | None = None
    initiated_at: UtcDatetime | None = None
    status_changed_at: UtcDatetime | None = None

    @property
    def status(self) -> RunStatus:
        return self.status_v2

    @property
    def objective(self) -> float | None:
        """``result.value`` from the statistics (or metrics) indicators, when numeric."""
        for summary in (self.statistics, self.metrics):
            if summary is None:
                continue
            value = objective_of({"result": {"value": summary.indicator(OBJECTIVE_INDICATOR)}})
            if value is not None:
                return value
        return None


class RunList(WireModel):
    runs: Annotated[list[RunSummary], _none_to(list)] = Field(default_factory=list)
    next_page_token: str | None = None


# --- logs ----------------------------------------------------------------------------------


class RunLog(WireModel):
    log: str = ""


class LiveLogItem(WireModel):
    timestamp: UtcDatetime
    log: str


class LiveLogs(WireModel):
    items: Annotated[list[LiveLogItem], _none_to(list)] = Field(default_factory=list)
    status_v2: Status = RunStatus.NONE
    next_available_in_seconds: float = 1.0
    next_page_token: str | None = None


# --- uploads, downloads, create ------------------------------------------------------------


class UploadURL(WireModel):
    upload_id: str
    upload_url: str


class DownloadURL(WireModel):
    url: str


class Queuing(WireModel):
    # Strict: ``true`` is no priority and ``"yes"`` no flag (lax pydantic would take both).
    priority: StrictInt | None = Field(default=None, ge=1, le=9)
    disabled: StrictBool | None = None


class RunConfiguration(WireModel):
    execution_class: str | None = None
    format: Format | None = None
    run_type: RunTypeConfiguration | None = None
    queuing: Queuing | None = None
    secrets_collection_id: str | None = None
    integration_id: str | None = None


class ExternalRunResult(WireModel):
    """``result`` of a create-run body: the outcome of a run made elsewhere (a tracked run).

    Each ``*_upload_id`` names data PUT to an upload URL beforehand; ``error_upload_id``
    holds the run's logs (the SDK's ``track_run`` sends them there)."""

    status: Literal["succeeded", "failed"] | None = None
    error_message: str | None = None
    execution_duration: float | None = Field(default=None, ge=0)
    output_upload_id: str | None = None
    error_upload_id: str | None = None
    statistics_upload_id: str | None = None
    metrics_upload_id: str | None = None
    assets_upload_id: str | None = None


class CreateRunRequest(WireModel):
    """Body of ``POST v1/applications/{app}/runs``. Exactly one input field is set."""

    input: dict[str, Any] | str | None = None
    upload_id: str | None = None
    input_id: str | None = None
    name: str | None = None
    description: str | None = None
    options: dict[str, str] | None = None
    configuration: RunConfiguration = Field(default_factory=RunConfiguration)
    batch_experiment_id: str | None = None
    tracking: RunTracking | None = None
    result: ExternalRunResult | None = None

    @field_validator("options", mode="before")
    @classmethod
    def _stringify_options(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): v if isinstance(v, str) else _json_text(v) for k, v in value.items()}
        return value


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


class CreateRunResponse(WireModel):
    run_id: str


# --- applications ---------------------------------------------------------------------------


class Application(WireModel):
    id: str
    name: Str = ""
    description: Str = ""
    default_instance_id: str = ""
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None


class ApplicationList(WireModel):
    """``GET v1/applications?pagereturn=true``: ``{"items": [...], "next_page_token"?}``."""

    items: Annotated[list[Application], _none_to(list)] = Field(default_factory=list)
    next_page_token: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: Any) -> Any:
        """A bare list (the unpaginated answer) reads as ``{"items": [...]}``."""
        return {"items": value} if isinstance(value, list) else value


class CreateApplicationRequest(WireModel):
    id: str | None = None
    name: str
    description: str | None = None


class ErrorBody(WireModel):
    error: str
