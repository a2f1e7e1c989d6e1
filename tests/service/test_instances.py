"""``GET v1/applications/{app}/instances``: the local service lists the default instance as
Nextmv Cloud lists instances, plus the documented ``nextmv_tui`` extension carrying the
options ``app.yaml`` declares and the service's execution classes. The official SDK reads it
with its own models (the extension is ignored there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from nextmv import cloud  # type: ignore[import-untyped]

from nextmv_tui.cloud.catalog import InstanceList
from nextmv_tui.service.settings import ExecutionClass
from tests.conftest import InProcessService, LocalService


async def get(service: InProcessService, path: str, **params: str) -> Any:
    async with service.async_client() as http:
        response = await http.get(path, params=params)
    return response


async def test_instances_carry_defaults_declared_types_and_classes(
    make_inprocess_service: Callable[..., Any],
) -> None:
    service = await make_inprocess_service(
        extra_classes=(ExecutionClass("big", 1, 60.0),)
    )
    response = await get(service, "/v1/applications/routing/instances")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list), "unpaginated: a bare list, as Cloud answers"
    (instance,) = body
    assert instance["id"] == "latest" and instance["application_id"] == "routing"
    assert instance["configuration"] == {
        "execution_class": "local", "options": {"duration": "10", "seed": "0"},
    }
    extension = instance["nextmv_tui"]
    assert [(o["name"], o["option_type"], o["default"]) for o in extension["options"]] == [
        ("duration", "float", 10), ("seed", "int", 0),
    ]
    assert extension["execution_classes"] == ["local", "big"]
    paged = (await get(service, "/v1/applications/knapsack/instances", pagereturn="true")).json()
    parsed = InstanceList.model_validate(paged)
    assert [o.name for o in parsed.items[0].nextmv_tui.options] == ["duration", "algorithm"]
    assert parsed.next_page_token is None


async def test_unknown_app_is_404_and_the_key_is_required(
    inprocess_service: InProcessService,
) -> None:
    response = await get(inprocess_service, "/v1/applications/nope/instances")
    assert response.status_code == 404 and "nope" in response.json()["error"]
    async with httpx.AsyncClient(base_url=inprocess_service.endpoint,
                                 transport=inprocess_service.transport) as http:
        anonymous = await http.get("/v1/applications/routing/instances")
    assert anonymous.status_code == 401


async def test_an_app_created_without_code_has_an_instance_without_options(
    inprocess_service: InProcessService,
) -> None:
    async with inprocess_service.async_client() as http:
        created = await http.post("/v1/applications", json={"id": "bare", "name": "bare"})
        assert created.status_code == 201
        body = (await http.get("/v1/applications/bare/instances")).json()
    assert body[0]["configuration"]["options"] == {}
    assert body[0]["nextmv_tui"]["options"] == []


def test_the_official_sdk_lists_the_instances(local_service: LocalService) -> None:
    client = cloud.Client(api_key=local_service.api_key, url=local_service.endpoint)
    app = cloud.Application(client=client, id="routing")
    (instance,) = app.list_instances()
    assert instance.id == "latest"
    assert instance.configuration.execution_class == "local"
    assert instance.configuration.options == {"duration": "10", "seed": "0"}
    assert [a.id for a in cloud.list_applications(client)] == ["knapsack", "routing"]
