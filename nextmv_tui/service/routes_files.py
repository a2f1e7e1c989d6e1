"""What a run holds on disk (reference §2.5-§2.6): its result (metadata with the output
inline), its output and its input, directly or through presigned download URLs.

JSON goes out as JSON; text goes out as a JSON string (the SDK calls ``.json()`` on it); a
download of anything but JSON is a gzip tar, as the SDK expects. Every payload is streamed
from its file (text as a JSON string built chunk by chunk, one file as a tar.gz generated
while it is downloaded), so answers never hold a large output or input in memory and nothing
blocks the event loop: the inline output of a result (at most ``max_inline_bytes``) is checked
on a worker thread and copied into the answer as it is on disk.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from nextmv_tui.cloud.models import DownloadURL, RunResult
from nextmv_tui.service import wire
from nextmv_tui.service.api import JSON_MEDIA, TAR_MEDIA, ApiProblem
from nextmv_tui.service.deps import RunDep, Service, ServiceDep
from nextmv_tui.service.openapi import ANY_JSON, answers
from nextmv_tui.service.store import RunRecord
from nextmv_tui.service.streams import json_string_chunks

PREFIX = "/v1/applications/{app_id}/runs/{run_id}"

_INLINE_READERS = threading.BoundedSemaphore(2)
"""Inline outputs (up to 5 MiB each) checked at once: bounds the memory of many clients
fetching large results together (taken on the worker thread, never on the event loop)."""

router = APIRouter()


@router.get(PREFIX, responses=answers(RunResult, 400, 404))
async def result(
    request: Request, run: RunDep, service: ServiceDep, format: str | None = None
) -> Response:
    info = wire.run_information(run, service.settings.user_email)
    error_log = {"error": run.error} if run.status == "failed" else None
    body = RunResult.model_validate({**info.model_dump(), "error_log": error_log}).to_wire()
    out_path = _output_path(service, run)
    inline: bytes | None = None
    if out_path is not None:
        if format == "url":
            body["output"] = {"url": _file_url(request, service, out_path, run)}
        elif run.output_format == "json" and run.output_size <= service.settings.max_inline_bytes:
            inline = await run_in_threadpool(
                _inline_object, out_path, service.settings.max_inline_bytes
            )
    body.setdefault("output", None)  # explicit null: "no output (yet)"
    if inline is None:
        return JSONResponse(body)
    del body["output"]
    head = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(head[:-1].encode() + b',"output":' + inline + b"}", media_type=JSON_MEDIA)


PAYLOAD = answers(
    None, 400, 404, media={JSON_MEDIA: ANY_JSON},
    what="The payload: JSON as stored, text as a JSON string; with format=url a DownloadURL "
    "object ({\"url\": ...})",
)


@router.get(PREFIX + "/output", responses=PAYLOAD)
async def output(
    request: Request, run: RunDep, service: ServiceDep, format: str | None = None
) -> Response:
    out_path = _output_path(service, run)
    if out_path is None:
        detail = f": {run.error}" if run.error else ""
        raise ApiProblem(404, f"run {run.id!r} has no output (status {run.status}){detail}")
    if format == "url":
        return JSONResponse(DownloadURL(url=_file_url(request, service, out_path, run)).to_wire())
    return _file_response(
        out_path, _is_json_output(run, out_path), f"run {run.id!r} has {run.output_format} output"
    )


@router.get(PREFIX + "/input", responses=PAYLOAD)
async def run_input(
    request: Request, run: RunDep, service: ServiceDep, format: str | None = None
) -> Response:
    path = service.run_dir(run) / run.input_file
    if not path.exists():
        raise ApiProblem(404, f"input of run {run.id!r} is missing from the data dir")
    is_json = path.suffix == ".json"
    if format == "url":
        url = _url_of(request, service, path, is_json)
        return JSONResponse(DownloadURL(url=url).to_wire())
    return _file_response(path, is_json, f"run {run.id!r} has {run.input_format} input")


def _output_path(service: Service, run: RunRecord) -> Path | None:
    if not run.output_file:
        return None
    path = service.run_dir(run) / run.output_file
    return path if path.exists() else None


def _is_json_output(run: RunRecord, path: Path) -> bool:
    return path.suffix == ".json" and run.output_format == "json"


def _file_url(request: Request, service: Service, path: Path, run: RunRecord) -> str:
    return _url_of(request, service, path, _is_json_output(run, path))


def _url_of(request: Request, service: Service, path: Path, is_json: bool) -> str:
    """Presigned URL: JSON as is, one plain file as a tar.gz (made while it is downloaded),
    an archive as is."""
    if is_json:
        return service.download_url(request, path, JSON_MEDIA)
    wrap = path.name if path.suffix in (".txt", ".json") else None
    return service.download_url(request, path, TAR_MEDIA, wrap)


def _file_response(path: Path, is_json: bool, what: str) -> Response:
    """The payload itself: JSON as is, text as a JSON string; archives only by URL."""
    if is_json:
        return FileResponse(path, media_type=JSON_MEDIA)
    if path.suffix == ".txt":
        # The SDK calls .json() on this response: a JSON string keeps the CLI working.
        return StreamingResponse(json_string_chunks(path), media_type=JSON_MEDIA)
    raise ApiProblem(400, f"{what}: use format=url")


def _inline_object(path: Path, limit: int) -> bytes | None:
    """The output file's bytes when they are one strict JSON object of at most ``limit``
    bytes (no NaN, not nested beyond the parser), else None (then ``output`` is null)."""
    with _INLINE_READERS:
        try:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
            if len(data) > limit:
                return None
            value = json.loads(data.decode("utf-8"), parse_constant=_refuse)
        except (OSError, ValueError, RecursionError):
            return None
    return data.strip() if isinstance(value, dict) else None


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
