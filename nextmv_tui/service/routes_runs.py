"""A run's lifecycle after creation (reference §2.3-§2.4, §2.8-§2.9): the run list of an
application, run metadata, cancel and delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from nextmv_tui.cloud.models import RunInformation, RunList, WireModel
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.service import payloads, wire
from nextmv_tui.service.api import ApiProblem
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


@router.get(PREFIX)
async def list_runs(
    app: ApplicationDep,
    service: ServiceDep,
    pagereturn: str | None = None,
    pagetoken: str | None = None,
) -> dict[str, Any]:
    before: int | None = None
    if pagetoken:
        if not pagetoken.isdigit():
            raise ApiProblem(400, f"invalid pagetoken {pagetoken!r}")
        before = int(pagetoken)
    paged = (pagereturn or "").lower() == "true"
    size = service.settings.page_size
    runs = service.store.list_runs(app.id, before, size + 1 if paged else None)
    token = None
    if paged and len(runs) > size:
        runs = runs[:size]
        token = str(runs[-1].seq)
    email = service.settings.user_email
    return RunList(
        runs=[wire.run_summary(run, email) for run in runs], next_page_token=token
    ).to_wire()


@router.get(PREFIX + "/{run_id}/metadata", responses=answers(RunInformation, 400, 404))
async def metadata(run: RunDep, service: ServiceDep) -> dict[str, Any]:
    return wire.run_information(run, service.settings.user_email).to_wire()


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
