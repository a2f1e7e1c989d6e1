"""Async client of the Nextmv run API (httpx).

One ``httpx.AsyncClient`` per ``NextmvClient`` (keep-alive, timeouts); every method raises
only ``NextmvError`` subclasses. The API key is sent per request, never set on the
``AsyncClient``, so presigned upload/download URLs never see it.

Retry rules (see ``retry.py`` for the waits):
- GETs, the upload-URL POST and the presigned PUT/GET: connection errors, timeouts, 429
  (``Retry-After`` honoured) and 502/503/504;
- create-run and cancel: only when the connection failed before the request was sent, so a
  run is never created twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from nextmv_tui.cloud.catalog import Instance, InstanceList
from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    ConnectionLostError,
    InputError,
    MalformedResponseError,
    NextmvError,
    NotCancelableError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from nextmv_tui.cloud.ids import id_problem
from nextmv_tui.cloud.models import (
    MAX_INLINE_BYTES,
    OUTPUT_FOR_INPUT,
    Application,
    ApplicationList,
    CreateRunRequest,
    CreateRunResponse,
    DownloadURL,
    Format,
    FormatInput,
    FormatOutput,
    LiveLogs,
    QueuedRun,
    QueueResponse,
    RunInformation,
    RunList,
    RunLog,
    RunResult,
    RunSummary,
    UploadURL,
)
from nextmv_tui.cloud.packaging import PackagedInput, TextCheck
from nextmv_tui.cloud.retry import RETRY_STATUSES, RetryPolicy, parse_retry_after
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.cloud.steps import run_steps_async

if TYPE_CHECKING:
    from nextmv_tui.cloud.queue_reader import QueueReader, QueueSnapshot

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes_sent, total_bytes) during uploads and downloads."""

RetryMode = Literal["transient", "connect-only"]
M = TypeVar("M", bound=BaseModel)
P = TypeVar("P", InstanceList, ApplicationList)
"""A page of a ``pagereturn=true`` listing."""

CHUNK_SIZE = 256 * 1024
MAX_PAGES = 500
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class _Call:
    """One logical request; ``label`` names it in errors (no query, no key)."""

    method: str
    url: str
    label: str
    params: dict[str, str] | None = None
    json_body: Any = None
    auth: bool = True
    retry: RetryMode = "transient"


