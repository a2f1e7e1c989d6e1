"""Applications: list, read, create (reference §2.2).

Apps with code come from the manifests registered at start; ``POST`` creates an application
without code (the SDK does that), whose runs fail with a message saying how to serve its code.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from nextmv_tui.cloud.ids import id_problem
from nextmv_tui.cloud.models import Application, CreateApplicationRequest
from nextmv_tui.service import wire
from nextmv_tui.service.api import ApiProblem, parse_object, read_body, validation_message
from nextmv_tui.service.deps import ApplicationDep, ServiceDep
from nextmv_tui.service.openapi import answers
from nextmv_tui.service.store import AppRecord

router = APIRouter()


@router.get("/v1/applications")
async def list_applications(service: ServiceDep) -> dict[str, Any]:
    return {"items": [_app_wire(app) for app in service.store.list_applications()]}


@router.get("/v1/applications/{app_id}", responses=answers(Application, 400, 404))
async def get_application(app: ApplicationDep) -> dict[str, Any]:
    return _app_wire(app)


@router.post(
    "/v1/applications",
    status_code=201,
    responses=answers(Application, 400, 409, 413, 507, success=201),
)
async def create_application(request: Request, service: ServiceDep) -> JSONResponse:
    raw = parse_object(await read_body(request, 1024 * 1024, "request body"), "body")
    try:
        body = CreateApplicationRequest.model_validate(raw)
    except ValidationError as exc:
        raise ApiProblem(400, validation_message(exc, "invalid application")) from None
    app_id = body.id or body.name
    problem = id_problem(app_id)
    if problem is not None:
        raise ApiProblem(400, f"invalid application id {app_id!r}: {problem}")
    if not service.store.create_application(app_id, body.name, body.description or ""):
        raise ApiProblem(409, f"application {app_id!r} already exists")
    app = service.store.get_application(app_id)
    assert app is not None
    return JSONResponse(_app_wire(app), status_code=201)


def _app_wire(app: AppRecord) -> dict[str, Any]:
    return Application(
        id=app.id,
        name=app.name,
        description=app.description,
        default_instance_id="latest",
        created_at=wire.timestamp(app.created_at),
        updated_at=wire.timestamp(app.updated_at),
    ).to_wire()
