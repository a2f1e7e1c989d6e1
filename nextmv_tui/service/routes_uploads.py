"""Large payloads (reference §2.6): upload URLs, the presigned PUT and presigned downloads.

Uploads are streamed to disk (a 500 MB upload is never held in memory) and later hard-linked
into the run directory. ``presigned`` routes carry no API key: their URLs hold an unguessable,
expiring token instead, as Nextmv's do.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.requests import ClientDisconnect

from nextmv_tui.cloud.models import UploadURL
from nextmv_tui.service import payloads
from nextmv_tui.service.api import JSON_MEDIA, TAR_MEDIA, ApiProblem, decimal
from nextmv_tui.service.deps import ApplicationDep, ServiceDep, check_path_id
from nextmv_tui.service.openapi import ANY_JSON, BINARY, answers
from nextmv_tui.service.settings import PART_SUFFIX
from nextmv_tui.service.store import UploadRecord
from nextmv_tui.service.streams import tar_gz_chunks

UPLOAD_RETENTION = 24 * 3600
"""Uploads are forgotten a day after their URL expired (run inputs are hard links)."""

router = APIRouter()
"""Routes under ``/v1`` (key required)."""

presigned = APIRouter()
"""Routes whose URL is the credential (no key)."""


@router.post(
    "/v1/applications/{app_id}/runs/uploadurl", responses=answers(UploadURL, 400, 404, 507)
)
async def upload_url(request: Request, app: ApplicationDep, service: ServiceDep) -> dict[str, Any]:
    now = time.time()
    for stale in service.store.prune_uploads(now - UPLOAD_RETENTION):
        payloads.remove_quietly(service.settings.uploads_dir / stale)
    upload = UploadRecord(
        id=payloads.new_id("upload-", 16),
        app_id=app.id,
        token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + service.settings.upload_ttl,
        size=None,
    )
    service.store.create_upload(upload)
    base = str(request.base_url).rstrip("/")
    url = f"{base}/uploads/{upload.id}?token={upload.token}"
    return UploadURL(upload_id=upload.id, upload_url=url).to_wire()


@presigned.put(
    "/uploads/{upload_id}",
    responses=answers(None, 400, 403, 404, 413, 501, 507, auth=False, what="Stored"),
)
async def put_upload(
    request: Request, service: ServiceDep, upload_id: str, token: str = ""
) -> Response:
    upload = service.store.get_upload(check_path_id("upload ID", upload_id))
    if upload is None:
        raise ApiProblem(404, f"upload {upload_id!r} not found")
    if not hmac.compare_digest(token.encode(), upload.token.encode()):
        raise ApiProblem(403, "invalid upload token")
    if upload.expires_at < time.time():
        raise ApiProblem(403, "upload URL expired (valid 15 minutes); request a new one")
    declared = request.headers.get("content-length")
    if "chunked" in request.headers.get("transfer-encoding", "").lower() or not declared:
        raise ApiProblem(501, "chunked uploads are not supported: send Content-Length")
    length = decimal(declared)
    if length is None:
        raise ApiProblem(400, f"invalid Content-Length {declared!r}")
    limit = service.settings.max_upload_bytes
    if length > limit:
        raise ApiProblem(413, f"upload is {length} bytes, over the {limit}-byte limit")
    dest = service.settings.uploads_dir / upload.id
    await _stream_to_file(request, dest, limit)
    service.store.complete_upload(upload.id, dest.stat().st_size)
    return Response(status_code=200)


@presigned.get(
    "/downloads/{token}",
    responses=answers(
        None, 400, 404, auth=False, media={JSON_MEDIA: ANY_JSON, TAR_MEDIA: BINARY},
        what="The file: JSON as stored, anything else as a gzip tar",
    ),
)
async def download(service: ServiceDep, token: str) -> Response:
    entry = service.presigner.resolve(token)
    if entry is None or not entry.path.exists():
        raise ApiProblem(404, "download URL unknown or expired; request a new one")
    if entry.wrap_as is not None:
        return StreamingResponse(
            tar_gz_chunks(entry.path, entry.wrap_as), media_type=entry.media_type
        )
    return FileResponse(entry.path, media_type=entry.media_type)


async def _stream_to_file(request: Request, dest: Path, limit: int) -> None:
    """Write the body to ``dest`` chunk by chunk (never all in memory); atomic rename."""
    part = dest.with_name(f"{dest.name}.{secrets.token_hex(4)}{PART_SUFFIX}")
    total = 0
    try:
        with open(part, "wb", opener=_private) as handle:
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit:
                    raise ApiProblem(413, f"upload is over the {limit}-byte limit")
                handle.write(chunk)
    except ClientDisconnect:
        payloads.remove_quietly(part)
        raise ApiProblem(400, f"upload interrupted after {total} bytes; PUT it again") from None
    except BaseException:
        payloads.remove_quietly(part)
        raise
    part.replace(dest)


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
