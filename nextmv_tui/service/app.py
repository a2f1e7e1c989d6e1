"""FastAPI factory of the local Nextmv-compatible run service (routes of reference §2).

``create_app(settings)`` wires store, scheduler and routes. Errors are always JSON
``{"error": "..."}`` with a status the SDK/CLI understands; bad input gives 4xx, never 500.
Bearer auth guards every ``/v1`` route; ``/healthz`` and the presigned ``/uploads`` and
``/downloads`` URLs carry no key (the URLs hold an unguessable, expiring token instead).
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from nextmv_tui.cloud.models import (
    OUTPUT_FOR_INPUT,
    Application,
    CreateApplicationRequest,
    CreateRunRequest,
    CreateRunResponse,
    DownloadURL,
    LiveLogItem,
    LiveLogs,
    RunList,
    RunLog,
    RunResult,
    UploadURL,
)
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.service import manifest as manifest_module
from nextmv_tui.service import payloads, wire
from nextmv_tui.service.manifest import AppManifest
from nextmv_tui.service.scheduler import Scheduler, StartRun
from nextmv_tui.service.settings import DEFAULT_CLASS, ServiceSettings
from nextmv_tui.service.store import RunRecord, Store, UploadRecord

log = logging.getLogger(__name__)

JSON_MEDIA = "application/json"
TAR_MEDIA = "application/gzip"
LIVE_LOG_CHUNK = 1024 * 1024
UPLOAD_RETENTION = 24 * 3600


class ApiProblem(Exception):
    """Raised by handlers; becomes ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


