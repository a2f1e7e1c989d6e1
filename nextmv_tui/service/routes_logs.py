"""A run's logs (reference §2.7): the log's last 50 kB (or all of it, streamed), and the live
log read from a byte offset.

Nothing here loads a whole log: ``GET …/logs`` reads the tail backwards, ``?full=true``
streams the file, live logs read at most ``LIVE_LOG_CHUNK`` bytes. The reads run on worker
threads, so a run with a 1 GB log never stalls the other clients' requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from nextmv_tui.cloud.models import LiveLogs, RunLog
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.cloud.timefmt import now_text
from nextmv_tui.service.api import JSON_MEDIA, ApiProblem, decimal
from nextmv_tui.service.deps import RunDep, ServiceDep
from nextmv_tui.service.openapi import answers
from nextmv_tui.service.runlog import (
    LOG_FILE,
    TAIL_BYTES,
    full_log_chunks,
    read_final_log_since,
    read_log_since,
    read_log_tail,
)

LIVE_LOG_CHUNK = 1024 * 1024
"""Most log bytes one live-logs answer carries (a running run pages on; a finished run's
answer keeps the last ``LIVE_LOG_CHUNK`` bytes and says what it skipped)."""

PREFIX = "/v1/applications/{app_id}/runs/{run_id}"

router = APIRouter()


@router.get(PREFIX + "/logs", responses=answers(RunLog, 400, 404))
async def logs(run: RunDep, service: ServiceDep, full: bool = False) -> Response:
    """The last 50 kB of the log, as Nextmv Cloud answers; ``?full=true`` streams all of it."""
    path = service.run_dir(run) / LOG_FILE
    if full:
        return StreamingResponse(full_log_chunks(path), media_type=JSON_MEDIA)
    text, cut = await run_in_threadpool(read_log_tail, path, TAIL_BYTES)
    if cut:
        text = (
            f"[log cut: showing its last {TAIL_BYTES // 1000} kB, as Nextmv Cloud does; "
            "GET …/logs?full=true returns all of it]\n" + text
        )
    return JSONResponse(RunLog(log=text).to_wire())


@router.get(PREFIX + "/logs/live", responses=answers(LiveLogs, 400, 404))
async def live_logs(run: RunDep, service: ServiceDep, since: str | None = None) -> Response:
    # The run (and its status) is read first: a final status means a final log.
    log_path = service.run_dir(run) / LOG_FILE
    offset = 0
    if since:
        value = decimal(since)
        size = await run_in_threadpool(_size, log_path)
        if value is None or value > size:
            raise ApiProblem(
                400, f"invalid since token {since!r}: use a next_page_token of this run"
            )
        offset = value
    status = RunStatus(run.status)
    body = await run_in_threadpool(_live_body, log_path, offset, status)
    return JSONResponse(body)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _live_body(path: Path, offset: int, status: RunStatus) -> dict[str, Any]:
    """The live-logs answer from ``offset`` (runs on a worker thread)."""
    skipped = 0
    if status.is_final:
        entries, next_offset, skipped = read_final_log_since(path, offset, LIVE_LOG_CHUNK)
    else:
        entries, next_offset = read_log_since(path, offset, LIVE_LOG_CHUNK)
    items = [
        {"timestamp": entry["timestamp"], "log": entry["log"]}
        for entry in entries
        if isinstance(entry.get("timestamp"), str)
    ]
    if skipped:
        first = items[0]["timestamp"] if items else now_text()
        note = (
            f"[log cut: {skipped} bytes of this finished run's log skipped here; "
            "GET …/logs?full=true returns all of it]"
        )
        items.insert(0, {"timestamp": first, "log": note})
    return {
        **LiveLogs(
            status_v2=status, next_available_in_seconds=1.0, next_page_token=str(next_offset)
        ).to_wire(),
        "items": items,
    }
