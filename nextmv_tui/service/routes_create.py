"""Routes that bring input in: upload URLs, the presigned PUT, and run creation.

Uploads are streamed to disk (a 500 MB upload is never held in memory) and hard-linked into
the run directory; a new run is validated, stored and queued synchronously, so 1,000
concurrent creates give exactly 1,000 runs.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from nextmv_tui.cloud.models import (
    OUTPUT_FOR_INPUT,
    CreateRunRequest,
    CreateRunResponse,
    UploadURL,
)
from nextmv_tui.service import payloads
from nextmv_tui.service.api import (
    ApiProblem,
    Service,
    get_app,
    parse_object,
    read_body,
    service_of,
    validation_message,
)
from nextmv_tui.service.settings import DEFAULT_CLASS
from nextmv_tui.service.store import RunRecord, UploadRecord

UPLOAD_RETENTION = 24 * 3600
"""Uploads are forgotten a day after their URL expired (run inputs are hard links)."""


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


def create_run_routes(router: APIRouter) -> None:
    @router.post("/v1/applications/{app_id}/runs/uploadurl")
    async def upload_url(request: Request, app_id: str) -> dict[str, Any]:
        service = service_of(request)
        get_app(service, app_id)
        now = time.time()
        for stale in service.store.prune_uploads(now - UPLOAD_RETENTION):
            payloads.remove_quietly(service.settings.uploads_dir / stale)
        upload = UploadRecord(
            id=payloads.new_id("upload-", 16),
            app_id=app_id,
            token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + service.settings.upload_ttl,
            size=None,
        )
        service.store.create_upload(upload)
        base = str(request.base_url).rstrip("/")
        url = f"{base}/uploads/{upload.id}?token={upload.token}"
        return UploadURL(upload_id=upload.id, upload_url=url).to_wire()

    @router.post("/v1/applications/{app_id}/runs")
    async def create_run(
        request: Request, app_id: str, instance_id: str | None = None
    ) -> dict[str, Any]:
        service = service_of(request)
        get_app(service, app_id)
        limit = 2 * service.settings.max_inline_bytes + 1024 * 1024
        raw = parse_object(await read_body(request, limit, "request body"), "request body")
        run = _new_run(service, app_id, instance_id, raw)
        service.scheduler.dispatch()
        return CreateRunResponse(run_id=run.id).to_wire()


def _new_run(
    service: Service, app_id: str, instance_id: str | None, raw: dict[str, Any]
) -> RunRecord:
    """Validate a create-run body, store its input and queue the run (all synchronous)."""
    settings = service.settings
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
    if body.input_id:
        raise ApiProblem(400, "input_id (managed inputs) is not supported by the local service")
    if inline is not None and body.upload_id:
        raise ApiProblem(400, "give either input or upload_id, not both")
    if inline is None and not body.upload_id:
        raise ApiProblem(400, "no input: give input (a JSON object) or upload_id")

    config = body.configuration
    class_name = config.execution_class or DEFAULT_CLASS
    if class_name not in settings.execution_classes:
        raise ApiProblem(
            400,
            f"unknown execution class {class_name!r}; known: "
            + ", ".join(sorted(settings.execution_classes)),
        )
    queuing = config.queuing
    priority = queuing.priority if queuing and queuing.priority is not None else 6
    disabled = bool(queuing and queuing.disabled)
    if disabled and service.scheduler.class_is_full(class_name):
        raise ApiProblem(
            429,
            f"execution class {class_name!r} is full and queuing is disabled for this run; "
            "retry later or enable queuing",
            {"Retry-After": "5"},
        )
    raw_config = raw.get("configuration")
    raw_format = raw_config.get("format") if isinstance(raw_config, dict) else None
    input_type = _format_type(raw_format, "input")
    output_type = _format_type(raw_format, "output")

    run_id = payloads.new_id("run-")
    run_dir = settings.runs_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    try:
        if inline is not None:
            data = json.dumps(inline, separators=(",", ":")).encode()
            if len(data) > settings.max_inline_bytes:
                raise ApiProblem(
                    413,
                    f"inline input is {len(data)} bytes, over the {settings.max_inline_bytes}-byte "
                    "limit; upload it with POST .../runs/uploadurl and create the run with "
                    "upload_id",
                )
            input_type = input_type or "json"
            input_file = payloads.input_file_name(input_type, gzipped=False)
            (run_dir / input_file).write_bytes(data)
        else:
            input_type, input_file = _take_upload(service, app_id, str(body.upload_id),
                                                  run_dir, input_type)
    except BaseException:
        payloads.remove_quietly(run_dir)
        raise
    now = time.time()
    run_type = config.run_type.to_wire() if config.run_type else {"type": "standard"}
    run = RunRecord(
        id=run_id,
        app_id=app_id,
        status="queued",
        created_at=now,
        status_changed_at=now,
        input_format=input_type,
        output_format=output_type or OUTPUT_FOR_INPUT.get(input_type, "json"),
        input_file=input_file,
        input_size=(run_dir / input_file).stat().st_size,
        execution_class=class_name,
        instance_id=instance_id or "latest",
        name=body.name or "",
        description=body.description or "",
        priority=priority,
        queuing_disabled=disabled,
        options=dict(body.options or {}),
        run_type={"definition_id": "", "reference_id": "", **run_type},
        batch_experiment_id=body.batch_experiment_id,
        cloned_run_id=body.tracking.cloned_run_id if body.tracking else None,
    )
    service.store.insert_run(run)
    return run


def _take_upload(
    service: Service, app_id: str, upload_id: str, run_dir: Path, input_type: str | None
) -> tuple[str, str]:
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
    if input_type == "multi-file" and not gzipped:
        raise ApiProblem(
            400, f"upload {upload_id!r}: multi-file input must be a gzip-compressed tar (.tar.gz)"
        )
    input_file = payloads.input_file_name(input_type, gzipped)
    payloads.link_or_copy(source, run_dir / input_file)
    return input_type, input_file


def presigned_routes(app: FastAPI) -> None:
    @app.put("/uploads/{upload_id}")
    async def put_upload(request: Request, upload_id: str, token: str = "") -> Response:
        service = service_of(request)
        upload = service.store.get_upload(upload_id)
        if upload is None:
            raise ApiProblem(404, f"upload {upload_id!r} not found")
        if not hmac.compare_digest(token.encode(), upload.token.encode()):
            raise ApiProblem(403, "invalid upload token")
        if upload.expires_at < time.time():
            raise ApiProblem(403, "upload URL expired (valid 15 minutes); request a new one")
        declared = request.headers.get("content-length")
        if "chunked" in request.headers.get("transfer-encoding", "").lower() or not declared:
            raise ApiProblem(501, "chunked uploads are not supported: send Content-Length")
        if not declared.isdigit():
            raise ApiProblem(400, f"invalid Content-Length {declared!r}")
        limit = service.settings.max_upload_bytes
        if int(declared) > limit:
            raise ApiProblem(413, f"upload is {declared} bytes, over the {limit}-byte limit")
        await _stream_to_file(request, service.settings.uploads_dir / upload.id, limit)
        size = (service.settings.uploads_dir / upload.id).stat().st_size
        service.store.complete_upload(upload.id, size)
        return Response(status_code=200)

    @app.get("/downloads/{token}")
    async def download(request: Request, token: str) -> Response:
        entry = service_of(request).presigner.resolve(token)
        if entry is None or not entry.path.exists():
            raise ApiProblem(404, "download URL unknown or expired; request a new one")
        return FileResponse(entry.path, media_type=entry.media_type)


async def _stream_to_file(request: Request, dest: Path, limit: int) -> None:
    """Write the body to ``dest`` chunk by chunk (never all in memory); atomic rename."""
    part = dest.with_name(f"{dest.name}.{secrets.token_hex(4)}.part")
    total = 0
    try:
        with part.open("wb") as handle:
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit:
                    raise ApiProblem(413, f"upload is over the {limit}-byte limit")
                handle.write(chunk)
    except ClientDisconnect:
        payloads.remove_quietly(part)
        raise ApiProblem(400, f"upload interrupted after {total} bytes; PUT it again") from None
    except BaseException:
        payloads.remove_quietly(part)
        raise
    part.replace(dest)


