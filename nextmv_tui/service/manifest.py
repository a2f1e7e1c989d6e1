"""Nextmv ``app.yaml`` manifests: what the executor needs to run an app folder.

Only the fields that matter for running an app locally are read (see
docs in ``shared/reference/nextmv-apps.md`` §2); unknown fields are ignored, as the SDK's
local runner does. Every problem raises :class:`ManifestError` naming the file and the field.

Deliberate difference from the SDK: a ``type: python`` app runs with the service's own
interpreter (``sys.executable``), not in an ephemeral ``uv`` environment, so runs work offline
and start fast. ``python.pip-requirements`` is therefore recorded but not installed: the app
sees the packages of the service's environment.
"""

from __future__ import annotations

import glob
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

MANIFEST_NAME = "app.yaml"

APP_TYPES: dict[str, str] = {
    "python": "main.py",
    "go": "main",
    "binary": "main",
    "java": "main.jar",
}
"""Supported ``type`` values and the default entry point of each."""

CONTENT_FORMATS = ("json", "multi-file", "text", "csv-archive")
FILE_FORMATS = ("multi-file", "csv-archive")
"""Content formats whose input and output are folders of files rather than stdin/stdout."""

OPTION_TYPES = ("string", "bool", "int", "float")

_APP_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_BUNDLED = ("knapsack", "routing")


class ManifestError(ValueError):
    """An app folder or its ``app.yaml`` cannot be used; the message names file and field."""


@dataclass(frozen=True)
class OptionSpec:
    """One ``configuration.options.items`` entry (used for display and defaults only)."""

    name: str
    option_type: str = "string"
    default: Any = None
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class AppManifest:
    """A validated app folder; paths inside it are POSIX-style and relative to ``root``."""

    app_id: str
    root: Path
    name: str
    description: str
    type: str
    entrypoint: str
    files: tuple[str, ...]
    content_format: str = "json"
    input_path: str = "inputs/"
    solutions_path: str = "outputs/solutions/"
    options: tuple[OptionSpec, ...] = ()
    cwd: str = ""
    runtime: str = ""
    pip_requirements: tuple[str, ...] = field(default=())

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(option.name for option in self.options)

    @property
    def option_defaults(self) -> dict[str, Any]:
        """Declared defaults (informational: like the SDK, runs never get them as flags)."""
        return {o.name: o.default for o in self.options if o.default is not None}

    @property
    def file_based(self) -> bool:
        """True when input and output are files (multi-file, csv-archive), not stdin/stdout."""
        return self.content_format in FILE_FORMATS

    @property
    def output_dir(self) -> str:
        """Folder (relative to the working dir) whose files form a file-based output."""
        return "output/" if self.content_format == "csv-archive" else self.solutions_path

    def input_dir(self, input_format: str) -> str:
        """Folder (relative to the working dir) a file-based input is unpacked into."""
        return "input/" if input_format == "csv-archive" else self.input_path

    def command(self, work_dir: Path) -> list[str]:
        """The argv that starts the entry point inside a working copy at ``work_dir``."""
        entry = str(work_dir / self.entrypoint)
        if self.type == "python":
            return [sys.executable, entry]
        if self.type == "java":
            return ["java", "-XX:MaxRAMPercentage=90", "-jar", entry]
        return [entry]

    def resolve_files(self) -> list[str]:
        """Relative paths of the files the ``files`` globs select; raises if one matches none."""
        return resolve_files(self.root, self.files, self.manifest_path)


def resolve_files(root: Path, patterns: tuple[str, ...], source: Path) -> list[str]:
    """Expand ``files`` globs under ``root``; a folder match selects its whole tree."""
    selected: dict[str, None] = {}
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, root_dir=root, recursive=True))
        if not matches:
            raise ManifestError(
                f"{source}: field 'files': {pattern!r} matches no file in {root}"
            )
        for match in matches:
            path = root / match
            if path.is_dir():
                for child in sorted(path.rglob("*")):
                    if child.is_file() and ".nextmv" not in child.relative_to(root).parts:
                        selected[child.relative_to(root).as_posix()] = None
            elif path.is_file():
                selected[PurePosixPath(Path(match).as_posix()).as_posix()] = None
    return list(selected)


def sanitize_app_id(text: str) -> str:
    """Folder name -> URL-safe app id (lowercase letters, digits, '-' and '_')."""
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    return cleaned[:100] or "app"


def _fail(path: Path, field_name: str, reason: str) -> ManifestError:
    return ManifestError(f"{path}: field '{field_name}': {reason}")


