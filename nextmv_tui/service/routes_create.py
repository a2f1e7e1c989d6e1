"""Run creation (reference §2.3): validate the body, store the input, queue the run.

A new run is validated, stored and queued on the event loop without an ``await``, so 1,000
concurrent creates give exactly 1,000 runs (a tracked run's uploads are stored on a worker
thread: they are not queued, so nothing can race them). The steps, in order:
``_check_request`` (the body, ``_refuse_unsupported`` for what the service does not
implement, the execution class, queuing, the requested formats), ``_store_input`` (inline
JSON or an upload, into a fresh run dir), for a tracked run ``tracked.record`` (its outcome,
never executed), ``_record`` (the stored run).

Recorded only, never refused: ``instance_id`` (any value: the service has one version of each
app's code; SDK 0.13.1 sends ``devint`` by default), ``batch_experiment_id`` and
``configuration.secrets_collection_id`` (secrets are not injected into the app).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from nextmv_tui.cloud.models import OUTPUT_FOR_INPUT, CreateRunRequest, CreateRunResponse
from nextmv_tui.service import payloads, tracked
from nextmv_tui.service.api import ApiProblem, parse_object, read_body, validation_message
from nextmv_tui.service.deps import ApplicationDep, Service, ServiceDep, check_path_id
from nextmv_tui.service.manifest import FILE_FORMATS, AppManifest
from nextmv_tui.service.openapi import answers
from nextmv_tui.service.settings import DEFAULT_CLASS, ServiceSettings
from nextmv_tui.service.store import AppRecord, RunRecord

RUN_TYPES = ("standard", "external")
"""Run types the service implements; ``external`` is a tracked run (needs ``result``)."""

router = APIRouter()


@router.post(
    "/v1/applications/{app_id}/runs",
    responses=answers(CreateRunResponse, 400, 404, 413, 429, 507),
)
async def create_run(
    request: Request, app: ApplicationDep, service: ServiceDep, instance_id: str | None = None
) -> dict[str, Any]:
    if instance_id is not None:
        check_path_id("instance ID", instance_id)
    # Clients may send the input ASCII-escaped (Python's json and requests do: "é" is six
    # bytes): the body may be 3x the inline limit; the limit itself counts UTF-8 bytes.
    limit = 3 * service.settings.max_inline_bytes + 1024 * 1024
    body = await read_body(request, limit, "request body")
    raw = await run_in_threadpool(parse_object, body, "request body")
    run = await new_run(service, app, instance_id, raw)
    if run.status == "queued":
        service.scheduler.dispatch()
    return CreateRunResponse(run_id=run.id).to_wire()


@dataclass(frozen=True)
class _Checked:
    """A create-run body that passed every check, with what it asks for resolved."""

    body: CreateRunRequest
    inline: dict[str, Any] | None
    execution_class: str
    pool: str
    priority: int
    queuing_disabled: bool
    input_type: str | None
    output_type: str | None


async def new_run(
    service: Service, app: AppRecord, instance_id: str | None, raw: dict[str, Any]
) -> RunRecord:
    """Validate a create-run body, store its input and queue the run, or record a tracked
    run's outcome.

    A standard run is handled without a single ``await`` (exact counts under concurrency); a
    tracked run's uploads (logs can be large) are stored on a worker thread."""
    manifest = service.manifests.get(app.id)
    checked = _check_request(service, raw)
    run_id = payloads.new_id("run-")
    run_dir = service.settings.runs_dir / run_id
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=False)
    result = checked.body.result
    try:
        input_type, input_file = _store_input(service, app.id, checked, run_dir, manifest)
        output_type = checked.output_type or _default_output(input_type, manifest)
        outcome = None
        if result is not None:
            outcome = await asyncio.to_thread(
                tracked.record, service, app.id, result, checked.output_type, run_dir
            )
        size = (run_dir / input_file).stat().st_size
        run = _record(
            run_id, app.id, instance_id or app.default_instance, checked,
            (input_type, input_file, size), output_type,
        )
        if outcome is not None:
            _conclude_tracked(run, outcome)
        service.store.insert_run(run)
    except BaseException:  # e.g. disk full (507): no half-created run is left behind
        payloads.remove_quietly(run_dir)
        raise
    return run


def _default_output(input_type: str, manifest: AppManifest | None) -> str:
    """No output format asked for: a file-based app's own, else the SDK's mirror rule."""
    if manifest is not None and manifest.content_format in FILE_FORMATS:
        return manifest.content_format
    return OUTPUT_FOR_INPUT.get(input_type, "json")