class NextmvClient:
    def __init__(
        self,
        config: ClientConfig,
        *,
        timeout: float = 20.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            verify=_ssl_verify(config.verify),
            transport=transport,
            follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=30.0),
        )

    @property
    def endpoint(self) -> str:
        return self._config.endpoint

    @property
    def config(self) -> ClientConfig:
        return self._config

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> NextmvClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- queue and run information ----------------------------------------------------------

    async def account_queue(self) -> list[QueuedRun]:
        return (await self._get_model("v1/account/queue", QueueResponse)).runs

    async def account_queue_snapshot(self, reader: QueueReader) -> QueueSnapshot:
        """The queue read by ``reader``: only entries that changed since its last committed
        snapshot are parsed (``cloud/queue_reader.py``), in steps the event loop runs
        between its frames and keys (``cloud/steps.py``: a thread would share the GIL)."""
        label = _label("GET", "v1/account/queue")
        call = _Call("GET", self._url("v1/account/queue"), label)
        # The body's pieces are joined in a step of their own, not by httpx's ``aread``.
        parts: list[bytes] = []
        await self._send_with_retry(lambda: self._build(call), label, call.retry, parts=parts)
        return await run_steps_async(reader.read_steps(parts, label))

    async def run_information(self, app_id: str, run_id: str) -> RunInformation:
        return await self._get_model(f"{_run_path(app_id, run_id)}/metadata", RunInformation)

    async def run_result(self, app_id: str, run_id: str) -> RunResult:
        """Inline result; for non-JSON or > 5 MiB outputs ``output`` is None (use save_output)."""
        info = await self.run_information(app_id, run_id)
        path = _run_path(app_id, run_id)
        if _output_needs_url(info):
            result = await self._get_model(path, RunResult, params={"format": "url"})
            return result.model_copy(update={"output": None})
        return await self._get_model(path, RunResult)

    async def save_output(
        self, app_id: str, run_id: str, dest: Path, progress: ProgressCallback | None = None
    ) -> Path:
        """Stream the run's output to ``dest`` (JSON file, or .tar.gz for multi-file).

        If ``dest`` is an existing directory the file is named ``<run_id>-output.json`` or
        ``<run_id>-output.tar.gz`` inside it. Written through a temporary file, so a failed
        download never leaves a truncated output behind. Returns the path written.
        """
        info = await self.run_information(app_id, run_id)
        if info.status != RunStatus.SUCCEEDED:
            raise NextmvError(
                f"run {run_id} has no output to save: its status is {info.status.value}"
            )
        output_type = info.metadata.format.output.type
        suffix = ".json" if output_type == "json" else ".tar.gz"
        target = dest / f"{run_id}-output{suffix}" if dest.is_dir() else dest
        if not _output_needs_url(info):
            result = await self._get_model(_run_path(app_id, run_id), RunResult)
            if result.output is None:
                raise NextmvError(f"run {run_id} returned no output")
            data = json.dumps(result.output, indent=2, ensure_ascii=False).encode() + b"\n"
            _write_atomic(target, data)
            if progress is not None:
                progress(len(data), len(data))
            return target
        link = await self._get_model(
            f"{_run_path(app_id, run_id)}/output", DownloadURL, params={"format": "url"}
        )
        expect_gzip = output_type != "json"
        size = int(info.metadata.output_size)
        await self._download(link.url, target, size, expect_gzip, progress)
        return target

    async def run_input(self, app_id: str, run_id: str) -> Any:
        """The input as submitted: a JSON value for JSON/text inputs up to 5 MiB, else a
        ``DownloadURL`` (multi-file, csv-archive or large inputs come through ``format=url``)."""
        info = await self.run_information(app_id, run_id)
        path = f"{_run_path(app_id, run_id)}/input"
        meta = info.metadata
        if meta.format.input.type in ("multi-file", "csv-archive") or (
            meta.input_size > MAX_INLINE_BYTES
        ):
            return await self._get_model(path, DownloadURL, params={"format": "url"})
        response = await self._send(_Call("GET", self._url(path), _label("GET", path)))
        try:
            return response.json()
        except ValueError:
            return response.text

    async def list_instances(self, app_id: str, max_pages: int = 20) -> list[Instance]:
        """The application's instances (``configuration``: execution class, default options;
        the local service adds each app's declared option types). Pages are followed like
        ``list_applications`` does; an instance listed twice is kept once."""
        path = _app_path(app_id) + "/instances"
        found: dict[str, Instance] = {}
        async for page in self._pages(path, InstanceList, max_pages):
            for instance in page.items:
                found.setdefault(instance.id, instance)
        return list(found.values())

    async def _pages(self, path: str, model: type[P], max_pages: int) -> AsyncIterator[P]:
        """Every page of a ``pagereturn=true`` listing (stops at a missing or repeated token)."""
        params = {"pagereturn": "true"}
        tokens: set[str] = set()
        for _ in range(max_pages):
            page = await self._get_model(path, model, params)
            yield page
            token = page.next_page_token
            if not token or token in tokens:
                return
            tokens.add(token)
            params = {"pagereturn": "true", "pagetoken": token}

    async def save_input(self, app_id: str, run_id: str, dest_dir: Path) -> tuple[Path, str]:
        """Stream the run's input into ``dest_dir``; returns (file, input format).

        JSON up to 5 MiB is copied byte for byte (``<run>-input.json``); a small text input
        (sent as a JSON string) becomes ``<run>-input.txt``; anything larger or file-based
        comes through ``format=url`` (``.json``, or a ``.tar.gz`` as downloaded). Memory stays
        bounded: bodies are streamed to a temporary file and renamed when complete."""
        info = await self.run_information(app_id, run_id)
        meta = info.metadata
        kind = meta.format.input.type
        path = f"{_run_path(app_id, run_id)}/input"
        inline = kind in ("json", "text") and meta.input_size <= MAX_INLINE_BYTES
        if not inline:
            target = dest_dir / f"{run_id}-input{'.json' if kind == 'json' else '.tar.gz'}"
            link = await self._get_model(path, DownloadURL, params={"format": "url"})
            await self._download(link.url, target, int(meta.input_size), kind != "json", None)
            return target, kind
        label = _label("GET", path)
        response = await self._send_with_retry(
            lambda: self._http.build_request("GET", self._url(path), headers=self._api_headers()),
            label, "transient", stream=True,
        )
        target = dest_dir / f"{run_id}-input.json"
        try:
            await self._stream_to_file(response, target, int(meta.input_size), False, None, label)
        finally:
            await response.aclose()
        if kind == "text":
            target = _json_string_to_text(target, dest_dir / f"{run_id}-input.txt")
        return target, kind

    async def logs(self, app_id: str, run_id: str) -> str:
        return (await self._get_model(f"{_run_path(app_id, run_id)}/logs", RunLog)).log

    async def live_logs(self, app_id: str, run_id: str, since: str | None = None) -> LiveLogs:
        params = {"since": since} if since else None
        return await self._get_model(f"{_run_path(app_id, run_id)}/logs/live", LiveLogs, params)

    async def list_runs(self, app_id: str, page_token: str | None = None) -> RunList:
        """One page of the application's runs (Cloud: at most 50, newest first)."""
        params = {"pagereturn": "true"}
        if page_token:
            params["pagetoken"] = page_token
        return await self._get_model(_app_path(app_id) + "/runs", RunList, params)

    async def iter_runs(self, app_id: str) -> AsyncIterator[RunSummary]:
        """Every run of the application, page by page (stops at 500 pages or a repeated token)."""
        async for page in self.recent_runs(app_id):
            for run in page:
                yield run

    async def recent_runs(
        self,
        app_id: str,
        *,
        created_after: datetime | None = None,
        max_runs: int | None = None,
        max_pages: int = MAX_PAGES,
    ) -> AsyncIterator[list[RunSummary]]:
        """The application's runs newest first, a page at a time, within bounds.

        Stops after ``max_runs`` runs, at the first page that reaches below ``created_after``
        (runs older than it are dropped), at a missing, empty or repeated page token, or after
        ``max_pages`` pages. The bounds are applied here, not sent: Nextmv Cloud documents
        no such filters, so this works the same against Cloud and the local service. A run
        listed twice (pages shifting under new runs) is yielded once.
        """
        if created_after is not None and created_after.tzinfo is None:
            created_after = created_after.replace(tzinfo=timezone.utc)
        token: str | None = None
        tokens: set[str] = set()
        seen: set[str] = set()
        left = max_runs
        for _ in range(max_pages):
            page = await self.list_runs(app_id, token)
            runs = [run for run in page.runs if run.id not in seen]
            seen.update(run.id for run in runs)
            reached_floor = created_after is not None and any(
                run.created_at < created_after for run in page.runs
            )
            if created_after is not None:
                runs = [run for run in runs if run.created_at >= created_after]
            if left is not None:
                runs = runs[:left]
                left -= len(runs)
            if runs:
                yield runs
            token = page.next_page_token
            if reached_floor or left == 0 or not token or token in tokens:
                return
            tokens.add(token)

    async def list_applications_page(self, page_token: str | None = None) -> ApplicationList:
        """One page of ``GET v1/applications`` (a bare-list answer reads as one full page)."""
        params = {"pagereturn": "true"}
        if page_token:
            params["pagetoken"] = page_token
        return await self._get_model("v1/applications", ApplicationList, params)

    async def list_applications(self, max_pages: int = MAX_PAGES) -> list[Application]:
        """Every application the key can see, following page tokens (a repeated token ends)."""
        apps: dict[str, Application] = {}
        token: str | None = None
        tokens: set[str] = set()
        for _ in range(max_pages):
            page = await self.list_applications_page(token)
            for app in page.items:
                apps.setdefault(app.id, app)
            token = page.next_page_token
            if not token or token in tokens:
                break
            tokens.add(token)
        return list(apps.values())

    # --- uploads and runs --------------------------------------------------------------------

    async def upload_url(self, app_id: str) -> UploadURL:
        path = _app_path(app_id) + "/runs/uploadurl"
        response = await self._send(_Call("POST", self._url(path), _label("POST", path)))
        return _parse(UploadURL, response, _label("POST", path))

    async def upload(
        self,
        upload_url: str,
        path: Path,
        progress: ProgressCallback | None = None,
        *,
        check_text: bool = False,
    ) -> None:
        """PUT ``path`` to a presigned URL: streamed, constant memory, explicit
        Content-Length (object stores refuse chunked bodies), no Authorization header.
        Retried from the start on transient failures.

        With ``check_text`` each chunk is checked (UTF-8, no NUL) before it is sent, and the
        end of the file before the last chunk: a bad file raises ``InputError`` with the
        byte offset and the PUT is aborted short of its Content-Length, so the object is
        never complete (a presigned store discards it; the local service deletes it)."""
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
        label = f"PUT {_presigned_label(upload_url)}"

        def build() -> httpx.Request:
            return self._http.build_request(
                "PUT",
                upload_url,
                content=_file_chunks(path, size, progress, check_text),
                headers={"Content-Length": str(size)},
            )

        response = await self._send_with_retry(build, label, "transient")
        await response.aclose()

    async def create_run(
        self, app_id: str, request: CreateRunRequest, instance_id: str | None = None
    ) -> str:
        path = _app_path(app_id) + "/runs"
        call = _Call(
            "POST",
            self._url(path),
            _label("POST", path),
            params={"instance_id": instance_id} if instance_id else None,
            json_body=request.model_dump(mode="json", by_alias=True, exclude_none=True),
            retry="connect-only",
        )
        response = await self._send(call)
        return _parse(CreateRunResponse, response, call.label).run_id

    async def submit(
        self,
        app_id: str,
        package: PackagedInput,
        request: CreateRunRequest,
        *,
        instance_id: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> str:
        """Upload if the package needs it, then create the run; returns the run ID.

        ``configuration.format`` is set from the package (output mirrored the SDK's way)
        unless the request already carries one. The caller owns ``package.cleanup()``.
        """
        configuration = request.configuration
        if configuration.format is None:
            kind = package.input_format
            fmt = Format(
                input=FormatInput(type=kind),
                output=FormatOutput(type=OUTPUT_FOR_INPUT.get(kind, "json")),
            )
            configuration = configuration.model_copy(update={"format": fmt})
        update: dict[str, Any] = {"configuration": configuration, "input_id": None}
        if package.upload_path is not None:
            link = await self.upload_url(app_id)
            await self.upload(
                link.upload_url, package.upload_path, progress, check_text=package.check_text
            )
            update.update(input=None, upload_id=link.upload_id)
        else:
            update.update(input=package.inline, upload_id=None)
        return await self.create_run(app_id, request.model_copy(update=update), instance_id)

    async def cancel_run(self, app_id: str, run_id: str) -> None:
        path = f"{_run_path(app_id, run_id)}/cancel"
        call = _Call("PATCH", self._url(path), _label("PATCH", path), retry="connect-only")
        try:
            response = await self._send(call)
        except ApiError as exc:
            if exc.status == 409 and not isinstance(exc, NotCancelableError):
                raise NotCancelableError(
                    f"run {run_id} cannot be canceled: it is already finished "
                    f"({_short(exc.message)})",
                    status=409,
                    endpoint=call.label,
                ) from None
            raise
        await response.aclose()

    # --- plumbing ----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self._config.endpoint}/{path}"

    def _api_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._config.api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    async def _get_model(
        self, path: str, model: type[M], params: dict[str, str] | None = None
    ) -> M:
        label = _label("GET", path)
        response = await self._send(_Call("GET", self._url(path), label, params=params))
        return _parse(model, response, label)

    def _build(self, call: _Call) -> httpx.Request:
        headers = self._api_headers() if call.auth else {}
        if call.json_body is not None:
            body = json.dumps(
                call.json_body, separators=(",", ":"), ensure_ascii=False
            ).encode("utf-8", "surrogatepass")
            return self._http.build_request(
                call.method, call.url, params=call.params, content=body, headers=headers
            )
        return self._http.build_request(call.method, call.url, params=call.params,
                                        headers=headers)

    async def _send(self, call: _Call) -> httpx.Response:
        response = await self._send_with_retry(lambda: self._build(call), call.label,
                                               call.retry)
        await response.aread()
        return response

    async def _send_with_retry(
        self,
        build: Callable[[], httpx.Request],
        label: str,
        mode: RetryMode,
        *,
        stream: bool = False,
        parts: list[bytes] | None = None,
    ) -> httpx.Response:
        """Send until success or a non-retryable failure; returns a 2xx response.

        With ``stream`` the body is left unread (the caller must close the response). With
        ``parts`` the decoded body is left in that list, unjoined (the response is closed).
        """
        policy = self._retry
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= policy.max_attempts
            try:
                response = await self._http.send(build(), stream=True)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise ConnectionLostError(
                    f"{label}: invalid URL ({_short(str(exc))})", endpoint=self.endpoint
                ) from None
            except httpx.DecodingError:
                raise MalformedResponseError(
                    label, "(body)", "content encoding could not be decoded"
                ) from None
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never left: safe to send again whatever the method.
                if last:
                    raise self._transport_error(exc, label) from None
                await policy.sleep(policy.delay(attempt))
                continue
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if mode != "transient" or last:
                    raise self._transport_error(exc, label) from None
                await policy.sleep(policy.delay(attempt))
                continue
            except httpx.HTTPError as exc:  # invalid URL, unsupported protocol, ...
                raise ConnectionLostError(f"{label}: {exc}", endpoint=self.endpoint) from None
            if response.is_success:
                if stream or await self._read_success(response, label, mode, last, parts):
                    return response
                await policy.sleep(policy.delay(attempt))
                continue
            try:
                await response.aread()
            except httpx.HTTPError:
                pass
            finally:
                await response.aclose()
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            retryable = mode == "transient" and response.status_code in RETRY_STATUSES
            too_long = retry_after is not None and retry_after > policy.max_retry_after
            if not retryable or last or too_long:
                raise _status_error(response, label, retry_after)
            await policy.sleep(policy.delay(attempt, retry_after))

    async def _read_success(
        self, response: httpx.Response, label: str, mode: RetryMode, last: bool,
        parts: list[bytes] | None = None,
    ) -> bool:
        """Read a 2xx body (into ``parts`` if given); False when a transient fault means:
        send the request again."""
        try:
            if parts is None:
                await response.aread()
            else:
                parts.clear()  # a retry starts the body again
                async for part in response.aiter_bytes():
                    parts.append(part)
        except httpx.DecodingError:
            await response.aclose()
            raise MalformedResponseError(
                label, "(body)", "content encoding could not be decoded"
            ) from None
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            await response.aclose()
            if mode != "transient" or last:
                raise self._transport_error(exc, label) from None
            return False
        return True

    def _transport_error(self, exc: Exception, label: str) -> TransportError:
        detail = _short(str(exc)) or exc.__class__.__name__
        if isinstance(exc, httpx.TimeoutException):
            phase = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
            return RequestTimeoutError(
                f"{label}: timed out after {self._timeout:g} s {phase} {self.endpoint}",
                endpoint=self.endpoint,
            )
        if isinstance(exc, httpx.ConnectError):
            return ConnectionLostError(
                f"{label}: could not connect to {self.endpoint} ({detail})",
                endpoint=self.endpoint,
            )
        return ConnectionLostError(
            f"{label}: connection to {self.endpoint} lost ({detail})", endpoint=self.endpoint
        )

    async def _download(
        self,
        url: str,
        target: Path,
        expected: int,
        expect_gzip: bool,
        progress: ProgressCallback | None,
    ) -> None:
        """GET a presigned URL (no auth) into ``target``; restarts from zero on retry."""
        label = f"GET {_presigned_label(url)}"
        policy = self._retry
        attempt = 0
        while True:
            attempt += 1
            response = await self._send_with_retry(
                lambda: self._http.build_request("GET", url), label, "transient", stream=True
            )
            try:
                await self._stream_to_file(response, target, expected, expect_gzip, progress, label)
                return
            except httpx.DecodingError:
                raise MalformedResponseError(
                    label, "(body)", "content encoding could not be decoded"
                ) from None
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if attempt >= policy.max_attempts:
                    raise self._transport_error(exc, label) from None
                await policy.sleep(policy.delay(attempt))
            finally:
                await response.aclose()

    async def _stream_to_file(
        self,
        response: httpx.Response,
        target: Path,
        expected: int,
        expect_gzip: bool,
        progress: ProgressCallback | None,
        label: str,
    ) -> None:
        total = int(response.headers.get("Content-Length") or expected or 0)
        partial = target.with_name(f".{target.name}.part")
        done = 0
        try:
            with partial.open("wb") as out:
                # A tar is stored as sent (raw); JSON is decoded if the server compressed it.
                chunks = (
                    response.aiter_raw(CHUNK_SIZE)
                    if expect_gzip
                    else response.aiter_bytes(CHUNK_SIZE)
                )
                async for chunk in chunks:
                    if done == 0 and expect_gzip and chunk[:2] != GZIP_MAGIC[: len(chunk[:2])]:
                        raise MalformedResponseError(label, "(body)", "expected a gzip tar")
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, max(total, done))
            os.replace(partial, target)
        except OSError as exc:
            raise NextmvError(f"cannot write {target}: {exc.strerror or exc}") from None
        finally:
            partial.unlink(missing_ok=True)


