"""Cloud routes of features the local service does not implement: a loud 400 naming them.

Without these, an SDK call such as ``new_run(managed_input_id=...)`` (which first reads the
managed input) or ``list_assets`` would get a bare 404 that names nothing. 400 rather than
501 because the official CLI prints the body of a 400 and hides that of a 5xx.
"""

from __future__ import annotations

from typing import Any, NoReturn

from fastapi import APIRouter

from nextmv_tui.service.api import ApiProblem

router = APIRouter()

_ANY: dict[str, Any] = {
    "methods": ["GET", "POST", "PUT", "PATCH", "DELETE"], "response_model": None,
}
_LOCAL = "not supported by the local service"


def _refuse(feature: str) -> NoReturn:
    raise ApiProblem(400, f"{feature} are {_LOCAL}")


@router.api_route("/v1/applications/{app_id}/inputs", **_ANY)
@router.api_route("/v1/applications/{app_id}/inputs/{rest:path}", **_ANY)
async def managed_inputs() -> NoReturn:
    _refuse("managed inputs (v1/applications/{app}/inputs)")


@router.api_route("/v1/applications/{app_id}/runs/{run_id}/assets", **_ANY)
@router.api_route("/v1/applications/{app_id}/runs/{run_id}/assets/{rest:path}", **_ANY)
async def run_assets() -> NoReturn:
    _refuse("run assets")


@router.api_route("/v1/applications/{app_id}/runs/{run_id}/ensemble", **_ANY)
async def ensemble_detail() -> NoReturn:
    _refuse("ensemble runs")
