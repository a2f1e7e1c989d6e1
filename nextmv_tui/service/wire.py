"""Stored runs -> the wire models the official SDK validates (§2.3, §2.8, §2.9, §7).

Kept apart from the routes so every response that describes a run is built in one place:
required strings are never null, ``format.output`` and ``run_type`` are always present,
option values are strings, durations are milliseconds, and the deprecated v1 ``status`` sits
beside ``status_v2`` (``status.V1_STATUS``; SDK 0.13.1 requires it).

``metadata.metrics`` is the app's own ``metrics`` object; ``metadata.statistics`` is not sent.
Why, from SDK 1.13 (the client Cloud is written for): ``Metadata.statistics`` is deprecated in
favour of ``metrics``; the SDK's local runner (its mirror of Cloud) fills only ``metrics``; and
``Application.compare_runs`` puts every metadata field but ``metrics``, ``options``,
``format``, ``integration``, ``run_type`` and ``tracking`` into a set, so any ``statistics``
object there makes it raise ``TypeError: unhashable type: 'dict'``. An app that writes only
(legacy) statistics gets them as metrics instead, flattened to dotted scalar keys
(``result.value``), the names Cloud gives statistics indicators; ``compare_runs`` then works
for it too.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import Any

from nextmv_tui.cloud.models import (
    Format,
    FormatInput,
    FormatOutput,
    Metadata,
    OptionSummary,
    QueuedRun,
    RunInformation,
    RunOptions,
    RunSummary,
    RunTracking,
    RunTypeConfiguration,
    StatisticsIndicator,
    StatisticsSummary,
)
from nextmv_tui.cloud.status import V1_STATUS, RunStatus, v1_status
from nextmv_tui.cloud.timefmt import format_epoch
from nextmv_tui.service.store import RunRecord

RUNTIME = "local"


def timestamp(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=timezone.utc)


def _ms(start: float | None, end: float | None) -> float:
    if start is None:
        return 0.0
    return round(max(0.0, ((end if end is not None else time.time()) - start) * 1000), 3)


def run_type_of(run: RunRecord) -> RunTypeConfiguration:
    return RunTypeConfiguration.model_validate(run.run_type or {})


def options_of(run: RunRecord) -> RunOptions:
    return RunOptions(
        request_options=dict(run.options),
        active_options=dict(run.options),
        options_summary=[
            OptionSummary(name=name, source="run", value=value)
            for name, value in run.options.items()
        ],
    )


def _durations(run: RunRecord) -> tuple[float, float]:
    """(duration, execution_duration) in ms; a tracked run's are the ones it reported."""
    if run.reported_duration is not None:
        return run.reported_duration, run.reported_duration
    return _ms(run.created_at, run.finished_at), _ms(run.started_at, run.finished_at)


MAX_METRICS = 200
"""Most keys of metrics made from legacy statistics."""


def scalar_leaves(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """``{"result": {"value": 7}}`` -> ``{"result.value": 7}``: scalar leaves only."""
    if not document:
        return None
    leaves: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if len(leaves) >= MAX_METRICS:
            return
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, (str, int, float, bool)) or value is None:
            leaves[prefix] = value

    walk("", document)
    return leaves or None


def metrics_of(run: RunRecord) -> dict[str, Any] | None:
    """The app's metrics, else its legacy statistics as dotted scalar keys."""
    return run.metrics if run.metrics is not None else scalar_leaves(run.statistics)


def metadata_of(run: RunRecord) -> Metadata:
    duration, execution_duration = _durations(run)
    return Metadata(
        application_id=run.app_id,
        application_instance_id=run.instance_id,
        application_version_id="",
        created_at=timestamp(run.created_at),
        duration=duration,
        execution_duration=execution_duration,
        initiated_at=timestamp(run.started_at) if run.started_at is not None else None,
        error=run.error,
        format=Format(
            input=FormatInput(type=run.input_format), output=FormatOutput(type=run.output_format)
        ),
        input_size=run.input_size,
        output_size=run.output_size,
        status_v2=RunStatus(run.status),
        status=v1_status(run.status),
        run_type=run_type_of(run),
        execution_class=run.execution_class,
        runtime=RUNTIME,
        options=options_of(run),
        metrics=metrics_of(run),
        queuing_priority=run.priority,
        queuing_disabled=run.queuing_disabled,
        tracking=RunTracking(cloned_run_id=run.cloned_run_id) if run.cloned_run_id else None,
        experiment_id=run.batch_experiment_id,
        secrets_collection_id=run.secrets_collection_id,
        batch_experiment_id=run.batch_experiment_id,
        status_changed_at=timestamp(run.status_changed_at),
    )


def run_information(run: RunRecord, user_email: str) -> RunInformation:
    return RunInformation(
        id=run.id,
        name=run.name,
        description=run.description,
        user_email=user_email,
        metadata=metadata_of(run),
    )


