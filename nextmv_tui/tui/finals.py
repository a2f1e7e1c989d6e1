"""Final states of runs that left the queue, fetched a few at a time (Textual-free).

Each answer goes to ``loaded`` and each failure to ``failed`` (the app posts them as
messages); a run the server no longer knows fails with ``NotFoundError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.models import RunInformation

CONCURRENCY = 4


async def fetch_final_states(
    client: NextmvClient,
    items: Sequence[tuple[str, str]],
    loaded: Callable[[RunInformation], object],
    failed: Callable[[str, Exception], object],
) -> None:
    """``items`` are (run ID, application ID) pairs."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(run_id: str, app_id: str) -> None:
        async with gate:
            try:
                info = await client.run_information(app_id, run_id)
            except Exception as exc:
                failed(run_id, exc)
                return
            loaded(info)

    await asyncio.gather(*(one(run_id, app_id) for run_id, app_id in items))
