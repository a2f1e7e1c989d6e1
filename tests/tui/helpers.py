"""Helpers shared by the monitor tests: build the app against a service, submit runs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.models import CreateRunRequest, Format, Queuing, RunConfiguration
from nextmv_tui.cloud.samples import make_knapsack_input, make_routing_input
from nextmv_tui.tui.app import NextmvTuiApp, make_app
from nextmv_tui.tui.settings import Settings


def config_for(service: Any) -> ClientConfig:
    return ClientConfig(
        endpoint=service.endpoint, api_key=service.api_key, profile="test",
        source="test fixture", verify=service.verify,
    )


def app_for(service: Any, **kwargs: Any) -> NextmvTuiApp:
    """The monitor for a ``local_service`` (loopback) or an ``inprocess_service`` (ASGI)."""
    kwargs.setdefault("refresh", 0.5)
    kwargs.setdefault("transport", getattr(service, "transport", None))
    kwargs.setdefault("max_backoff", 2.0)
    return make_app(Settings(config=config_for(service), **kwargs))


def client_for(service: Any, **kwargs: Any) -> NextmvClient:
    kwargs.setdefault("transport", getattr(service, "transport", None))
    return NextmvClient(config_for(service), **kwargs)


def routing_request(duration: int, name: str = "", priority: int = 6) -> CreateRunRequest:
    return CreateRunRequest(
        input=make_routing_input(8, 1, 1),
        name=name or f"routing {duration}s",
        options={"duration": str(duration)},
        configuration=RunConfiguration(format=Format(), queuing=Queuing(priority=priority)),
    )


def knapsack_request(n: int = 20, name: str = "", priority: int = 6) -> CreateRunRequest:
    return CreateRunRequest(
        input=make_knapsack_input(n, 3),
        name=name or f"knapsack {n}",
        configuration=RunConfiguration(format=Format(), queuing=Queuing(priority=priority)),
    )


def row_status(app: NextmvTuiApp, run_id: str) -> str | None:
    row = app.store.get(run_id)
    return row.status_word if row else None


def table_cell(app: NextmvTuiApp, run_id: str, column: str) -> str:
    value = app.main.table.get_cell(run_id, column)
    return getattr(value, "plain", str(value))


class SlowQueue(httpx.AsyncBaseTransport):
    """The service's transport, except that queue polls wait while ``hold`` is set: a slow
    server, on demand (a fault the real service cannot produce when asked)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.hold = False
        self.release = asyncio.Event()
        self.waiting = 0
        """Queue polls currently held."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.hold and request.url.path.endswith("/v1/account/queue"):
            self.waiting += 1
            try:
                await self.release.wait()
            finally:
                self.waiting -= 1
        return await self._inner.handle_async_request(request)

    def let_go(self) -> None:
        self.hold = False
        self.release.set()
        self.release = asyncio.Event()
