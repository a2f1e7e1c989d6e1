"""The account queue (reference §2.10): every queued and running run of every application.

The hot path of the monitor (polled every few seconds): rows are read without building
records and turned into JSON without a model per run (see ``wire.queue_entries``).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from nextmv_tui.cloud.models import QueueResponse
from nextmv_tui.service import wire
from nextmv_tui.service.deps import ServiceDep
from nextmv_tui.service.openapi import answers

router = APIRouter()


@router.get("/v1/account/queue", responses=answers(QueueResponse))
async def queue(service: ServiceDep) -> Response:
    email = service.settings.user_email
    rows = service.store.active_rows()
    unsaved = service.scheduler.unsaved_ids
    if unsaved:  # finished, but a full disk kept the store from saying so yet
        rows = [row for row in rows if row[0] not in unsaved]
    return JSONResponse({"runs": wire.queue_entries(rows, email)})
