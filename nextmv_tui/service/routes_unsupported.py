"""Cloud routes of features the local service does not implement: a loud 400 naming them.

Without these, an SDK call such as ``new_run(managed_input_id=...)`` (which first reads the
managed input) or ``list_assets`` would get a bare 404 that names nothing. 400 rather than
501 because the official CLI prints the body of a 400 and hides that of a 5xx.
"""

from __future__ import annotations

from typing import Any, NoReturn

from fastapi import APIRouter

from nextmv_tui.service.api import ApiProblem
from nextmv_tui.service.openapi import answers

router = APIRouter()

_ANY: dict[str, Any] = {
    "methods": ["GET", "POST", "PUT", "PATCH", "DELETE"], "response_model": None,
    "responses": answers(None, 400, 404, what="Never: every request is refused with 400"),
}
_HIDDEN: dict[str, Any] = {**_ANY, "include_in_schema": False}
"""The catch-all sub-paths: refused the same way, left out of ``/openapi.json``."""
_LOCAL = "not supported by the local service"


def _refuse(feature: str) -> NoReturn:
    raise ApiProblem(400, f"{feature} are {_LOCAL}")


@router.api_route("/v1/applications/{app_id}/inputs", **_ANY)
@router.api_route("/v1/applications/{app_id}/inputs/{rest:path}", **_HIDDEN)
async def managed_inputs(app_id: str) -> NoReturn:
    _refuse("managed inputs (v1/applications/{app}/inputs)")


@router.api_route("/v1/applications/{app_id}/runs/{run_id}/assets", **_ANY)
@router.api_route("/v1/applications/{app_id}/runs/{run_id}/assets/{rest:path}", **_HIDDEN)
async def run_assets(app_id: str, run_id: str) -> NoReturn:
    _refuse("run assets")


@router.api_route("/v1/applications/{app_id}/runs/{run_id}/ensemble", **_ANY)
async def ensemble_detail(app_id: str, run_id: str) -> NoReturn:
    _refuse("ensemble runs")
