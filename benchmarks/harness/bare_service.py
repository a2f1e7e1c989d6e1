"""Anchor for the service benchmarks: the same framework (FastAPI on uvicorn, one process,
loopback) doing the least the real routes could do.

    python -m benchmarks.harness.bare_service --port P --queue-file QUEUE.json

- ``GET /v1/account/queue``: answers the bytes of ``--queue-file`` (a real answer of the
  service, captured once), so the figure is the framework's cost of sending them;
- ``POST /v1/applications/{app}/runs``: parses the body as JSON and answers a new run ID,
  storing nothing;
- ``GET /healthz``.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response


def build(queue: bytes) -> FastAPI:
    app = FastAPI()
    counter = itertools.count()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/account/queue")
    async def account_queue() -> Response:
        return Response(queue, media_type="application/json")

    @app.post("/v1/applications/{app_id}/runs")
    async def create(request: Request, app_id: str) -> dict[str, Any]:
        body = json.loads(await request.body())
        if not isinstance(body, dict):
            return {"error": "not an object"}
        return {"run_id": f"bare-{next(counter):09d}"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--queue-file", type=Path, required=True)
    args = parser.parse_args()
    uvicorn.run(build(args.queue_file.read_bytes()), host="127.0.0.1", port=args.port,
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