def _relative(path: Path, field_name: str, value: Any, *, folder: bool) -> str:
    """Validate a POSIX path relative to the app/working dir that stays inside it."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, field_name, f"must be a non-empty string (got {value!r})")
    posix = PurePosixPath(value.strip())
    if posix.is_absolute() or ".." in posix.parts:
        raise _fail(path, field_name, f"must be a relative path inside the app ({value!r})")
    text = posix.as_posix()
    if text == ".":
        text = ""
    return (text.rstrip("/") + "/") if folder and text else text


def _mapping(path: Path, field_name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(path, field_name, f"must be a mapping (got {type(value).__name__})")
    return value


def _string(path: Path, field_name: str, value: Any, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise _fail(path, field_name, f"must be a string (got {value!r})")
    return value


def _options(path: Path, configuration: dict[str, Any]) -> tuple[OptionSpec, ...]:
    options = _mapping(path, "configuration.options", configuration.get("options"))
    items = options.get("items") or []
    if not isinstance(items, list):
        raise _fail(path, "configuration.options.items", "must be a list")
    specs: list[OptionSpec] = []
    for index, item in enumerate(items):
        where = f"configuration.options.items[{index}]"
        if not isinstance(item, dict):
            raise _fail(path, where, "must be a mapping")
        name = item.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise _fail(path, f"{where}.name", f"must be a flag-safe name (got {name!r})")
        option_type = item.get("option_type", item.get("type", "string"))
        if option_type not in OPTION_TYPES:
            raise _fail(
                path, f"{where}.option_type",
                f"must be one of {', '.join(OPTION_TYPES)} (got {option_type!r})",
            )
        specs.append(
            OptionSpec(
                name=name,
                option_type=option_type,
                default=item.get("default"),
                description=_string(path, f"{where}.description", item.get("description")),
                required=bool(item.get("required", False)),
            )
        )
    return tuple(specs)


def _requirements(path: Path, python: dict[str, Any]) -> tuple[str, ...]:
    value = python.get("pip-requirements")
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _fail(path, "python.pip-requirements", "must be a path or a list of strings")


def load_manifest(app_dir: str | Path, app_id: str | None = None) -> AppManifest:
    """Read and validate ``<app_dir>/app.yaml``; ``app_id`` defaults to the folder name."""
    root = Path(app_dir).expanduser().resolve()
    path = root / MANIFEST_NAME
    if not root.is_dir():
        raise ManifestError(f"{root}: app folder does not exist")
    if app_id is None:
        app_id = sanitize_app_id(root.name)
    elif not _APP_ID_RE.match(app_id):
        raise ManifestError(
            f"{path}: app id {app_id!r} must be lowercase letters, digits, '-' or '_'"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        reason = f"missing (every app folder needs an {MANIFEST_NAME})"
        raise ManifestError(f"{path}: {reason}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise ManifestError(f"{path}: invalid YAML: {reason}") from None
    if not isinstance(raw, dict):
        raise ManifestError(f"{path}: must be a YAML mapping (got {type(raw).__name__})")

    app_type = raw.get("type")
    if app_type not in APP_TYPES:
        raise _fail(path, "type", f"must be one of {', '.join(APP_TYPES)} (got {app_type!r})")
    files = raw.get("files")
    if not isinstance(files, list) or not files:
        raise _fail(path, "files", "must be a non-empty list of paths or globs")
    patterns = tuple(
        _relative(path, f"files[{i}]", value, folder=False) or "." for i, value in enumerate(files)
    )

    execution = _mapping(path, "execution", raw.get("execution"))
    entry_raw = execution.get("entrypoint", APP_TYPES[app_type])
    entrypoint = _relative(path, "execution.entrypoint", entry_raw, folder=False)
    cwd = ""
    if execution.get("cwd") is not None:
        cwd = _relative(path, "execution.cwd", execution["cwd"], folder=True)

    configuration = _mapping(path, "configuration", raw.get("configuration"))
    content = _mapping(path, "configuration.content", configuration.get("content"))
    content_format = content.get("format", "json")
    if content_format not in CONTENT_FORMATS:
        raise _fail(
            path, "configuration.content.format",
            f"must be one of {', '.join(CONTENT_FORMATS)} (got {content_format!r})",
        )
    multi = _mapping(path, "configuration.content.multi-file", content.get("multi-file"))
    multi_in = _mapping(path, "configuration.content.multi-file.input", multi.get("input"))
    multi_out = _mapping(path, "configuration.content.multi-file.output", multi.get("output"))
    input_path = _relative(
        path, "configuration.content.multi-file.input.path",
        multi_in.get("path", "inputs/"), folder=True,
    )
    solutions_path = _relative(
        path, "configuration.content.multi-file.output.solutions",
        multi_out.get("solutions", "outputs/solutions/"), folder=True,
    )
    if not input_path or not solutions_path:
        raise _fail(path, "configuration.content.multi-file", "paths must name a sub-folder")

    manifest = AppManifest(
        app_id=app_id,
        root=root,
        name=_string(path, "name", raw.get("name"), app_id) or app_id,
        description=_string(path, "description", raw.get("description")),
        type=app_type,
        entrypoint=entrypoint,
        files=patterns,
        content_format=content_format,
        input_path=input_path,
        solutions_path=solutions_path,
        options=_options(path, configuration),
        cwd=cwd,
        runtime=_string(path, "runtime", raw.get("runtime")),
        pip_requirements=_requirements(path, _mapping(path, "python", raw.get("python"))),
    )
    selected = manifest.resolve_files()
    if entrypoint not in selected:
        raise _fail(
            path, "files",
            f"the entry point {entrypoint!r} is not among the files copied for a run "
            f"(it must exist and be matched by 'files')",
        )
    return manifest


def bundled_app_dir(name: str) -> Path:
    """Folder of a bundled app (``knapsack`` or ``routing``) shipped inside this package."""
    return Path(__file__).resolve().parent / "apps" / name


def bundled_apps() -> list[AppManifest]:
    """The apps shipped with the service, pre-registered under their folder names."""
    return [load_manifest(bundled_app_dir(name), name) for name in _BUNDLED]
