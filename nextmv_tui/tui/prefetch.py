"""The first queue request, sent before Textual and the HTTP stack are even imported.

Launch-to-queue-on-screen is a first-class figure. Importing Textual, httpx and pydantic
takes a few hundred milliseconds of CPU, and the first request's connection and TLS
handshake would otherwise start only after that. This standard-library request runs on a
thread while the main thread imports, so its answer is usually waiting by the time the app
mounts. It is an optimisation only: any problem (proxy configured, TLS, non-200, slow
answer) means the app ignores it and polls through the normal client.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from nextmv_tui.cloud.queue_reader import QueueReader, QueueSnapshot

PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class QueuePrefetch:
    """``GET v1/account/queue`` on a daemon thread; ``wait`` returns (status, body) or None."""

    def __init__(
        self, endpoint: str, api_key: str, verify: bool | str, *, timeout: float = 3.0
    ) -> None:
        self._endpoint = endpoint
        self._api_key = api_key
        self._verify = verify
        self._timeout = timeout
        self._result: tuple[int, bytes] | None = None
        self._thread = threading.Thread(target=self._run, name="queue-prefetch", daemon=True)

    @classmethod
    def start(cls, endpoint: str, api_key: str, verify: bool | str) -> QueuePrefetch | None:
        """Start one, unless a proxy is configured (only httpx honours those)."""
        if any(os.environ.get(var) for var in PROXY_VARS):
            return None
        prefetch = cls(endpoint, api_key, verify)
        prefetch._thread.start()
        return prefetch

    def _run(self) -> None:
        import http.client
        import ssl

        try:
            parts = urlsplit(self._endpoint)
            host = parts.hostname or ""
            path = parts.path.rstrip("/") + "/v1/account/queue"
            connection: http.client.HTTPConnection
            if parts.scheme == "https":
                if isinstance(self._verify, str):
                    context = ssl.create_default_context(cafile=self._verify)
                else:
                    context = ssl.create_default_context()
                    if self._verify is False:
                        context.check_hostname = False
                        context.verify_mode = ssl.CERT_NONE
                connection = http.client.HTTPSConnection(
                    host, parts.port, timeout=self._timeout, context=context
                )
            else:
                connection = http.client.HTTPConnection(host, parts.port, timeout=self._timeout)
            try:
                connection.request(
                    "GET", path,
                    headers={"Authorization": f"Bearer {self._api_key}",
                             "Accept": "application/json"},
                )
                response = connection.getresponse()
                self._result = (response.status, response.read())
            finally:
                connection.close()
        except Exception:  # optimisation only: the app falls back to its client
            self._result = None

    async def queue(self, timeout: float, reader: QueueReader) -> QueueSnapshot | None:
        """The queue it read, if it answered well within ``timeout`` s; else None (the app
        then polls through its client). Read on a thread by ``reader.preview`` (no
        pydantic: a provisional snapshot the app shows, then validates) or, for an answer
        the preview does not accept, by ``reader.read`` like every poll's."""
        from nextmv_tui.cloud.errors import MalformedResponseError

        answer = await asyncio.to_thread(self.wait, timeout)
        if answer is None or answer[0] != 200:
            return None
        preview = await asyncio.to_thread(reader.preview, answer[1])
        if preview is not None:
            return preview
        try:
            return await asyncio.to_thread(reader.read, answer[1])
        except MalformedResponseError:
            return None

    def wait(self, timeout: float) -> tuple[int, bytes] | None:
        """The answer, or None if it failed or did not come within ``timeout`` seconds."""
        self._thread.join(timeout)
        return None if self._thread.is_alive() else self._result
