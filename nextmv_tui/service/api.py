"""Shared pieces of the HTTP API: the error type, the per-app service container, auth and
request helpers used by every route module.

Errors are always JSON ``{"error": "..."}`` with a status the SDK/CLI understands.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from nextmv_tui.service import payloads
from nextmv_tui.service.manifest import AppManifest
from nextmv_tui.service.scheduler import Scheduler
from nextmv_tui.service.settings import ServiceSettings
from nextmv_tui.service.store import RunRecord, Store

JSON_MEDIA = "application/json"
TAR_MEDIA = "application/gzip"


class ApiProblem(Exception):
    """Raised by handlers; becomes ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error shape of the API: ``{"error": message}``."""
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


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def require_key(request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    expected = service_of(request).api_key
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        reason = "missing" if not header else "wrong"
        where = service_of(request).settings.api_key_path
        raise ApiProblem(
            401,
            f"{reason} API key: send 'Authorization: Bearer <key>' with the key of this local "
            f"service (kept in {where} unless --api-key was given)",
            {"WWW-Authenticate": "Bearer"},
        )


# --- request helpers -----------------------------------------------------------------------------


def get_app(service: Service, app_id: str) -> None:
    if service.store.get_application(app_id) is None:
        raise ApiProblem(404, f"application {app_id!r} not found")


def get_run(service: Service, app_id: str, run_id: str) -> RunRecord:
    run = service.store.get_run(run_id)
    if run is None or run.app_id != app_id:
        raise ApiProblem(404, f"run {run_id!r} not found in application {app_id!r}")
    return run


def run_dir_of(service: Service, run: RunRecord) -> Path:
    return service.settings.runs_dir / run.id


def download_url(request: Request, service: Service, path: Path, media_type: str) -> str:
    token = service.presigner.issue(path, media_type)
    return f"{str(request.base_url).rstrip('/')}/downloads/{token}"


async def read_body(request: Request, limit: int, what: str) -> bytes:
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


def _reject_constant(name: str) -> Any:
    """NaN/Infinity are not JSON (RFC 8259): refuse them instead of storing ``null``."""
    raise ValueError(f"{name} is not valid JSON")


def parse_object(body: bytes, what: str) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiProblem(400, f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def validation_message(exc: ValidationError | RequestValidationError, what: str) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "body"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return f"{what}: " + "; ".join(problems)


