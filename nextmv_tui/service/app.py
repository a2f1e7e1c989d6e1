"""FastAPI factory of the local Nextmv-compatible run service (routes of reference §2).

``create_app(settings)`` wires store, scheduler and the route modules (``routes_create``:
uploads and run creation; ``routes_runs``: everything that reads or changes a run).
Errors are always JSON ``{"error": "..."}``; bad input gives 4xx, never 500. Bearer auth
guards every ``/v1`` route; ``/healthz`` and the presigned ``/uploads`` and ``/downloads``
URLs carry no key (the URLs hold an unguessable, expiring token instead).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from nextmv_tui.service import manifest as manifest_module
from nextmv_tui.service import payloads
from nextmv_tui.service.api import (
    ApiProblem,
    Service,
    error_response,
    require_key,
    validation_message,
)
from nextmv_tui.service.manifest import AppManifest
from nextmv_tui.service.routes_create import create_run_routes, presigned_routes
from nextmv_tui.service.routes_runs import application_routes, queue_routes, run_routes
from nextmv_tui.service.scheduler import Scheduler, StartRun
from nextmv_tui.service.settings import ServiceSettings
from nextmv_tui.service.store import Store

log = logging.getLogger(__name__)


# --- factory -----------------------------------------------------------------------------


def load_manifests(settings: ServiceSettings) -> dict[str, AppManifest]:
    """Bundled apps plus ``--app`` folders, by app ID.

    A broken ``--app`` folder raises ``ValueError`` (the user must fix it); a bundled app that
    fails to load is skipped with a warning so the service still starts.
    """
    found: dict[str, AppManifest] = {}
    if settings.bundled_apps:
        for name in ("knapsack", "routing"):
            try:
                item = manifest_module.load_manifest(manifest_module.bundled_app_dir(name), name)
            except ValueError as exc:
                log.warning("bundled app %s skipped: %s", name, exc)
                continue
            found[item.app_id] = item
    from_folders: dict[str, Path] = {}
    for app_dir in settings.app_dirs:
        item = manifest_module.load_manifest(Path(app_dir))
        if item.app_id in from_folders:
            raise ValueError(
                f"--app {app_dir}: app ID '{item.app_id}' is already registered by --app "
                f"{from_folders[item.app_id]}; rename one of the folders"
            )
        from_folders[item.app_id] = Path(app_dir)
        found[item.app_id] = item  # a folder may replace a bundled app of the same name
    return found


def describe_apps(manifests: dict[str, AppManifest]) -> list[str]:
    """One line per app for the startup banner: its ID and where its code comes from."""
    bundled = {name: manifest_module.bundled_app_dir(name) for name in ("knapsack", "routing")}
    lines = []
    for app_id, item in sorted(manifests.items()):
        if bundled.get(app_id) == item.root:
            lines.append(f"{app_id} (bundled)")
        elif app_id in bundled:
            lines.append(f"{app_id} ({item.root}, replaces the bundled app)")
        else:
            lines.append(f"{app_id} ({item.root})")
    return lines


def create_app(
    settings: ServiceSettings,
    *,
    manifests: dict[str, AppManifest] | None = None,
    start_run: StartRun | None = None,
) -> FastAPI:
    """The ASGI app. ``manifests``/``start_run`` are injectable for tests of the queue alone."""
    settings.prepare_dirs()
    api_key = settings.resolve_api_key()
    apps = load_manifests(settings) if manifests is None else manifests
    store = Store(settings.db_path)
    for app_id, item in apps.items():
        store.upsert_application(app_id, item.name or app_id, item.description)
    scheduler = Scheduler(store, settings, apps, start_run)
    service = Service(settings, api_key, store, scheduler, payloads.Presigner(settings.upload_ttl),
                      apps)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        scheduler.recover()
        scheduler.dispatch()
        try:
            yield
        finally:
            await scheduler.shutdown()
            store.close()

    app = FastAPI(title="nextmv-tui local run service", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.service = service
    app.state.app_lines = describe_apps(apps)

    @app.exception_handler(ApiProblem)
    async def _problem(_: Request, exc: ApiProblem) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, validation_message(exc, "invalid request"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, f"local service error: {type(exc).__name__}: {exc}")

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "service": "nextmv-tui"}

    presigned_routes(app)
    router = APIRouter(dependencies=[Depends(require_key)])
    application_routes(router)
    create_run_routes(router)
    run_routes(router)
    queue_routes(router)
    app.include_router(router)
    return app
