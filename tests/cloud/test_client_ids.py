"""IDs go into URL paths unescaped (as in the SDK): unsafe ones are refused before sending."""

from __future__ import annotations

import httpx
import pytest

from nextmv_tui.cloud.client import NextmvClient, check_id
from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.errors import InputError


def test_check_id_accepts_real_ids():
    for value in ("knapsack", "run-4472caitq21e", "my_app.v2", "A1"):
        assert check_id("run ID", value) == value


@pytest.mark.parametrize("value", ["bad/app", "a b", "", "x?y", "../x", "-lead"])
def test_check_id_refuses_path_changing_ids(value: str):
    with pytest.raises(InputError, match="IDs may only contain"):
        check_id("application ID", value)


async def test_nothing_is_sent_for_an_unsafe_id():
    """A transport that records requests: the server is never reached for a bad ID."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    config = ClientConfig(endpoint="http://127.0.0.1:1", api_key="k")
    async with NextmvClient(config, transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(InputError, match="application ID 'bad/app id'"):
            await client.run_information("bad/app id", "run-1")
        with pytest.raises(InputError, match="run ID"):
            await client.cancel_run("knapsack", "run 1")
    assert sent == []