def _conclude_tracked(run: RunRecord, outcome: tracked.TrackedOutcome) -> None:
    """A tracked run is stored final, with what its caller reported."""
    run.status = outcome.status
    run.error = outcome.error
    run.started_at = run.finished_at = run.created_at
    run.reported_duration = outcome.duration_ms
    run.output_file = outcome.output_file
    run.output_format = outcome.output_format
    run.output_size = outcome.output_size
    run.statistics = outcome.statistics
    run.metrics = outcome.metrics
    run.run_type = {**run.run_type, "type": "external"}


def _refuse_unsupported(body: CreateRunRequest) -> None:
    """Every field or run type the service does not implement: 400 naming the feature.

    400, not 501: the official CLI shows the body of a 400 and hides that of a 5xx."""
    config = body.configuration
    local = "not supported by the local service"
    if body.input_id:
        raise ApiProblem(400, f"managed inputs (input_id) are {local}: send the input itself "
                              "(input or upload_id)")
    if config.integration_id or config.execution_class == "integration":
        raise ApiProblem(400, f"integrations (configuration.integration_id) are {local}: runs "
                              "execute on this machine")
    run_type = config.run_type
    kind = run_type.type if run_type else "standard"
    if kind == "ensemble":
        raise ApiProblem(400, f"ensemble runs (configuration.run_type.type 'ensemble') are "
                              f"{local}")
    if kind == "ensemble-child":
        raise ApiProblem(400, f"ensemble child runs (configuration.run_type.type "
                              f"'ensemble-child') are {local}")
    if kind not in RUN_TYPES:
        raise ApiProblem(400, f"configuration.run_type.type {kind!r} is not one of "
                              + ", ".join(RUN_TYPES))
    if kind == "external" and body.result is None:
        raise ApiProblem(400, "run type 'external' is a tracked run: send its outcome in "
                              "result (the SDK's Application.track_run does)")
    if body.result is not None:
        tracked.refuse_unsupported(body.result)


def _check_request(service: Service, raw: dict[str, Any]) -> _Checked:
    inline = raw.get("input")
    if inline is not None and not isinstance(inline, dict):
        raise ApiProblem(
            400,
            f"input must be a JSON object, got {type(inline).__name__}; send other inputs "
            "through POST .../runs/uploadurl and upload_id",
        )
    try:
        body = CreateRunRequest.model_validate(raw)
    except ValidationError as exc:
        raise ApiProblem(400, validation_message(exc, "invalid run request")) from None
    _refuse_unsupported(body)
    if inline is not None and body.upload_id:
        raise ApiProblem(400, "give either input or upload_id, not both")
    if inline is None and not body.upload_id:
        raise ApiProblem(400, "no input: give input (a JSON object) or upload_id")
    class_name, pool, priority, disabled = _queuing(service, body)
    raw_config = raw.get("configuration")
    raw_format = raw_config.get("format") if isinstance(raw_config, dict) else None
    return _Checked(
        body=body,
        inline=inline,
        execution_class=class_name,
        pool=pool,
        priority=priority,
        queuing_disabled=disabled,
        input_type=_format_type(raw_format, "input"),
        output_type=_format_type(raw_format, "output"),
    )


def _queuing(service: Service, body: CreateRunRequest) -> tuple[str, str, int, bool]:
    """Requested execution class, its pool, priority and ``queuing.disabled``; 429 if that
    run could not queue."""
    settings = service.settings
    class_name = body.configuration.execution_class or DEFAULT_CLASS
    pool = settings.pool_for(class_name)
    if pool is None:
        patterns = [pattern for pattern, _ in settings.class_map]
        raise ApiProblem(
            400,
            f"unknown execution class {class_name!r}; this service runs "
            + ", ".join(sorted(settings.execution_classes) + patterns)
            + " and Cloud-style names (cores c memory gb|mb [duration], e.g. 6c9gb, 8c16gb12h)",
        )
    queuing = body.configuration.queuing
    priority = queuing.priority if queuing and queuing.priority is not None else 6
    disabled = bool(queuing and queuing.disabled)
    if disabled and body.result is None and service.scheduler.class_is_full(pool):
        raise ApiProblem(
            429,
            f"execution class {class_name!r} is full and queuing is disabled for this run; "
            "retry later or enable queuing",
            {"Retry-After": "5"},
        )
    return class_name, pool, priority, disabled


