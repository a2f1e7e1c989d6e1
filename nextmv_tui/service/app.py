"""FastAPI factory of the local Nextmv-compatible run service (routes of reference §2).

``create_app(settings)`` wires store, scheduler and the route modules, one router each
(``routes_apps``, ``routes_uploads``, ``routes_create``, ``routes_files``, ``routes_runs``,
``routes_logs``, ``routes_queue``); handlers get the service, the application and the run
through the dependencies of ``deps``. Errors are always JSON ``{"error": "..."}``; bad input
gives 4xx, never 500. Bearer auth guards every ``/v1`` route; ``/healthz`` and the presigned
``/uploads`` and ``/downloads`` URLs carry no key (the URLs hold an unguessable, expiring
token instead).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from nextmv_tui import __version__
from nextmv_tui.service import (
    openapi,
    payloads,
    routes_apps,
    routes_create,
    routes_files,
    routes_instances,
    routes_logs,
    routes_queue,
    routes_runs,
    routes_unsupported,
    routes_uploads,
)
from nextmv_tui.service.api import ApiProblem, error_response, validation_message
from nextmv_tui.service.deps import Service, require_key
from nextmv_tui.service.faults import DISK_FULL_ANSWER, is_disk_full
from nextmv_tui.service.manifest import (
    BUNDLED_APPS,
    AppManifest,
    bundled_app_dir,
    load_manifest,
)
from nextmv_tui.service.scheduler import Scheduler, StartRun
from nextmv_tui.service.settings import ServiceSettings
from nextmv_tui.service.store import Store

log = logging.getLogger(__name__)

V1_ROUTERS: tuple[APIRouter, ...] = (
    routes_apps.router,
    routes_uploads.router,
    routes_create.router,
    routes_files.router,
    routes_runs.router,
    routes_logs.router,
    routes_queue.router,
    routes_unsupported.router,
    routes_instances.router,
)
"""The key-guarded routers, in matching order (a 405's ``Allow`` lists the methods of every
route of the path, whatever the order: ``allowed_methods``)."""


class Health(BaseModel):
    status: str
    service: str


# --- apps --------------------------------------------------------------------------------


def load_manifests(settings: ServiceSettings) -> dict[str, AppManifest]:
    """Bundled apps plus ``--app`` folders, by app ID.

    A broken ``--app`` folder raises ``ValueError`` (the user must fix it); a bundled app that
    fails to load is skipped with a warning so the service still starts.
    """
    found: dict[str, AppManifest] = {}
    if settings.bundled_apps:
        for name in BUNDLED_APPS:
            try:
                item = load_manifest(bundled_app_dir(name), name)
            except ValueError as exc:
                log.warning("bundled app %s skipped: %s", name, exc)
                continue
            found[item.app_id] = item
    from_folders: dict[str, Path] = {}
    for app_dir in settings.app_dirs:
        item = load_manifest(Path(app_dir))
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
    bundled = {name: bundled_app_dir(name) for name in BUNDLED_APPS}
    lines = []
    for app_id, item in sorted(manifests.items()):
        if bundled.get(app_id) == item.root:
            lines.append(f"{app_id} (bundled)")
        elif app_id in bundled:
            lines.append(f"{app_id} ({item.root}, replaces the bundled app)")
        else:
            lines.append(f"{app_id} ({item.root})")
    return lines


# --- factory -----------------------------------------------------------------------------


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
    presigner = payloads.Presigner(settings.upload_ttl, settings.data_dir)
    service = Service(settings, api_key, store, scheduler, presigner, apps)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        scheduler.recover()
        scheduler.dispatch()
        try:
            yield
        finally:
            await scheduler.shutdown()
            store.close()

    app = FastAPI(title="nextmv-tui local run service", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    app.state.service = service
    app.state.app_lines = describe_apps(apps)
    _install_error_handlers(app)

    @app.get("/healthz", responses={200: {"model": Health, "description": "Serving"}})
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "service": "nextmv-tui"}

    app.include_router(routes_uploads.presigned)
    for router in V1_ROUTERS:
        app.include_router(router, dependencies=[Depends(require_key)])
    return app


def _install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as ``{"error": "..."}``; no request a client can send gives a 5xx.

    Storage errors (``OSError``, SQLite) are handled here rather than by the catch-all: a
    full disk is a 507 the client can act on, and a handled error keeps the connection open
    (the catch-all runs after Starlette has given up on the request, and uvicorn then closes
    the keep-alive connection, failing the client's next request too).
    """

    @app.exception_handler(ApiProblem)
    async def _problem(_: Request, exc: ApiProblem) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, validation_message(exc, "invalid request"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
        return error_response(exc.status_code, str(exc.detail), headers)

    @app.exception_handler(OSError)
    @app.exception_handler(sqlite3.Error)
    async def _storage(request: Request, exc: Exception) -> JSONResponse:
        if is_disk_full(exc):
            log.warning("disk full on %s %s: %s", request.method, request.url.path, exc)
            return error_response(507, DISK_FULL_ANSWER)
        log.exception("storage error on %s %s", request.method, request.url.path)
        return error_response(500, f"local service storage error: {type(exc).__name__}")

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, f"local service error: {type(exc).__name__}: {exc}")


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route serves at the request's path (the ``Allow`` of a 405).

    Starlette names only the first matching route's methods; several routes share a path
    here (e.g. ``GET`` and ``DELETE …/runs/{id}``). Asked through the routes' own ``matches``
    so included routers are searched the way the router itself does.
    """
    allowed = []
    for method in _METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in app.router.routes):
            allowed.append(method)
    return allowed
