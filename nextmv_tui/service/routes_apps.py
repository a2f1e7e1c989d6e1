"""Applications: list, read, create, update, delete (reference §2.2).

Apps with code come from the manifests registered at start; ``POST`` creates an application
without code (the SDK does that), whose runs fail with a message saying how to serve its code.
``PUT`` changes name, description and default instance (the SDK's ``Application.update``
sends the whole application back). ``DELETE`` removes an application without code with all
its runs; one whose code this service serves is refused (409): it would come back at the next
start, so the answer says how to remove it for good.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import RootModel, ValidationError

from nextmv_tui.cloud.ids import id_problem
from nextmv_tui.cloud.models import (
    Application,
    ApplicationList,
    CreateApplicationRequest,
    WireModel,
)
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.service import listing, payloads, wire
from nextmv_tui.service.api import ApiProblem, parse_object, read_body, validation_message
from nextmv_tui.service.deps import ApplicationDep, ServiceDep
from nextmv_tui.service.openapi import answers
from nextmv_tui.service.store import AppRecord

router = APIRouter()


class ApplicationsAnswer(RootModel[list[Application] | ApplicationList]):
    """``GET v1/applications``: a bare list, or with ``pagereturn=true`` a page of ``items``."""


class DeletedAnswer(WireModel):
    """``DELETE v1/applications/{id}``: an empty object."""


@router.get("/v1/applications", responses=answers(ApplicationsAnswer, 400))
async def list_applications(
    service: ServiceDep, pagereturn: str | None = None, pagetoken: str | None = None
) -> Any:
    if (pagereturn or "").lower() != "true":  # SDK no_pagination: a bare list
        return [_app_wire(app) for app in service.store.list_applications()]
    try:
        apps, token = listing.applications_page(
            service.store, pagetoken, service.settings.page_size
        )
    except ValueError as exc:
        raise ApiProblem(400, str(exc)) from None
    return {"items": [_app_wire(app) for app in apps]} | (
        {"next_page_token": token} if token else {}
    )


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


@router.put("/v1/applications/{app_id}", responses=answers(Application, 400, 404, 413))
async def update_application(
    request: Request, app: ApplicationDep, service: ServiceDep
) -> dict[str, Any]:
    raw = parse_object(await read_body(request, 1024 * 1024, "request body"), "body")
    name = _text(raw, "name", app.name)
    description = _text(raw, "description", app.description)
    instance = _text(raw, "default_instance", _text(raw, "default_instance_id",
                                                      app.default_instance))
    if not name:
        raise ApiProblem(400, "name must not be empty")
    service.store.update_application(app.id, name, description, instance or "latest")
    updated = service.store.get_application(app.id)
    assert updated is not None
    return _app_wire(updated)


@router.delete("/v1/applications/{app_id}", responses=answers(DeletedAnswer, 400, 404, 409))
async def delete_application(app: ApplicationDep, service: ServiceDep) -> dict[str, Any]:
    served = service.manifests.get(app.id)
    if served is not None:
        raise ApiProblem(
            409,
            f"application {app.id!r} runs code this service serves (a bundled app or an --app "
            "folder); it would be back at the next start: restart the service without its "
            "--app folder to remove it (bundled apps cannot be deleted)",
        )
    for run in service.store.list_runs(app.id, None, None):
        if RunStatus(run.status).is_cancelable:
            await service.scheduler.cancel(run.id)
    for run_id in service.store.delete_application(app.id):
        payloads.remove_quietly(service.settings.runs_dir / run_id)
    return {}


def _text(raw: dict[str, Any], field: str, current: str) -> str:
    """A string field of an update body; absent or null keeps ``current``."""
    value = raw.get(field)
    if value is None:
        return current
    if not isinstance(value, str):
        raise ApiProblem(400, f"{field} must be a string, got {type(value).__name__}")
    return value


def _app_wire(app: AppRecord) -> dict[str, Any]:
    return Application(
        id=app.id,
        name=app.name,
        description=app.description,
        default_instance_id=app.default_instance,
        created_at=wire.timestamp(app.created_at),
        updated_at=wire.timestamp(app.updated_at),
    ).to_wire()