def _format_type(raw: Any, field: str) -> str | None:
    """``configuration.format.<field>.type`` as sent, validated; None when absent."""
    if not isinstance(raw, dict):
        return None
    part = raw.get(field)
    if part is None:
        return None
    kind = part.get("type") if isinstance(part, dict) else None
    if kind is None:
        return None
    if kind not in payloads.INPUT_TYPES:
        raise ApiProblem(
            400,
            f"configuration.format.{field}.type {kind!r} is not one of "
            + ", ".join(payloads.INPUT_TYPES),
        )
    return str(kind)


def _store_input(
    service: Service, app_id: str, checked: _Checked, run_dir: Path,
    manifest: AppManifest | None,
) -> tuple[str, str]:
    """The run's input file in ``run_dir``: (input format, file name)."""
    if checked.inline is not None:
        return _write_inline(service.settings, checked.inline, run_dir, checked.input_type)
    upload_id = check_path_id("upload_id", str(checked.body.upload_id))
    csv_app = manifest is not None and manifest.content_format == "csv-archive"
    archive = "csv-archive" if csv_app else "multi-file"
    return _take_upload(service, app_id, upload_id, run_dir, checked.input_type, archive)


def _write_inline(
    settings: ServiceSettings, inline: dict[str, Any], run_dir: Path, input_type: str | None
) -> tuple[str, str]:
    data = json.dumps(inline, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )
    if len(data) > settings.max_inline_bytes:
        raise ApiProblem(
            413,
            f"inline input is {len(data)} bytes, over the {settings.max_inline_bytes}-byte "
            "limit; upload it with POST .../runs/uploadurl and create the run with upload_id",
        )
    input_type = input_type or "json"
    input_file = payloads.input_file_name(input_type, gzipped=False)
    fd = os.open(run_dir / input_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return input_type, input_file


def _take_upload(
    service: Service, app_id: str, upload_id: str, run_dir: Path, input_type: str | None,
    archive: str = "multi-file",
) -> tuple[str, str]:
    """A finished upload linked into ``run_dir``; an archive sent without a format is taken
    as ``archive`` (the app's own file-based format)."""
    upload = service.store.get_upload(upload_id)
    if upload is None or upload.app_id != app_id:
        raise ApiProblem(404, f"upload {upload_id!r} not found in application {app_id!r}")
    source = service.settings.uploads_dir / upload.id
    if upload.size is None or not source.exists():
        raise ApiProblem(
            400, f"upload {upload_id!r} has no data yet: PUT the input to its upload_url first"
        )
    gzipped = payloads.is_gzip(source)
    if input_type is None:
        input_type = payloads.sniff_format(source, service.settings.max_inline_bytes)
        if input_type == "multi-file":
            input_type = archive
    if input_type == "multi-file" and not gzipped:
        raise ApiProblem(
            400, f"upload {upload_id!r}: multi-file input must be a gzip-compressed tar (.tar.gz)"
        )
    input_file = payloads.input_file_name(input_type, gzipped)
    payloads.link_or_copy(source, run_dir / input_file)
    return input_type, input_file


def _record(
    run_id: str,
    app_id: str,
    instance_id: str,
    checked: _Checked,
    stored_input: tuple[str, str, int],
    output_type: str,
) -> RunRecord:
    """The queued run as stored; ``stored_input`` is (format, file name, size)."""
    body, config = checked.body, checked.body.configuration
    input_type, input_file, input_size = stored_input
    run_type = config.run_type.to_wire() if config.run_type else {"type": "standard"}
    now = time.time()
    return RunRecord(
        id=run_id,
        app_id=app_id,
        status="queued",
        created_at=now,
        status_changed_at=now,
        input_format=input_type,
        output_format=output_type,
        input_file=input_file,
        input_size=input_size,
        execution_class=checked.execution_class,
        pool=checked.pool,
        instance_id=instance_id,
        name=body.name or "",
        description=body.description or "",
        priority=checked.priority,
        queuing_disabled=checked.queuing_disabled,
        options=dict(body.options or {}),
        run_type={"definition_id": "", "reference_id": "", **run_type},
        batch_experiment_id=body.batch_experiment_id,
        cloned_run_id=body.tracking.cloned_run_id if body.tracking else None,
        secrets_collection_id=config.secrets_collection_id,
    )