# --- helpers -----------------------------------------------------------------------------------


def check_id(kind: str, value: str) -> str:
    """Refuse an ID that would change the URL path (IDs go into paths unescaped, as in the SDK)."""
    problem = id_problem(value)
    if problem is not None:
        raise InputError(f"{kind} {value!r}", problem)
    return value


def _app_path(app_id: str) -> str:
    return f"v1/applications/{check_id('application ID', app_id)}"


def _run_path(app_id: str, run_id: str) -> str:
    return f"{_app_path(app_id)}/runs/{check_id('run ID', run_id)}"


def _label(method: str, path: str) -> str:
    return f"{method} /{path}"


def _presigned_label(url: str) -> str:
    """Name a presigned URL without its query (which carries the signature)."""
    parts = urlsplit(url)
    return f"presigned URL {parts.scheme}://{parts.netloc}{parts.path}"


def _write_atomic(target: Path, data: bytes) -> None:
    partial = target.with_name(f".{target.name}.part")
    try:
        partial.write_bytes(data)
        os.replace(partial, target)
    except OSError as exc:
        raise NextmvError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)


def _json_string_to_text(source: Path, target: Path) -> Path:
    """A text input answered as a JSON string (bounded: inline inputs are <= 5 MiB) as the
    plain text file it was; a body that is not a JSON string is kept as it came."""
    try:
        value = json.loads(source.read_bytes())
    except (OSError, ValueError):
        value = None
    data = value.encode() if isinstance(value, str) else None
    if data is None:
        os.replace(source, target)
        return target
    _write_atomic(target, data)
    source.unlink(missing_ok=True)
    return target


