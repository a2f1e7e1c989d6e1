"""Async client of the Nextmv run API (httpx). CONTRACT SKELETON: bodies are filled by the core work.

One ``httpx.AsyncClient`` per ``NextmvClient``; every method raises only ``NextmvError`` subclasses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.models import (
    CreateRunRequest,
    LiveLogs,
    QueuedRun,
    RunInformation,
    RunList,
    RunResult,
    RunSummary,
    UploadURL,
)
from nextmv_tui.cloud.packaging import PackagedInput
from nextmv_tui.cloud.retry import RetryPolicy

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes_sent, total_bytes) during uploads and downloads."""


class NextmvClient:
    def __init__(
        self,
        config: ClientConfig,
        *,
        timeout: float = 20.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        raise NotImplementedError

    @property
    def endpoint(self) -> str:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> NextmvClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def account_queue(self) -> list[QueuedRun]:
        raise NotImplementedError

    async def run_information(self, app_id: str, run_id: str) -> RunInformation:
        raise NotImplementedError

    async def run_result(self, app_id: str, run_id: str) -> RunResult:
        """Inline result; for non-JSON or > 5 MiB outputs ``output`` is None (use save_output)."""
        raise NotImplementedError

    async def save_output(
        self, app_id: str, run_id: str, dest: Path, progress: ProgressCallback | None = None
    ) -> Path:
        """Stream the run's output to ``dest`` (JSON file, or .tar.gz for multi-file)."""
        raise NotImplementedError

    async def run_input(self, app_id: str, run_id: str) -> Any:
        raise NotImplementedError

    async def logs(self, app_id: str, run_id: str) -> str:
        raise NotImplementedError

    async def live_logs(self, app_id: str, run_id: str, since: str | None = None) -> LiveLogs:
        raise NotImplementedError

    async def list_runs(self, app_id: str, page_token: str | None = None) -> RunList:
        raise NotImplementedError

    def iter_runs(self, app_id: str) -> AsyncIterator[RunSummary]:
        raise NotImplementedError

    async def upload_url(self, app_id: str) -> UploadURL:
        raise NotImplementedError

    async def upload(
        self, upload_url: str, path: Path, progress: ProgressCallback | None = None
    ) -> None:
        raise NotImplementedError

    async def create_run(
        self, app_id: str, request: CreateRunRequest, instance_id: str | None = None
    ) -> str:
        raise NotImplementedError

    async def submit(
        self,
        app_id: str,
        package: PackagedInput,
        request: CreateRunRequest,
        *,
        instance_id: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> str:
        """Upload if the package needs it, then create the run; returns the run ID."""
        raise NotImplementedError

    async def cancel_run(self, app_id: str, run_id: str) -> None:
        raise NotImplementedError
