"""A loopback HTTP proxy that delays every answer and can hold queue polls (issue 16).

One request per upstream connection (``Connection: close`` upstream), so each answer is
known to belong to its request. ``gate`` open (set) lets answers through after ``delay``
seconds; while it is closed, answers to ``GET .../account/queue`` are held and
``holding`` is set, so a test can press keys while a poll is certainly in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading


class SlowProxy:
    def __init__(self, upstream_port: int, delay: float = 0.6) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.gate = threading.Event()
        self.gate.set()
        self.holding = threading.Event()
        self.queue_answers = 0
        self._loop = asyncio.new_event_loop()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self._thread = threading.Thread(target=self._run, name="slow-proxy", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SlowProxy:
        ready = threading.Event()
        self._ready = ready
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.gate.set()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, sock=self._sock)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._finish_handlers()
            self._loop.close()

    def _finish_handlers(self) -> None:
        """Cancel the connections still open and let them end: a loop closed over pending
        handler tasks logs "Task was destroyed but it is pending" for each."""
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                body = await reader.readexactly(_content_length(head))
                answer = await self._forward(_close_upstream(head) + body)
                await asyncio.sleep(self.delay)
                if b"/account/queue" in head.split(b"\r\n", 1)[0]:
                    while not self.gate.is_set():
                        self.holding.set()
                        await asyncio.sleep(0.02)
                    self.holding.clear()
                    self.queue_answers += 1
                writer.write(answer)
                await writer.drain()
        writer.close()

    async def _forward(self, request: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        writer.write(request)
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return answer


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def _close_upstream(head: bytes) -> bytes:
    lines = [line for line in head.split(b"\r\n") if line and
             not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close", b"", b""])
