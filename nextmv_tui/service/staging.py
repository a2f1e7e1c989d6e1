"""A run's working copy and files: copy the app, unpack the input, collect the output.

Before a run: ``run_dir/work`` gets the manifest's files plus ``app.yaml`` (the SDK's local
runner does the same), and a file-based input is unpacked into the manifest's input folder
after every archive member was checked to stay inside it. After a run: stdout becomes
``output.json`` or ``output.txt`` (a hard link, never a copy in memory), a file-based output
folder (``output/`` for csv-archive, the solutions folder for multi-file) becomes
``output.tar.gz``, and ``statistics`` and ``metrics`` are read where the app writes them.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from nextmv_tui.service.faults import DISK_FULL_ERROR, is_disk_full
from nextmv_tui.service.manifest import AppManifest, ManifestError
from nextmv_tui.service.payloads import link_or_copy

MAX_PARSED_OUTPUT = 64 * 1024 * 1024
"""Stdout above this size is not parsed for ``statistics`` (format is sniffed instead)."""


class SetupError(Exception):
    """A run cannot start; the message is the run's one-line error."""


@dataclass(frozen=True)
class CollectedOutput:
    """A successful run's output as stored in its run dir."""

    path: Path
    format: str
    size: int
    statistics: dict[str, Any] | None
    metrics: dict[str, Any] | None = None
    note: str | None = None
    """A line for the run's log (e.g. the expected output folder is missing)."""


# --- before the run ------------------------------------------------------------------------


def prepare_work_dir(manifest: AppManifest, work: Path) -> None:
    """A fresh ``work`` folder holding the app's files and its ``app.yaml``."""
    if work.exists():
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        selected = manifest.resolve_files()
    except ManifestError as exc:
        raise SetupError(f"app files missing: {exc}") from None
    if manifest.entrypoint not in selected:
        raise SetupError(
            f"app files missing: entry point {manifest.entrypoint!r} not found in {manifest.root}"
        )
    for relative in selected:
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(manifest.root / relative, target)
        except OSError as exc:
            if is_disk_full(exc):
                raise SetupError(f"{DISK_FULL_ERROR}: cannot copy the app to run it") from None
            raise SetupError(f"app files missing: cannot copy {relative!r}: {exc}") from None
    try:
        shutil.copy2(manifest.manifest_path, work / "app.yaml")
    except OSError as exc:
        raise SetupError(f"app files missing: cannot copy app.yaml: {exc}") from None


def open_input(path: Path) -> IO[bytes]:
    """The JSON/text input, opened to become the app's stdin."""
    try:
        return path.open("rb")
    except OSError as exc:
        raise SetupError(f"input file missing: {path}: {exc}") from None


def _check_member(member: tarfile.TarInfo, dest: Path) -> None:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise SetupError(f"input archive: member {member.name!r} escapes the input folder")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise SetupError(f"input archive: member {member.name!r} is not a file or folder")
    if member.issym() or member.islnk():
        base = dest if member.islnk() else (dest / name).parent
        target = (base / member.linkname).resolve()
        absolute = PurePosixPath(member.linkname).is_absolute()
        if absolute or not target.is_relative_to(dest.resolve()):
            raise SetupError(
                f"input archive: link {member.name!r} points outside the input folder"
            )


