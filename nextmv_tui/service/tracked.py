"""Tracked (external) runs: the outcome of a run made elsewhere, recorded, never executed.

``Application.track_run(TrackedRun(...))`` uploads the input, output, logs, statistics and
metrics through upload URLs, then creates the run with a ``result`` object naming those
uploads (reference §2.1, docs "track runs"). The service stores each upload where an executed
run keeps the same thing (``output.*``, ``logs.jsonl``) and records the given status, error
and duration, so every route answers for a tracked run exactly as for an executed one. The run
is inserted already final: the scheduler never sees it.

As the SDK's ``TrackedRun`` documents, a JSON output's own ``statistics`` and ``metrics`` are
used; the separate uploads (meant for file-based outputs) fill in what the output lacks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nextmv_tui.cloud.models import ExternalRunResult
from nextmv_tui.service import payloads
from nextmv_tui.service.api import ApiProblem
from nextmv_tui.service.deps import Service
from nextmv_tui.service.manifest import FILE_FORMATS
from nextmv_tui.service.runlog import LOG_FILE, MAX_LOG_LINE, log_record
from nextmv_tui.service.staging import MAX_PARSED_OUTPUT

MAX_SECTION_BYTES = 16 * 1024 * 1024
"""Largest statistics or metrics upload parsed (they are stored in the database)."""


@dataclass(frozen=True)
class TrackedOutcome:
    """What a tracked run's ``result`` says, with its uploads stored in the run dir."""

    status: str
    error: str
    duration_ms: float | None
    output_file: str | None
    output_format: str
    output_size: int
    statistics: dict[str, Any] | None
    metrics: dict[str, Any] | None


def refuse_unsupported(result: ExternalRunResult) -> None:
    """Parts of ``result`` the service cannot honour are refused, naming them."""
    if result.status is None:
        raise ApiProblem(400, "result.status is required for a tracked run: succeeded or failed")
    if result.assets_upload_id:
        raise ApiProblem(
            400,
            "run assets (result.assets_upload_id) are not supported by the local service; "
            "track the run without assets",
        )


def record(
    service: Service, app_id: str, result: ExternalRunResult, output_type: str | None,
    run_dir: Path,
) -> TrackedOutcome:
    """Store the uploads ``result`` names in ``run_dir`` (blocking: call it on a worker
    thread). Outputs are hard-linked, never read whole; statistics come from a JSON output of
    at most ``MAX_SECTION_BYTES``."""
    output_file, output_format, size, from_output = None, output_type or "json", 0, None
    if result.output_upload_id:
        source = _upload_path(service, app_id, result.output_upload_id, "result.output_upload_id")
        output_file, output_format = _store_output(source, output_type, run_dir)
        size = (run_dir / output_file).stat().st_size
        if output_format == "json":
            from_output = _json_value(run_dir / output_file, MAX_SECTION_BYTES)
    if result.error_upload_id:
        source = _upload_path(service, app_id, result.error_upload_id, "result.error_upload_id")
        _store_logs(source, run_dir)
    statistics = _section(from_output, "statistics") or _uploaded_section(
        service, app_id, result.statistics_upload_id, "statistics"
    )
    metrics = _section(from_output, "metrics") or _uploaded_section(
        service, app_id, result.metrics_upload_id, "metrics"
    )
    return TrackedOutcome(
        status=str(result.status),
        error=result.error_message or "",
        duration_ms=result.execution_duration,
        output_file=output_file,
        output_format=output_format,
        output_size=size,
        statistics=statistics,
        metrics=metrics,
    )


def _upload_path(service: Service, app_id: str, upload_id: str, field: str) -> Path:
    upload = service.store.get_upload(upload_id)
    path = service.settings.uploads_dir / upload_id
    if upload is None or upload.app_id != app_id:
        raise ApiProblem(404, f"{field}: upload {upload_id!r} not found in application {app_id!r}")
    if upload.size is None or not path.exists():
        raise ApiProblem(
            400, f"{field}: upload {upload_id!r} has no data yet: PUT it to its upload_url first"
        )
    return path


def _store_output(source: Path, requested: str | None, run_dir: Path) -> tuple[str, str]:
    """(file name, format): a gzip tar is a file-based output (csv-archive when asked, else
    multi-file), JSON is json unless text was asked, anything else is text."""
    sniffed = payloads.sniff_format(source, MAX_PARSED_OUTPUT)
    if sniffed == "multi-file":
        name, fmt = "output.tar.gz", requested if requested in FILE_FORMATS else "multi-file"
    elif requested in FILE_FORMATS:
        raise ApiProblem(
            400,
            f"result.output_upload_id: a {requested} output must be a gzip-compressed tar of "
            "the output folder",
        )
    elif requested != "text" and sniffed == "json":
        name, fmt = "output.json", "json"
    else:
        name, fmt = "output.txt", "text"
    payloads.link_or_copy(source, run_dir / name)
    return name, fmt


def _store_logs(source: Path, run_dir: Path) -> None:
    """The uploaded log text, one log line per text line (streamed, buffered writes)."""
    with source.open("rb") as handle, (run_dir / LOG_FILE).open("ab") as log:
        while raw := handle.readline(MAX_LOG_LINE):  # a longer line comes in pieces
            log.write(log_record(raw.decode("utf-8", "replace").rstrip("\r\n")))


def _uploaded_section(
    service: Service, app_id: str, upload_id: str | None, key: str
) -> dict[str, Any] | None:
    if not upload_id:
        return None
    path = _upload_path(service, app_id, upload_id, f"result.{key}_upload_id")
    value = _json_value(path, MAX_SECTION_BYTES)
    if not isinstance(value, dict):
        raise ApiProblem(
            400,
            f"result.{key}_upload_id: upload {upload_id!r} is not a JSON object "
            f"(at most {MAX_SECTION_BYTES} bytes)",
        )
    inner = value.get(key, value)
    return inner if isinstance(inner, dict) else None


def _section(value: Any, key: str) -> dict[str, Any] | None:
    inner = value.get(key) if isinstance(value, dict) else None
    return inner if isinstance(inner, dict) else None


def _json_value(path: Path, limit: int | None) -> Any:
    """The file's JSON value, None when it is not JSON or over ``limit`` bytes."""
    try:
        if limit is not None and path.stat().st_size > limit:
            return None
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
