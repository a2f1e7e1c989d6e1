"""Instances of an application (read-only), as Nextmv Cloud lists them, plus one extension.

``GET v1/applications/{app}/instances`` answers the default instance ``latest`` the local
service runs every submission on (a bare list, or ``{"items": [...]}`` with
``pagereturn=true``, as Cloud does). Its ``configuration`` holds the default execution class
and the defaults of the options the app's ``app.yaml`` declares. The additive, documented
extension ``nextmv_tui`` (ignored by the official SDK, which drops unknown fields) carries
what Cloud has no route for: the declared options with their types, and the execution
classes this service runs, so the monitor's submit dialog can offer and type-check them.
An application created without code (``POST v1/applications``) has no declared options.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import RootModel

from nextmv_tui.cloud.catalog import (
    Instance,
    InstanceConfiguration,
    InstanceList,
    LocalExtension,
    OptionSchema,
    format_default,
)
from nextmv_tui.service import wire
from nextmv_tui.service.deps import ApplicationDep, ServiceDep
from nextmv_tui.service.openapi import answers
from nextmv_tui.service.settings import DEFAULT_CLASS

DEFAULT_INSTANCE = "latest"

router = APIRouter()


class InstancesAnswer(RootModel[list[Instance] | InstanceList]):
    """A bare list, or with ``pagereturn=true`` a page of ``items`` (as Cloud answers)."""


@router.get("/v1/applications/{app_id}/instances", responses=answers(InstancesAnswer, 400, 404))
async def list_instances(
    app: ApplicationDep, service: ServiceDep, pagereturn: str | None = None
) -> Any:
    manifest = service.manifests.get(app.id)
    specs = [
        OptionSchema(name=spec.name, option_type=spec.option_type, default=spec.default,
                     description=spec.description, required=spec.required)
        for spec in (manifest.options if manifest is not None else ())
    ]
    defaults = {s.name: format_default(s.default) for s in specs if s.default is not None}
    instance = Instance(
        id=DEFAULT_INSTANCE,
        application_id=app.id,
        name=DEFAULT_INSTANCE,
        description="default instance: every run of the local service uses it",
        configuration=InstanceConfiguration(execution_class=DEFAULT_CLASS, options=defaults),
        created_at=wire.timestamp(app.created_at),
        updated_at=wire.timestamp(app.updated_at),
        nextmv_tui=LocalExtension(
            options=specs, execution_classes=list(service.settings.execution_classes)
        ),
    ).to_wire()
    items = [instance]
    return {"items": items} if (pagereturn or "").lower() == "true" else items
