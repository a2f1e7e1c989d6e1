"""Routes that read and manage runs: applications, metadata, results, inputs, outputs, logs,
cancel, delete, lists and the account queue (reference §2.3-§2.10)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError

from nextmv_tui.cloud.models import (
    Application,
    CreateApplicationRequest,
    DownloadURL,
    LiveLogItem,
    LiveLogs,
    RunList,
    RunLog,
    RunResult,
)
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.service import listing, payloads, wire
from nextmv_tui.service.api import (
    JSON_MEDIA,
    TAR_MEDIA,
    ApiProblem,
    Service,
    download_url,
    get_app,
    get_run,
    parse_object,
    read_body,
    run_dir_of,
    service_of,
    validation_message,
)
from nextmv_tui.service.store import AppRecord, RunRecord

LIVE_LOG_CHUNK = 1024 * 1024
"""Most log bytes one live-logs answer carries while the run is still going."""


def application_routes(router: APIRouter) -> None:
    @router.get("/v1/applications")
    async def list_applications(
        request: Request, pagereturn: str | None = None, pagetoken: str | None = None
    ) -> Any:
        service = service_of(request)
        if (pagereturn or "").lower() != "true":  # SDK no_pagination: a bare list
            return [_app_wire(*_app_fields(app)) for app in service.store.list_applications()]
        try:
            apps, token = listing.applications_page(
                service.store, pagetoken, service.settings.page_size
            )
        except ValueError as exc:
            raise ApiProblem(400, str(exc)) from None
        return {"items": [_app_wire(*_app_fields(app)) for app in apps]} | (
            {"next_page_token": token} if token else {}
        )

    @router.get("/v1/applications/{app_id}")
    async def get_application(request: Request, app_id: str) -> dict[str, Any]:
        app = service_of(request).store.get_application(app_id)
        if app is None:
            raise ApiProblem(404, f"application {app_id!r} not found")
        return _app_wire(app.id, app.name, app.description, app.created_at, app.updated_at)

    @router.post("/v1/applications")
    async def create_application(request: Request) -> JSONResponse:
        service = service_of(request)
        raw = parse_object(await read_body(request, 1024 * 1024, "request body"), "body")
        try:
            body = CreateApplicationRequest.model_validate(raw)
        except ValidationError as exc:
            raise ApiProblem(400, validation_message(exc, "invalid application")) from None
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


def _app_fields(app: AppRecord) -> tuple[str, str, str, float, float]:
    return app.id, app.name, app.description, app.created_at, app.updated_at


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


def run_routes(router: APIRouter) -> None:
    prefix = "/v1/applications/{app_id}/runs"

    @router.get(prefix)
    async def list_runs(
        request: Request,
        app_id: str,
        pagereturn: str | None = None,
        pagetoken: str | None = None,
        status: str | None = None,
        created_after: str | None = None,
    ) -> dict[str, Any]:
        service = service_of(request)
        get_app(service, app_id)
        try:
            query = listing.run_query(app_id, status, created_after, pagetoken)
        except ValueError as exc:
            raise ApiProblem(400, str(exc)) from None
        paged = (pagereturn or "").lower() == "true"
        page = listing.runs_page(service.store, query, service.settings.page_size, paged)
        email = service.settings.user_email
        return RunList(
            runs=[wire.run_summary(run, email) for run in page.runs],
            next_page_token=page.next_page_token,
        ).to_wire()

    @router.get(prefix + "/{run_id}/metadata")
    async def metadata(request: Request, app_id: str, run_id: str) -> dict[str, Any]:
        service = service_of(request)
        run = get_run(service, app_id, run_id)
        return wire.run_information(run, service.settings.user_email).to_wire()

    @router.get(prefix + "/{run_id}")
    async def result(
        request: Request, app_id: str, run_id: str, format: str | None = None
    ) -> dict[str, Any]:
        service = service_of(request)
        run = get_run(service, app_id, run_id)
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
        service = service_of(request)
        run = get_run(service, app_id, run_id)
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
        service = service_of(request)
        run = get_run(service, app_id, run_id)
        path = run_dir_of(service, run) / run.input_file
        if not path.exists():
            raise ApiProblem(404, f"input of run {run_id!r} is missing from the data dir")
        if format == "url":
            if path.suffix == ".json":
                url = download_url(request, service, path, JSON_MEDIA)
            elif path.suffix == ".txt":
                tar = payloads.tar_single_file(
                    path, "input.txt", path.with_name("input.txt.tar.gz")
                )
                url = download_url(request, service, tar, TAR_MEDIA)
            else:
                url = download_url(request, service, path, TAR_MEDIA)
            return JSONResponse(DownloadURL(url=url).to_wire())
        if path.suffix == ".json":
            return FileResponse(path, media_type=JSON_MEDIA)
        if path.suffix == ".txt":
            # The SDK calls .json() on this response: a JSON string keeps the CLI working.
            return JSONResponse(payloads.read_text(path))
        raise ApiProblem(400, f"run {run_id!r} has {run.input_format} input: use format=url")

    @router.get(prefix + "/{run_id}/logs")
    async def logs(request: Request, app_id: str, run_id: str) -> dict[str, Any]:
        service = service_of(request)
        run = get_run(service, app_id, run_id)
        text = payloads.read_full_log(run_dir_of(service, run) / "logs.jsonl")
        return RunLog(log=text).to_wire()

    @router.get(prefix + "/{run_id}/logs/live")
    async def live_logs(
        request: Request, app_id: str, run_id: str, since: str | None = None
    ) -> dict[str, Any]:
        service = service_of(request)
        run = get_run(service, app_id, run_id)  # status first: a final status means a final log
        log_path = run_dir_of(service, run) / "logs.jsonl"
        offset = 0
        if since:
            size = log_path.stat().st_size if log_path.exists() else 0
            if not since.isdigit() or len(since) > 18 or int(since) > size:
                raise ApiProblem(
                    400, f"invalid since token {since!r}: use a next_page_token of this run"
                )
            offset = int(since)
        final = RunStatus(run.status).is_final
        entries, next_offset = payloads.read_log_since(
            log_path, offset, None if final else LIVE_LOG_CHUNK
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
        service = service_of(request)
        run = get_run(service, app_id, run_id)
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
        service = service_of(request)
        run = get_run(service, app_id, run_id)
        if RunStatus(run.status).is_cancelable:
            await service.scheduler.cancel(run.id)
        service.store.delete_run(run.id)
        payloads.remove_quietly(run_dir_of(service, run))
        return {}


def _output_path(service: Service, run: RunRecord) -> Path | None:
    if not run.output_file:
        return None
    path = run_dir_of(service, run) / run.output_file
    return path if path.exists() else None


def _output_url(request: Request, service: Service, run: RunRecord, path: Path) -> str:
    if path.suffix == ".json" and run.output_format == "json":
        return download_url(request, service, path, JSON_MEDIA)
    if path.suffix == ".txt" or (path.suffix == ".json"):
        tar = payloads.tar_single_file(path, path.name, path.with_name(path.name + ".tar.gz"))
        return download_url(request, service, tar, TAR_MEDIA)
    return download_url(request, service, path, TAR_MEDIA)


def _json_object(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def queue_routes(router: APIRouter) -> None:
    @router.get("/v1/account/queue")
    async def queue(request: Request) -> Response:
        service = service_of(request)
        email = service.settings.user_email
        return JSONResponse({"runs": wire.queue_entries(service.store.active_rows(), email)})