def _output_needs_url(info: RunInformation) -> bool:
    meta = info.metadata
    return meta.format.output.type != "json" or meta.output_size > MAX_INLINE_BYTES


def _ssl_verify(verify: bool | str) -> bool | ssl.SSLContext:
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


def _short(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return _short(response.text)
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            if isinstance(body.get(key), str):
                return _short(body[key])
    return _short(response.text)


def _status_error(response: httpx.Response, label: str, retry_after: float | None) -> ApiError:
    status = response.status_code
    message = _server_message(response)
    suffix = f": {message}" if message else ""
    if status in (401, 403):
        what = "API key rejected" if status == 401 else "not authorized"
        return AuthError(
            f"{label}: {what} ({status}){suffix}; check --api-key, NEXTMV_API_KEY or the profile",
            status=status,
            endpoint=label,
        )
    if status == 404:
        return NotFoundError(f"{label}: not found (404){suffix}", status=status, endpoint=label)
    if status == 409:
        return ApiError(f"{label}: conflict (409){suffix}", status=status, endpoint=label)
    if status in (400, 413, 422):
        return BadRequestError(
            f"{label}: request refused ({status}){suffix}", status=status, endpoint=label
        )
    if status == 429:
        wait = f"; retry after {retry_after:g} s" if retry_after is not None else ""
        return RateLimitedError(
            f"{label}: rate limited (429){suffix}{wait}",
            retry_after=retry_after,
            endpoint=label,
        )
    if status >= 500:
        return ServerError(
            f"{label}: server error ({status}){suffix}", status=status, endpoint=label
        )
    return ApiError(f"{label}: unexpected status {status}{suffix}", status=status, endpoint=label)


def _parse(model: type[M], response: httpx.Response, label: str) -> M:
    """Validate a 2xx body; failures name the endpoint and the first bad field (dotted)."""
    try:
        data = response.json()
    except ValueError:
        raise MalformedResponseError(label, "(body)", "not valid JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(body)"
        raise MalformedResponseError(label, field, first["msg"]) from None


async def _file_chunks(
    path: Path, size: int, progress: ProgressCallback | None, check_text: bool = False
) -> AsyncIterator[bytes]:
    """Read ``path`` in chunks; the byte count must match the Content-Length we announced.

    Reading (and the text check) runs off the event loop: a slow disk or a 450 MB check
    must not freeze a TUI that is uploading. A chunk is yielded only after it passed."""
    sent = 0
    check = TextCheck(path, during_upload=True) if check_text else None
    try:
        with path.open("rb") as handle:
            while True:
                chunk = await asyncio.to_thread(_read_checked, handle, check, sent, size)
                if not chunk:
                    break
                sent += len(chunk)
                if sent > size:
                    break
                if progress is not None:
                    progress(sent, size)
                yield chunk
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    if sent != size:
        raise InputError(str(path), "the file changed size while it was being uploaded")


def _read_checked(handle: BinaryIO, check: TextCheck | None, sent: int, size: int) -> bytes:
    """One chunk, checked before it may be sent; the last one also closes the check."""
    chunk = handle.read(CHUNK_SIZE)
    if check is not None and chunk:
        check.feed(chunk)
        if sent + len(chunk) == size:  # (a file that grew is refused by the caller)
            check.finish()
    return chunk
