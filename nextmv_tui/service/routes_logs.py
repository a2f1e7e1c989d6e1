"""A run's logs (reference §2.7): the whole log, and the live log read from a byte offset."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError

from nextmv_tui.cloud.models import LiveLogItem, LiveLogs, RunLog
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.service.api import ApiProblem
from nextmv_tui.service.deps import RunDep, ServiceDep
from nextmv_tui.service.runlog import LOG_FILE, read_full_log, read_log_since

LIVE_LOG_CHUNK = 1024 * 1024
"""Most log bytes one live-logs answer carries while the run is still going."""

PREFIX = "/v1/applications/{app_id}/runs/{run_id}"

router = APIRouter()


@router.get(PREFIX + "/logs")
async def logs(run: RunDep, service: ServiceDep) -> dict[str, Any]:
    text = read_full_log(service.run_dir(run) / LOG_FILE)
    return RunLog(log=text).to_wire()


@router.get(PREFIX + "/logs/live")
async def live_logs(run: RunDep, service: ServiceDep, since: str | None = None) -> dict[str, Any]:
    # The run (and its status) is read first: a final status means a final log.
    log_path = service.run_dir(run) / LOG_FILE
    offset = 0
    if since:
        size = log_path.stat().st_size if log_path.exists() else 0
        if not since.isdigit() or len(since) > 18 or int(since) > size:
            raise ApiProblem(
                400, f"invalid since token {since!r}: use a next_page_token of this run"
            )
        offset = int(since)
    final = RunStatus(run.status).is_final
    entries, next_offset = read_log_since(log_path, offset, None if final else LIVE_LOG_CHUNK)
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