def extract_input(archive: Path, dest: Path) -> None:
    """Unpack a multi-file input into ``dest``; every member must stay inside it."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, dest)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, members=members, filter="data")
            else:  # pragma: no cover - Python without extraction filters
                tar.extractall(dest, members=members)
    except FileNotFoundError:
        raise SetupError(f"input file missing: {archive}") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SetupError(f"input archive {archive.name} is not a valid tar.gz: {exc}") from None


# --- after the run -------------------------------------------------------------------------


def output_folder(manifest: AppManifest, output_format: str) -> str:
    """Where a file-based output is: ``output/`` for csv-archive, the manifest's solutions
    folder (default ``outputs/solutions/``) for multi-file (nextmv-apps.md §1.5)."""
    return "output/" if output_format == "csv-archive" else manifest.solutions_path


def collect_stdout(
    manifest: AppManifest, work: Path, run_dir: Path, output_format: str = "json"
) -> CollectedOutput:
    """``run_dir/stdout`` as the output: JSON, or text when the run asked for text or stdout
    is not JSON; statistics and metrics from the app's files, else from the stdout JSON."""
    stdout = run_dir / "stdout"
    size = stdout.stat().st_size
    value = _parse_json_file(stdout)
    if value is _TOO_DEEP:  # valid or not, too deep to parse here: judge by its ends
        value, parsable = None, False
    else:
        parsable = size <= MAX_PARSED_OUTPUT
    is_json = output_format != "text" and (
        value is not None if parsable else _sniff_json(stdout)
    )
    target = run_dir / ("output.json" if is_json else "output.txt")
    link_or_copy(stdout, target)
    statistics, metrics = _sections(manifest, work, value)
    return CollectedOutput(target, "json" if is_json else "text", size, statistics, metrics)


def collect_files(
    manifest: AppManifest, work: Path, run_dir: Path, output_format: str
) -> CollectedOutput:
    """The output folder packed as ``output.tar.gz``; statistics and metrics where the manifest
    says, else in ``outputs/``, else (csv-archive) in the stdout JSON."""
    folder = output_folder(manifest, output_format)
    target = run_dir / "output.tar.gz"
    source = work / folder
    _pack_output(source, target)
    note = None if source.is_dir() else (
        f"note: the app wrote no {folder} folder, so its {output_format} output is empty"
    )
    stdout = run_dir / "stdout"
    value = _parse_json_file(stdout) if stdout.is_file() else None
    statistics, metrics = _sections(manifest, work, value)
    return CollectedOutput(
        target, output_format, target.stat().st_size, statistics, metrics, note
    )


def _pack_output(source: Path, archive: Path) -> None:
    """Gzip tar of the regular files under ``source`` with names relative to it."""
    with tarfile.open(archive, "w:gz") as tar:
        if not source.is_dir():
            return
        for path in sorted(source.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            tar.add(path, arcname=path.relative_to(source).as_posix(), recursive=False)


def _sections(
    manifest: AppManifest, work: Path, stdout_value: Any
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(statistics, metrics) from the first place the SDK's runner looks (§1.5)."""
    return (
        _section(work, stdout_value, "statistics", manifest.statistics_path, manifest),
        _section(work, stdout_value, "metrics", manifest.metrics_path, manifest),
    )


def _section(
    work: Path, stdout_value: Any, key: str, declared: str, manifest: AppManifest
) -> dict[str, Any] | None:
    """The manifest's path (multi-file apps), ``outputs/<key>.json``,
    ``outputs/<key>/<key>.json``, then the ``<key>`` field of the stdout JSON; a file holding
    ``{"<key>": ...}`` is unwrapped, as the SDK does."""
    places = [declared] if declared and manifest.content_format == "multi-file" else []
    places += [f"outputs/{key}.json", f"outputs/{key}/{key}.json"]
    for place in places:
        path = work / place
        if path.is_file():
            value = _parse_json_file(path)
            if isinstance(value, dict):
                inner = value.get(key, value)
                return inner if isinstance(inner, dict) else None
    if isinstance(stdout_value, dict) and isinstance(stdout_value.get(key), dict):
        return dict(stdout_value[key])
    return None


_TOO_DEEP = object()
"""What ``_parse_json_file`` returns for JSON nested deeper than the parser's recursion."""


def _parse_json_file(path: Path) -> Any:
    """The file's JSON value; None when it is missing, too big to parse or not JSON;
    ``_TOO_DEEP`` when it is nested too deep to parse here."""
    try:
        if path.stat().st_size > MAX_PARSED_OUTPUT:
            return None
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    except RecursionError:
        return _TOO_DEEP


def _sniff_json(path: Path) -> bool:
    """Cheap check for huge stdout: does it start with '{'/'[' and end with '}'/']'?"""
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
        handle.seek(max(0, path.stat().st_size - 4096))
        tail = handle.read().rstrip()
    return head[:1] in (b"{", b"[") and tail[-1:] in (b"}", b"]")