@dataclass
class Service:
    """Everything a request handler needs, stored on ``app.state.service``."""

    settings: ServiceSettings
    api_key: str
    store: Store
    scheduler: Scheduler
    presigner: payloads.Presigner
    manifests: dict[str, AppManifest]


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def _require_key(request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    expected = _service(request).api_key
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        reason = "missing" if not header else "wrong"
        where = _service(request).settings.api_key_path
        raise ApiProblem(
            401,
            f"{reason} API key: send 'Authorization: Bearer <key>' with the key of this local "
            f"service (kept in {where} unless --api-key was given)",
            {"WWW-Authenticate": "Bearer"},
        )


# --- helpers -----------------------------------------------------------------------------


def _get_app(service: Service, app_id: str) -> None:
    if service.store.get_application(app_id) is None:
        raise ApiProblem(404, f"application {app_id!r} not found")


def _get_run(service: Service, app_id: str, run_id: str) -> RunRecord:
    run = service.store.get_run(run_id)
    if run is None or run.app_id != app_id:
        raise ApiProblem(404, f"run {run_id!r} not found in application {app_id!r}")
    return run


def _run_dir(service: Service, run: RunRecord) -> Path:
    return service.settings.runs_dir / run.id


def _download_url(request: Request, service: Service, path: Path, media_type: str) -> str:
    token = service.presigner.issue(path, media_type)
    return f"{str(request.base_url).rstrip('/')}/downloads/{token}"


async def _read_body(request: Request, limit: int, what: str) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiProblem(413, f"{what} is {int(declared)} bytes, over the {limit}-byte limit")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise ApiProblem(413, f"{what} is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_object(body: bytes, what: str) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiProblem(400, f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _validation_message(exc: ValidationError | RequestValidationError, what: str) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "body"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return f"{what}: " + "; ".join(problems)


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


# --- route groups ----------------------------------------------------------------------


def _application_routes(router: APIRouter) -> None:
    @router.get("/v1/applications")
    async def list_applications(request: Request) -> dict[str, Any]:
        apps = _service(request).store.list_applications()
        return {"items": [_app_wire(app.id, app.name, app.description, app.created_at,
                                    app.updated_at) for app in apps]}

    @router.get("/v1/applications/{app_id}")
    async def get_application(request: Request, app_id: str) -> dict[str, Any]:
        app = _service(request).store.get_application(app_id)
        if app is None:
            raise ApiProblem(404, f"application {app_id!r} not found")
        return _app_wire(app.id, app.name, app.description, app.created_at, app.updated_at)

    @router.post("/v1/applications")
    async def create_application(request: Request) -> JSONResponse:
        service = _service(request)
        raw = _parse_object(await _read_body(request, 1024 * 1024, "request body"), "body")
        try:
            body = CreateApplicationRequest.model_validate(raw)
        except ValidationError as exc:
            raise ApiProblem(400, _validation_message(exc, "invalid application")) from None
        app_id = body.id or body.name
        if not app_id or any(ch in app_id for ch in "/?#% ") or len(app_id) > 128:
            raise ApiProblem(400, f"application id {app_id!r} must be 1-128 URL-safe characters")
        if not service.store.create_application(app_id, body.name, body.description or ""):
            raise ApiProblem(409, f"application {app_id!r} already exists")
        app = service.store.get_application(app_id)
        assert app is not None
        return JSONResponse(
            _app_wire(app.id, app.name, app.description, app.created_at, app.updated_at),
            status_code=201,
        )


def _app_wire(
    app_id: str, name: str, description: str, created: float, updated: float
) -> dict[str, Any]:
    return Application(
        id=app_id,
        name=name,
        description=description,
        default_instance_id="latest",
        created_at=wire.timestamp(created),
        updated_at=wire.timestamp(updated),
    ).to_wire()


def _create_run_routes(router: APIRouter) -> None:
    @router.post("/v1/applications/{app_id}/runs/uploadurl")
    async def upload_url(request: Request, app_id: str) -> dict[str, Any]:
        service = _service(request)
        _get_app(service, app_id)
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
        service = _service(request)
        _get_app(service, app_id)
        limit = 2 * service.settings.max_inline_bytes + 1024 * 1024
        raw = _parse_object(await _read_body(request, limit, "request body"), "request body")
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
        raise ApiProblem(400, _validation_message(exc, "invalid run request")) from None
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


def _presigned_routes(app: FastAPI) -> None:
    @app.put("/uploads/{upload_id}")
    async def put_upload(request: Request, upload_id: str, token: str = "") -> Response:
        service = _service(request)
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
        entry = _service(request).presigner.resolve(token)
        if entry is None or not entry.path.exists():
            raise ApiProblem(404, "download URL unknown or expired; request a new one")
        return FileResponse(entry.path, media_type=entry.media_type)


async def _stream_to_file(request: Request, dest: Path, limit: int) -> None:
    """Write the body to ``dest`` chunk by chunk (never all in memory); atomic rename."""
    part = dest.with_name(dest.name + ".part")
    total = 0
    try:
        with part.open("wb") as handle:
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit:
                    raise ApiProblem(413, f"upload is over the {limit}-byte limit")
                handle.write(chunk)
    except BaseException:
        payloads.remove_quietly(part)
        raise
    part.replace(dest)


def _run_routes(router: APIRouter) -> None:
    prefix = "/v1/applications/{app_id}/runs"

    @router.get(prefix)
    async def list_runs(
        request: Request,
        app_id: str,
        pagereturn: str | None = None,
        pagetoken: str | None = None,
    ) -> dict[str, Any]:
        service = _service(request)
        _get_app(service, app_id)
        before: int | None = None
        if pagetoken:
            if not pagetoken.isdigit():
                raise ApiProblem(400, f"invalid pagetoken {pagetoken!r}")
            before = int(pagetoken)
        paged = (pagereturn or "").lower() == "true"
        size = service.settings.page_size
        runs = service.store.list_runs(app_id, before, size + 1 if paged else None)
        token = None
        if paged and len(runs) > size:
            runs = runs[:size]
            token = str(runs[-1].seq)
        email = service.settings.user_email
        return RunList(
            runs=[wire.run_summary(run, email) for run in runs], next_page_token=token
        ).to_wire()

    @router.get(prefix + "/{run_id}/metadata")
    async def metadata(request: Request, app_id: str, run_id: str) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        return wire.run_information(run, service.settings.user_email).to_wire()

    @router.get(prefix + "/{run_id}")
    async def result(
        request: Request, app_id: str, run_id: str, format: str | None = None
    ) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        info = wire.run_information(run, service.settings.user_email)
        output: dict[str, Any] | None = None
        limit = service.settings.max_inline_bytes
        out_path = _output_path(service, run)
        if out_path is not None:
            if format == "url":
                output = {"url": _output_url(request, service, run, out_path)}
            elif run.output_format == "json" and run.output_size <= limit:
                output = _json_object(out_path)
        error_log = {"error": run.error} if run.status == "failed" else None
        body = RunResult.model_validate(
            {**info.model_dump(), "output": output, "error_log": error_log}
        ).to_wire()
        body.setdefault("output", None)  # explicit null: "no output (yet)"
        return body

    @router.get(prefix + "/{run_id}/output")
    async def output(
        request: Request, app_id: str, run_id: str, format: str | None = None
    ) -> Response:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        out_path = _output_path(service, run)
        if out_path is None:
            detail = f": {run.error}" if run.error else ""
            raise ApiProblem(404, f"run {run_id!r} has no output (status {run.status}){detail}")
        if format == "url":
            url = _output_url(request, service, run, out_path)
            return JSONResponse(DownloadURL(url=url).to_wire())
        if run.output_format == "json" and out_path.suffix == ".json":
            return FileResponse(out_path, media_type=JSON_MEDIA)
        if out_path.suffix == ".txt":
            return JSONResponse(payloads.read_text(out_path))
        raise ApiProblem(400, f"run {run_id!r} has {run.output_format} output: use format=url")

    @router.get(prefix + "/{run_id}/input")
    async def run_input(
        request: Request, app_id: str, run_id: str, format: str | None = None
    ) -> Response:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        path = _run_dir(service, run) / run.input_file
        if not path.exists():
            raise ApiProblem(404, f"input of run {run_id!r} is missing from the data dir")
        if format == "url":
            if path.suffix == ".json":
                url = _download_url(request, service, path, JSON_MEDIA)
            elif path.suffix == ".txt":
                tar = payloads.tar_single_file(
                    path, "input.txt", path.with_name("input.txt.tar.gz")
                )
                url = _download_url(request, service, tar, TAR_MEDIA)
            else:
                url = _download_url(request, service, path, TAR_MEDIA)
            return JSONResponse(DownloadURL(url=url).to_wire())
        if path.suffix == ".json":
            return FileResponse(path, media_type=JSON_MEDIA)
        if path.suffix == ".txt":
            # The SDK calls .json() on this response: a JSON string keeps the CLI working.
            return JSONResponse(payloads.read_text(path))
        raise ApiProblem(400, f"run {run_id!r} has {run.input_format} input: use format=url")

    @router.get(prefix + "/{run_id}/logs")
    async def logs(request: Request, app_id: str, run_id: str) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        text = payloads.read_full_log(_run_dir(service, run) / "logs.jsonl")
        return RunLog(log=text).to_wire()

    @router.get(prefix + "/{run_id}/logs/live")
    async def live_logs(
        request: Request, app_id: str, run_id: str, since: str | None = None
    ) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)  # status first: a final status means a final log
        offset = 0
        if since:
            if not since.isdigit():
                raise ApiProblem(400, f"invalid since token {since!r}")
            offset = int(since)
        final = RunStatus(run.status).is_final
        entries, next_offset = payloads.read_log_since(
            _run_dir(service, run) / "logs.jsonl", offset, None if final else LIVE_LOG_CHUNK
        )
        items = []
        for entry in entries:
            try:
                items.append(LiveLogItem.model_validate(entry))
            except ValidationError:
                continue
        return LiveLogs(
            items=items,
            status_v2=RunStatus(run.status),
            next_available_in_seconds=1.0,
            next_page_token=str(next_offset),
        ).to_wire()

    @router.patch(prefix + "/{run_id}/cancel")
    async def cancel(request: Request, app_id: str, run_id: str) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        if not RunStatus(run.status).is_cancelable or not await service.scheduler.cancel(run.id):
            current = service.store.get_run(run.id)
            status = current.status if current else run.status
            raise ApiProblem(
                409, f"run {run_id!r} is already {status}; only queued or running runs can be "
                "canceled"
            )
        current = service.store.get_run(run.id)
        return {"id": run.id, "status_v2": current.status if current else "canceled"}

    @router.delete(prefix + "/{run_id}")
    async def delete(request: Request, app_id: str, run_id: str) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        if RunStatus(run.status).is_cancelable:
            await service.scheduler.cancel(run.id)
        service.store.delete_run(run.id)
        payloads.remove_quietly(_run_dir(service, run))
        return {}


def _output_path(service: Service, run: RunRecord) -> Path | None:
    if not run.output_file:
        return None
    path = _run_dir(service, run) / run.output_file
    return path if path.exists() else None


def _output_url(request: Request, service: Service, run: RunRecord, path: Path) -> str:
    if path.suffix == ".json" and run.output_format == "json":
        return _download_url(request, service, path, JSON_MEDIA)
    if path.suffix == ".txt" or (path.suffix == ".json"):
        tar = payloads.tar_single_file(path, path.name, path.with_name(path.name + ".tar.gz"))
        return _download_url(request, service, tar, TAR_MEDIA)
    return _download_url(request, service, path, TAR_MEDIA)


def _json_object(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _queue_routes(router: APIRouter) -> None:
    @router.get("/v1/account/queue")
    async def queue(request: Request) -> Response:
        service = _service(request)
        email = service.settings.user_email
        return JSONResponse({"runs": wire.queue_entries(service.store.active_rows(), email)})


# --- factory -----------------------------------------------------------------------------


def load_manifests(settings: ServiceSettings) -> dict[str, AppManifest]:
    """Bundled apps plus ``--app`` folders, by app ID.

    A broken ``--app`` folder raises ``ValueError`` (the user must fix it); a bundled app that
    fails to load is skipped with a warning so the service still starts.
    """
    found: dict[str, AppManifest] = {}
    if settings.bundled_apps:
        for name in ("knapsack", "routing"):
            try:
                item = manifest_module.load_manifest(manifest_module.bundled_app_dir(name), name)
            except ValueError as exc:
                log.warning("bundled app %s skipped: %s", name, exc)
                continue
            found[item.app_id] = item
    for app_dir in settings.app_dirs:
        item = manifest_module.load_manifest(Path(app_dir))
        found[item.app_id] = item
    return found


def create_application(request: Request) -> JSONResponse:
        service = _service(request)
        raw = _parse_object(await _read_body(request, 1024 * 1024, "request body"), "body")
        try:
            body = CreateApplicationRequest.model_validate(raw)
        except ValidationError as exc:
            raise ApiProblem(400, _validation_message(exc, "invalid application")) from None
        app_id = body.id or body.name
        if not app_id or any(ch in app_id for ch in "/?#% ") or len(app_id) > 128:
            raise ApiProblem(400, f"application id {app_id!r} must be 1-128 URL-safe characters")
        if not service.store.create_application(app_id, body.name, body.description or ""):
            raise ApiProblem(409, f"application {app_id!r} already exists")
        app = service.store.get_application(app_id)
        assert app is not None
        return JSONResponse(
            _app_wire(app.id, app.name, app.description, app.created_at, app.updated_at),
            status_code=201,
        )


def _app_wire(
    app_id: str, name: str, description: str, created: float, updated: float
) -> dict[str, Any]:
    return Application(
        id=app_id,
        name=name,
        description=description,
        default_instance_id="latest",
        created_at=wire.timestamp(created),
        updated_at=wire.timestamp(updated),
    ).to_wire()


def _create_run_routes(router: APIRouter) -> None:
    @router.post("/v1/applications/{app_id}/runs/uploadurl")
    async def upload_url(request: Request, app_id: str) -> dict[str, Any]:
        service = _service(request)
        _get_app(service, app_id)
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
        service = _service(request)
        _get_app(service, app_id)
        limit = 2 * service.settings.max_inline_bytes + 1024 * 1024
        raw = _parse_object(await _read_body(request, limit, "request body"), "request body")
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
        raise ApiProblem(400, _validation_message(exc, "invalid run request")) from None
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


def _presigned_routes(app: FastAPI) -> None:
    @app.put("/uploads/{upload_id}")
    async def put_upload(request: Request, upload_id: str, token: str = "") -> Response:
        service = _service(request)
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
        entry = _service(request).presigner.resolve(token)
        if entry is None or not entry.path.exists():
            raise ApiProblem(404, "download URL unknown or expired; request a new one")
        return FileResponse(entry.path, media_type=entry.media_type)


async def _stream_to_file(request: Request, dest: Path, limit: int) -> None:
    """Write the body to ``dest`` chunk by chunk (never all in memory); atomic rename."""
    part = dest.with_name(dest.name + ".part")
    total = 0
    try:
        with part.open("wb") as handle:
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit:
                    raise ApiProblem(413, f"upload is over the {limit}-byte limit")
                handle.write(chunk)
    except BaseException:
        payloads.remove_quietly(part)
        raise
    part.replace(dest)


def _run_routes(router: APIRouter) -> None:
    prefix = "/v1/applications/{app_id}/runs"

    @router.get(prefix)
    async def list_runs(
        request: Request,
        app_id: str,
        pagereturn: str | None = None,
        pagetoken: str | None = None,
    ) -> dict[str, Any]:
        service = _service(request)
        _get_app(service, app_id)
        before: int | None = None
        if pagetoken:
            if not pagetoken.isdigit():
                raise ApiProblem(400, f"invalid pagetoken {pagetoken!r}")
            before = int(pagetoken)
        paged = (pagereturn or "").lower() == "true"
        size = service.settings.page_size
        runs = service.store.list_runs(app_id, before, size + 1 if paged else None)
        token = None
        if paged and len(runs) > size:
            runs = runs[:size]
            token = str(runs[-1].seq)
        email = service.settings.user_email
        return RunList(
            runs=[wire.run_summary(run, email) for run in runs], next_page_token=token
        ).to_wire()

    @router.get(prefix + "/{run_id}/metadata")
    async def metadata(request: Request, app_id: str, run_id: str) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        return wire.run_information(run, service.settings.user_email).to_wire()

    @router.get(prefix + "/{run_id}")
    async def result(
        request: Request, app_id: str, run_id: str, format: str | None = None
    ) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        info = wire.run_information(run, service.settings.user_email)
        output: dict[str, Any] | None = None
        limit = service.settings.max_inline_bytes
        out_path = _output_path(service, run)
        if out_path is not None:
            if format == "url":
                output = {"url": _output_url(request, service, run, out_path)}
            elif run.output_format == "json" and run.output_size <= limit:
                output = _json_object(out_path)
        error_log = {"error": run.error} if run.status == "failed" else None
        body = RunResult.model_validate(
            {**info.model_dump(), "output": output, "error_log": error_log}
        ).to_wire()
        body.setdefault("output", None)  # explicit null: "no output (yet)"
        return body

    @router.get(prefix + "/{run_id}/output")
    async def output(
        request: Request, app_id: str, run_id: str, format: str | None = None
    ) -> Response:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        out_path = _output_path(service, run)
        if out_path is None:
            detail = f": {run.error}" if run.error else ""
            raise ApiProblem(404, f"run {run_id!r} has no output (status {run.status}){detail}")
        if format == "url":
            url = _output_url(request, service, run, out_path)
            return JSONResponse(DownloadURL(url=url).to_wire())
        if run.output_format == "json" and out_path.suffix == ".json":
            return FileResponse(out_path, media_type=JSON_MEDIA)
        if out_path.suffix == ".txt":
            return JSONResponse(payloads.read_text(out_path))
        raise ApiProblem(400, f"run {run_id!r} has {run.output_format} output: use format=url")

    @router.get(prefix + "/{run_id}/input")
    async def run_input(
        request: Request, app_id: str, run_id: str, format: str | None = None
    ) -> Response:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        path = _run_dir(service, run) / run.input_file
        if not path.exists():
            raise ApiProblem(404, f"input of run {run_id!r} is missing from the data dir")
        if format == "url":
            if path.suffix == ".json":
                url = _download_url(request, service, path, JSON_MEDIA)
            elif path.suffix == ".txt":
                tar = payloads.tar_single_file(
                    path, "input.txt", path.with_name("input.txt.tar.gz")
                )
                url = _download_url(request, service, tar, TAR_MEDIA)
            else:
                url = _download_url(request, service, path, TAR_MEDIA)
            return JSONResponse(DownloadURL(url=url).to_wire())
        if path.suffix == ".json":
            return FileResponse(path, media_type=JSON_MEDIA)
        if path.suffix == ".txt":
            # The SDK calls .json() on this response: a JSON string keeps the CLI working.
            return JSONResponse(payloads.read_text(path))
        raise ApiProblem(400, f"run {run_id!r} has {run.input_format} input: use format=url")

    @router.get(prefix + "/{run_id}/logs")
    async def logs(request: Request, app_id: str, run_id: str) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        text = payloads.read_full_log(_run_dir(service, run) / "logs.jsonl")
        return RunLog(log=text).to_wire()

    @router.get(prefix + "/{run_id}/logs/live")
    async def live_logs(
        request: Request, app_id: str, run_id: str, since: str | None = None
    ) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)  # status first: a final status means a final log
        offset = 0
        if since:
            if not since.isdigit():
                raise ApiProblem(400, f"invalid since token {since!r}")
            offset = int(since)
        final = RunStatus(run.status).is_final
        entries, next_offset = payloads.read_log_since(
            _run_dir(service, run) / "logs.jsonl", offset, None if final else LIVE_LOG_CHUNK
        )
        items = []
        for entry in entries:
            try:
                items.append(LiveLogItem.model_validate(entry))
            except ValidationError:
                continue
        return LiveLogs(
            items=items,
            status_v2=RunStatus(run.status),
            next_available_in_seconds=1.0,
            next_page_token=str(next_offset),
        ).to_wire()

    @router.patch(prefix + "/{run_id}/cancel")
    async def cancel(request: Request, app_id: str, run_id: str) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        if not RunStatus(run.status).is_cancelable or not await service.scheduler.cancel(run.id):
            current = service.store.get_run(run.id)
            status = current.status if current else run.status
            raise ApiProblem(
                409, f"run {run_id!r} is already {status}; only queued or running runs can be "
                "canceled"
            )
        current = service.store.get_run(run.id)
        return {"id": run.id, "status_v2": current.status if current else "canceled"}

    @router.delete(prefix + "/{run_id}")
    async def delete(request: Request, app_id: str, run_id: str) -> dict[str, Any]:
        service = _service(request)
        run = _get_run(service, app_id, run_id)
        if RunStatus(run.status).is_cancelable:
            await service.scheduler.cancel(run.id)
        service.store.delete_run(run.id)
        payloads.remove_quietly(_run_dir(service, run))
        return {}


def _output_path(service: Service, run: RunRecord) -> Path | None:
    if not run.output_file:
        return None
    path = _run_dir(service, run) / run.output_file
    return path if path.exists() else None


def _output_url(request: Request, service: Service, run: RunRecord, path: Path) -> str:
    if path.suffix == ".json" and run.output_format == "json":
        return _download_url(request, service, path, JSON_MEDIA)
    if path.suffix == ".txt" or (path.suffix == ".json"):
        tar = payloads.tar_single_file(path, path.name, path.with_name(path.name + ".tar.gz"))
        return _download_url(request, service, tar, TAR_MEDIA)
    return _download_url(request, service, path, TAR_MEDIA)


def _json_object(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _queue_routes(router: APIRouter) -> None:
    @router.get("/v1/account/queue")
    async def queue(request: Request) -> Response:
        service = _service(request)
        email = service.settings.user_email
        return JSONResponse({"runs": wire.queue_entries(service.store.active_rows(), email)})


# --- factory -----------------------------------------------------------------------------


def load_manifests(settings: ServiceSettings) -> dict[str, AppManifest]:
    """Bundled apps plus ``--app`` folders, by app ID.

    A broken ``--app`` folder raises ``ValueError`` (the user must fix it); a bundled app that
    fails to load is skipped with a warning so the service still starts.
    """
    found: dict[str, AppManifest] = {}
    if settings.bundled_apps:
        for name in ("knapsack", "routing"):
            try:
                item = manifest_module.load_manifest(manifest_module.bundled_app_dir(name), name)
            except ValueError as exc:
                log.warning("bundled app %s skipped: %s", name, exc)
                continue
            found[item.app_id] = item
    for app_dir in settings.app_dirs:
        item = manifest_module.load_manifest(Path(app_dir))
        found[item.app_id] = item
    return found


def _manifest_text(manifest: Any, attr: str) -> str:
    value = getattr(manifest, attr, "")
    return value if isinstance(value, str) else ""


def create_app(
    settings: ServiceSettings,
    *,
    manifests: dict[str, AppManifest] | None = None,
    start_run: StartRun | None = None,
) -> FastAPI:
    """The ASGI app. ``manifests``/``start_run`` are injectable for tests of the queue alone."""
    settings.prepare_dirs()
    api_key = settings.resolve_api_key()
    apps = load_manifests(settings) if manifests is None else manifests
    store = Store(settings.db_path)
    for app_id, item in apps.items():
        store.upsert_application(app_id, item.name or app_id, item.description)
    scheduler = Scheduler(store, settings, apps, start_run)
    service = Service(settings, api_key, store, scheduler, payloads.Presigner(settings.upload_ttl),
                      apps)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        scheduler.recover()
        scheduler.dispatch()
        try:
            yield
        finally:
            await scheduler.shutdown()
            store.close()

    app = FastAPI(title="nextmv-tui local run service", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.service = service

    @app.exception_handler(ApiProblem)
    async def _problem(_: Request, exc: ApiProblem) -> JSONResponse:
        return _error(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, _validation_message(exc, "invalid request"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, f"local service error: {type(exc).__name__}: {exc}")

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "service": "nextmv-tui"}

    _presigned_routes(app)
    router = APIRouter(dependencies=[Depends(_require_key)])
    _application_routes(router)
    _create_run_routes(router)
    _run_routes(router)
    _queue_routes(router)
    app.include_router(router)
    return app
