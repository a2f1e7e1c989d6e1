"""A run's lifecycle after creation (reference §2.3-§2.4, §2.8-§2.9): the run list of an
application, run metadata, name/description update (``PUT``, marketplace API), cancel and
delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from nextmv_tui.cloud.models import RunInformation, RunList, WireModel
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.service import listing, payloads, wire
from nextmv_tui.service.api import ApiProblem, parse_object, read_body
from nextmv_tui.service.deps import ApplicationDep, RunDep, ServiceDep
from nextmv_tui.service.openapi import answers

PREFIX = "/v1/applications/{app_id}/runs"

router = APIRouter()


class CancelAnswer(WireModel):
    """``PATCH …/cancel``: the run and its status after the cancel."""

    id: str
    status_v2: str


class EmptyAnswer(WireModel):
    """``DELETE …/runs/{id}``: ``{}``."""


@router.get(PREFIX, responses=answers(RunList, 400, 404))
async def list_runs(
    app: ApplicationDep,
    service: ServiceDep,
    pagereturn: str | None = None,
    pagetoken: str | None = None,
    status: str | None = None,
    created_after: str | None = None,
) -> dict[str, Any]:
    try:
        query = listing.run_query(app.id, status, created_after, pagetoken)
    except ValueError as exc:
        raise ApiProblem(400, str(exc)) from None
    paged = (pagereturn or "").lower() == "true"
    page = listing.runs_page(service.store, query, service.settings.page_size, paged)
    email = service.settings.user_email
    return RunList(
        runs=[wire.run_summary(run, email) for run in page.runs],
        next_page_token=page.next_page_token,
    ).to_wire()


@router.get(PREFIX + "/{run_id}/metadata", responses=answers(RunInformation, 400, 404))
async def metadata(run: RunDep, service: ServiceDep) -> dict[str, Any]:
    return wire.run_information(run, service.settings.user_email).to_wire()


@router.put(PREFIX + "/{run_id}", responses=answers(RunInformation, 400, 404))
async def update(request: Request, run: RunDep, service: ServiceDep) -> dict[str, Any]:
    """Rename a run or change its description (the only fields Nextmv lets a run change)."""
    raw = parse_object(await read_body(request, 1024 * 1024, "request body"), "body")
    changes: dict[str, str] = {}
    for field in ("name", "description"):
        value = raw.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ApiProblem(400, f"{field} must be a string, got {type(value).__name__}")
        changes[field] = value
    others = sorted(set(raw) - {"name", "description"})
    if others:
        raise ApiProblem(
            400, "only name and description of a run can be updated, not " + ", ".join(others)
        )
    if not changes:
        raise ApiProblem(400, "nothing to update: give name and/or description")
    service.store.describe_run(run.id, changes.get("name"), changes.get("description"))
    current = service.store.get_run(run.id) or run
    return wire.run_information(current, service.settings.user_email).to_wire()


@router.patch(PREFIX + "/{run_id}/cancel", responses=answers(CancelAnswer, 400, 404, 409))
async def cancel(run: RunDep, service: ServiceDep) -> dict[str, Any]:
    if not RunStatus(run.status).is_cancelable or not await service.scheduler.cancel(run.id):
        current = service.store.get_run(run.id)
        status = current.status if current else run.status
        raise ApiProblem(
            409, f"run {run.id!r} is already {status}; only queued or running runs can be "
            "canceled"
        )
    current = service.store.get_run(run.id)
    return {"id": run.id, "status_v2": current.status if current else "canceled"}


@router.delete(PREFIX + "/{run_id}", responses=answers(EmptyAnswer, 400, 404))
async def delete(run: RunDep, service: ServiceDep) -> dict[str, Any]:
    if RunStatus(run.status).is_cancelable:
        await service.scheduler.cancel(run.id)
    service.store.delete_run(run.id)
    payloads.remove_quietly(service.run_dir(run))
    return {}
