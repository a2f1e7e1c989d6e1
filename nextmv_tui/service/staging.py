"""A run's working copy and files: copy the app, unpack the input, collect the output.

Before a run: ``run_dir/work`` gets the manifest's files plus ``app.yaml`` (the SDK's local
runner does the same), and a file-based input is unpacked into the manifest's input folder
after every archive member was checked to stay inside it. After a run: stdout becomes
``output.json`` or ``output.txt`` (a hard link, never a copy in memory), a file-based output
folder becomes ``output.tar.gz``, and ``statistics`` are read where the app writes them.
"""

from __future__ import annotations

import contextlib
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


def collect_stdout(run_dir: Path) -> CollectedOutput:
    """``run_dir/stdout`` as the output: JSON (with its statistics) or text."""
    stdout = run_dir / "stdout"
    size = stdout.stat().st_size
    statistics: dict[str, Any] | None = None
    if size <= MAX_PARSED_OUTPUT:
        try:
            statistics = _statistics_from(json.loads(stdout.read_bytes()))
            is_json = True
        except ValueError:
            is_json = False
        except RecursionError:  # valid or not, too deep to parse here: judge by its ends
            is_json = _sniff_json(stdout)
    else:
        is_json = _sniff_json(stdout)
    target = run_dir / ("output.json" if is_json else "output.txt")
    link_or_copy(stdout, target)
    return CollectedOutput(target, "json" if is_json else "text", size, statistics)


def collect_files(manifest: AppManifest, work: Path, run_dir: Path) -> CollectedOutput:
    """The manifest's output folder packed as ``output.tar.gz``, statistics from
    ``outputs/statistics.json``."""
    target = run_dir / "output.tar.gz"
    _pack_output(work / manifest.output_dir, target)
    statistics: dict[str, Any] | None = None
    stats_file = work / "outputs" / "statistics.json"
    if stats_file.is_file() and stats_file.stat().st_size <= MAX_PARSED_OUTPUT:
        with contextlib.suppress(ValueError, OSError):
            value = json.loads(stats_file.read_bytes())
            statistics = _statistics_from(value) or (value if isinstance(value, dict) else None)
    fmt = "csv-archive" if manifest.content_format == "csv-archive" else "multi-file"
    return CollectedOutput(target, fmt, target.stat().st_size, statistics)


def _pack_output(source: Path, archive: Path) -> None:
    """Gzip tar of the regular files under ``source`` with names relative to it."""
    with tarfile.open(archive, "w:gz") as tar:
        if not source.is_dir():
            return
        for path in sorted(source.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            tar.add(path, arcname=path.relative_to(source).as_posix(), recursive=False)


def _statistics_from(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        stats = value.get("statistics")
        if isinstance(stats, dict):
            return stats
    return None


def _sniff_json(path: Path) -> bool:
    """Cheap check for huge stdout: does it start with '{'/'[' and end with '}'/']'?"""
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
        handle.seek(max(0, path.stat().st_size - 4096))
        tail = handle.read().rstrip()
    return head[:1] in (b"{", b"[") and tail[-1:] in (b"}", b"]")
