"""Importing a heavy module off the event loop (Textual-free).

The launch paints its first rows before pydantic and httpx are imported (``cloud/
queue_reader.py`` previews the first answer). Whatever first needs the HTTP client must not
then import them on the loop: the import would block it for its whole length (100 to 250 ms
at launch), and if the first answer's validation thread is importing pydantic at that moment
the loop waits on Python's import lock for that one too.
"""

from __future__ import annotations

import asyncio
import importlib
import sys

CLIENT_MODULE = "nextmv_tui.cloud.client"


def loaded(name: str = CLIENT_MODULE) -> bool:
    return name in sys.modules


async def import_off_loop(name: str = CLIENT_MODULE) -> None:
    """Import ``name`` on a thread unless it is loaded (then it costs nothing)."""
    if not loaded(name):
        await asyncio.to_thread(importlib.import_module, name)
