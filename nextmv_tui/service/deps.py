"""What route handlers receive through ``Depends``: the service, the key check, the
application and the run named in the path.

A handler declares what it needs (``service: ServiceDep``, ``run: RunDep``) and gets it
checked: an unknown application or run is a 404 before the handler runs. Every dependency is
``async`` on purpose: FastAPI runs plain ``def`` dependencies in a thread pool, and the service's
handlers rely on running on the event loop (run creation and dispatch are synchronous there).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from nextmv_tui.cloud.ids import id_problem
from nextmv_tui.service import payloads
from nextmv_tui.service.api import ApiProblem
from nextmv_tui.service.manifest import AppManifest
from nextmv_tui.service.scheduler import Scheduler
from nextmv_tui.service.settings import ServiceSettings
from nextmv_tui.service.store import AppRecord, RunRecord, Store


@dataclass
class Service:
    """Everything a request handler needs, stored on ``app.state.service``."""

    settings: ServiceSettings
    api_key: str
    store: Store
    scheduler: Scheduler
    presigner: payloads.Presigner
    manifests: dict[str, AppManifest]

    def run_dir(self, run: RunRecord) -> Path:
        return self.settings.runs_dir / run.id

    def download_url(
        self, request: Request, path: Path, media_type: str, wrap_as: str | None = None
    ) -> str:
        """A presigned ``/downloads/<token>`` URL on the address the client used (``wrap_as``:
        the file is sent inside a tar.gz under that name)."""
        token = self.presigner.issue(path, media_type, wrap_as)
        return f"{str(request.base_url).rstrip('/')}/downloads/{token}"


async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


async def require_key(request: Request, service: ServiceDep) -> None:
    """Bearer auth of every ``/v1`` route (a dependency of their routers)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), service.api_key.encode()
    ):
        reason = "missing" if not header else "wrong"
        # Names no server path: any client can read this answer.
        raise ApiProblem(
            401,
            f"{reason} API key: send 'Authorization: Bearer <key>' with the key of this local "
            "service (the person who started it can read it from its data dir)",
            {"WWW-Authenticate": "Bearer"},
        )


def check_path_id(kind: str, value: str) -> str:
    """The one ID rule (``cloud.ids``) for IDs in a path: 400 naming the ID otherwise."""
    problem = id_problem(value)
    if problem is not None:
        raise ApiProblem(400, f"invalid {kind} {value!r}: {problem}")
    return value


async def get_application(app_id: str, service: ServiceDep) -> AppRecord:
    """The application ``{app_id}`` of the path; 404 when it does not exist."""
    app = service.store.get_application(check_path_id("application ID", app_id))
    if app is None:
        raise ApiProblem(404, f"application {app_id!r} not found")
    return app


ApplicationDep = Annotated[AppRecord, Depends(get_application)]


async def get_run(app_id: str, run_id: str, service: ServiceDep) -> RunRecord:
    """The run ``{run_id}`` of application ``{app_id}``; 404 when either does not match."""
    run = service.store.get_run(check_path_id("run ID", run_id))
    if run is None or run.app_id != app_id:
        raise ApiProblem(404, f"run {run_id!r} not found in application {app_id!r}")
    return service.scheduler.unsaved_final(run)


RunDep = Annotated[RunRecord, Depends(get_run)]