def _listing(run: RunRecord, user_email: str) -> dict[str, Any]:
    """Fields a run has in every listing (run list and account queue)."""
    return {
        "id": run.id,
        "user_email": user_email,
        "name": run.name,
        "description": run.description,
        "created_at": timestamp(run.created_at),
        "application_id": run.app_id,
        "application_instance_id": run.instance_id,
        "application_version_id": "",
        "execution_class": run.execution_class,
        "status_v2": RunStatus(run.status),
        "status": v1_status(run.status),
        "queuing_priority": run.priority,
    }


def run_summary(run: RunRecord, user_email: str) -> RunSummary:
    fields = _listing(run, user_email)
    del fields["status"]  # not a field of Cloud's run-list items (SDK ``Run``)
    return RunSummary(
        **fields,
        experiment_id=run.batch_experiment_id,
        run_type=run_type_of(run),
        runtime=RUNTIME,
        queuing_disabled=run.queuing_disabled,
        options=dict(run.options),
        request_options=dict(run.options),
        statistics=statistics_summary(run.statistics),
        batch_experiment_id=run.batch_experiment_id,
        duration=_ms(run.created_at, run.finished_at),
        execution_duration=_ms(run.started_at, run.finished_at),
        initiated_at=timestamp(run.started_at) if run.started_at is not None else None,
        status_changed_at=timestamp(run.status_changed_at),
    )


MAX_CUSTOM_INDICATORS = 10
"""``result.custom`` scalars listed as indicators, at most (the rest stay in the metadata)."""


def _scalar(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    return isinstance(value, (int, float)) and math.isfinite(value)


def statistics_summary(stats: dict[str, Any] | None) -> StatisticsSummary | None:
    """What a list item says about a run's statistics (reference §2.8): a status and
    indicators named by their path, the objective ``result.value`` first."""
    if stats is None:
        return None
    indicators: list[StatisticsIndicator] = []
    for section, keys in (("result", ("value", "duration")), ("run", ("duration", "iterations"))):
        part = stats.get(section)
        if not isinstance(part, dict):
            continue
        indicators += [
            StatisticsIndicator(name=f"{section}.{key}", value=part[key])
            for key in keys if _scalar(part.get(key))
        ]
    result = stats.get("result")
    custom = result.get("custom") if isinstance(result, dict) else None
    if isinstance(custom, dict):
        scalars = [(str(k), v) for k, v in custom.items() if _scalar(v)]
        indicators += [
            StatisticsIndicator(name=f"result.custom.{key}", value=value)
            for key, value in scalars[:MAX_CUSTOM_INDICATORS]
        ]
    return StatisticsSummary(status="success", indicators=indicators)


ISO_CACHE_GENERATION = 20_000
"""Timestamps per cache generation: two generations (at most 40,000 texts, ~5 MB) hold
every timestamp of a queue of up to 10,000 runs."""

_iso_recent: dict[float, str] = {}
_iso_older: dict[float, str] = {}


def _iso(value: float) -> str:
    """Same text as the models' datetime serialiser (RFC 3339, milliseconds, ``Z``).

    Cached: a run's timestamps never change and the queue re-sends them every poll. The
    cache has two generations: when the recent one is full it becomes the older one and the
    previous older one is dropped, so timestamps still in the queue stay cached while those of
    runs long gone are forgotten. (A single cache cleared at 200,000 entries grew by every
    run's timestamps for hours: the slow RSS growth under churn.)
    """
    global _iso_recent, _iso_older
    text = _iso_recent.get(value)
    if text is None:
        text = _iso_older.get(value) or format_epoch(value)
        if len(_iso_recent) >= ISO_CACHE_GENERATION:
            _iso_older, _iso_recent = _iso_recent, {}
        _iso_recent[value] = text
    return text


def queue_entries(rows: list[tuple[Any, ...]], user_email: str) -> list[dict[str, Any]]:
    """``QueuedRun.to_wire()`` for many runs, without building a model per run.

    The queue is polled every few seconds and can hold 10,000 runs; building and dumping a
    pydantic model per run costs ~25 us each. tests/service/test_wire.py checks that every
    entry equals ``QueuedRun.model_validate(entry).to_wire()``, so the model stays the
    definition of the shape.
    """
    return [
        {
            "id": run_id,
            "user_email": user_email,
            "name": name,
            "description": description,
            "created_at": _iso(created_at),
            "application_id": app_id,
            "application_instance_id": instance_id,
            "application_version_id": "",
            "execution_class": execution_class,
            "status_v2": status,
            "status": V1_STATUS.get(status, "running"),
            "queuing_priority": priority,
            "status_changed_at": _iso(changed_at),
        }
        for (run_id, app_id, instance_id, name, description, status, created_at, changed_at,
             execution_class, priority) in rows
    ]


def queued_run(run: RunRecord, user_email: str) -> QueuedRun:
    """The queue entry as a model: the definition ``queue_entries`` is checked against."""
    return QueuedRun(
        **_listing(run, user_email), status_changed_at=timestamp(run.status_changed_at)
    )
