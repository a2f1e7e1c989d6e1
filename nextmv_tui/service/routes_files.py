"""What a run holds on disk (reference §2.5-§2.6): its result (metadata with the output
inline), its output and its input, directly or through presigned download URLs.

JSON goes out as JSON; text goes out as a JSON string (the SDK calls ``.json()`` on it); a
download of anything but JSON is a gzip tar, as the SDK expects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from nextmv_tui.cloud.models import DownloadURL, RunResult
from nextmv_tui.service import payloads, wire
from nextmv_tui.service.api import JSON_MEDIA, TAR_MEDIA, ApiProblem
from nextmv_tui.service.deps import RunDep, Service, ServiceDep
from nextmv_tui.service.store import RunRecord

PREFIX = "/v1/applications/{app_id}/runs/{run_id}"

router = APIRouter()


@router.get(PREFIX)
async def result(
    request: Request, run: RunDep, service: ServiceDep, format: str | None = None
) -> dict[str, Any]:
    info = wire.run_information(run, service.settings.user_email)
    output: dict[str, Any] | None = None
    out_path = _output_path(service, run)
    if out_path is not None:
        if format == "url":
            output = {"url": _file_url(request, service, out_path, _is_json_output(run, out_path))}
        elif run.output_format == "json" and run.output_size <= service.settings.max_inline_bytes:
            output = _json_object(out_path)
    error_log = {"error": run.error} if run.status == "failed" else None
    body = RunResult.model_validate(
        {**info.model_dump(), "output": output, "error_log": error_log}
    ).to_wire()
    body.setdefault("output", None)  # explicit null: "no output (yet)"
    return body


@router.get(PREFIX + "/output")
async def output(
    request: Request, run: RunDep, service: ServiceDep, format: str | None = None
) -> Response:
    out_path = _output_path(service, run)
    if out_path is None:
        detail = f": {run.error}" if run.error else ""
        raise ApiProblem(404, f"run {run.id!r} has no output (status {run.status}){detail}")
    is_json = _is_json_output(run, out_path)
    if format == "url":
        url = _file_url(request, service, out_path, is_json)
        return JSONResponse(DownloadURL(url=url).to_wire())
    return _file_response(out_path, is_json, f"run {run.id!r} has {run.output_format} output")


@router.get(PREFIX + "/input")
async def run_input(
    request: Request, run: RunDep, service: ServiceDep, format: str | None = None
) -> Response:
    path = service.run_dir(run) / run.input_file
    if not path.exists():
        raise ApiProblem(404, f"input of run {run.id!r} is missing from the data dir")
    is_json = path.suffix == ".json"
    if format == "url":
        url = _file_url(request, service, path, is_json)
        return JSONResponse(DownloadURL(url=url).to_wire())
    return _file_response(path, is_json, f"run {run.id!r} has {run.input_format} input")


def _output_path(service: Service, run: RunRecord) -> Path | None:
    if not run.output_file:
        return None
    path = service.run_dir(run) / run.output_file
    return path if path.exists() else None


def _is_json_output(run: RunRecord, path: Path) -> bool:
    return path.suffix == ".json" and run.output_format == "json"


def _file_url(request: Request, service: Service, path: Path, is_json: bool) -> str:
    """Presigned URL: JSON as is, one plain file wrapped in a tar.gz, an archive as is."""
    if is_json:
        return service.download_url(request, path, JSON_MEDIA)
    if path.suffix in (".txt", ".json"):
        path = payloads.tar_single_file(path, path.name, path.with_name(path.name + ".tar.gz"))
    return service.download_url(request, path, TAR_MEDIA)


def _file_response(path: Path, is_json: bool, what: str) -> Response:
    """The payload itself: JSON as is, text as a JSON string; archives only by URL."""
    if is_json:
        return FileResponse(path, media_type=JSON_MEDIA)
    if path.suffix == ".txt":
        # The SDK calls .json() on this response: a JSON string keeps the CLI working.
        return JSONResponse(payloads.read_text(path))
    raise ApiProblem(400, f"{what}: use format=url")


def _json_object(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
