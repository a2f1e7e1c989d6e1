"""Nextmv ``app.yaml`` manifests: what the executor needs to run an app folder.

Only the fields that matter for running an app locally are read (see
docs in ``shared/reference/nextmv-apps.md`` §2); unknown fields are ignored, as the SDK's
local runner does. Every problem raises :class:`ManifestError` naming the file and the field.
The manifest is a pydantic model with one class per ``app.yaml`` section; a field's rule is a
``BeforeValidator`` that raises ``ValueError(reason)``, so adding a field is one line and one rule.

A ``type: python`` app with ``python.pip-requirements`` runs in a virtualenv built from them
(``appenv.py``); one without requirements runs with the service's own interpreter, so the
bundled apps start fast and work offline. ``command(work_dir, python)`` takes the interpreter.
"""

from __future__ import annotations

import glob
import re
import sys
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

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
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
BUNDLED_APPS = ("knapsack", "routing")
"""The apps shipped in ``service/apps/``, registered under these IDs."""


class ManifestError(ValueError):
    """An app folder or its ``app.yaml`` cannot be used; the message names file and field."""


# --- field rules ---------------------------------------------------------------------------
# Each rule raises ValueError(reason); ``load_manifest`` turns it into
# "<file>: field '<dotted.field[index]>': <reason>". A new field needs only its rule.


def _one_of(choices: Iterable[str]) -> BeforeValidator:
    allowed = tuple(choices)

    def check(value: Any) -> Any:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)} (got {value!r})")
        return value

    return BeforeValidator(check)


def _mapping(value: Any) -> Any:
    """A section: absent or null is empty; anything but a mapping is refused."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping (got {type(value).__name__})")
    return value


def _string(value: Any) -> Any:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"must be a string (got {value!r})")
    return value


def _relative(value: Any, folder: bool) -> str:
    """A POSIX path relative to the app/working dir that stays inside it."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string (got {value!r})")
    posix = PurePosixPath(value.strip())
    if posix.is_absolute() or ".." in posix.parts:
        raise ValueError(f"must be a relative path inside the app ({value!r})")
    text = posix.as_posix()
    if text == ".":
        text = ""
    return (text.rstrip("/") + "/") if folder and text else text


def _non_empty_list(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list of paths or globs")
    return value


def _option_items(value: Any) -> Any:
    if not value:
        return ()
    if not isinstance(value, list):
        raise ValueError("must be a list")
    return value


def _option_item(value: Any) -> Any:
    if not isinstance(value, dict):
        raise ValueError("must be a mapping")
    return value


def _option_name(value: Any) -> Any:
    """Any visible text: SDK manifests allow spaces (``-max stops`` is one argv element)."""
    if not isinstance(value, str) or not value.strip() or _CONTROL_RE.search(value):
        raise ValueError(f"must be a non-empty name without control characters (got {value!r})")
    return value


def _requirements(value: Any) -> Any:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError("must be a path or a list of strings")


Section = BeforeValidator(_mapping)
Text = Annotated[str, BeforeValidator(_string)]
FilePath = Annotated[str, BeforeValidator(lambda value: _relative(value, folder=False))]
FolderPath = Annotated[str, BeforeValidator(lambda value: _relative(value, folder=True))]
FileGlob = Annotated[str, BeforeValidator(lambda value: _relative(value, folder=False) or ".")]


# --- the model: one class per app.yaml section ---------------------------------------------


class _Model(BaseModel):
    """Unknown fields are ignored, as the SDK's local runner does; values never change."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class OptionSpec(_Model):
    """One ``configuration.options.items`` entry (used for display and defaults only)."""

    name: Annotated[str, BeforeValidator(_option_name)] = Field(None, validate_default=True)
    option_type: Annotated[str, _one_of(OPTION_TYPES)] = "string"
    default: Any = None
    description: Text = ""
    required: Annotated[bool, BeforeValidator(bool)] = False

    @model_validator(mode="before")
    @classmethod
    def _type_alias(cls, data: Any) -> Any:
        """``type`` is accepted for ``option_type`` (older manifests)."""
        if isinstance(data, dict) and "option_type" not in data and "type" in data:
            return {**data, "option_type": data["type"]}
        return data


class OptionsSection(_Model):
    items: Annotated[
        tuple[Annotated[OptionSpec, BeforeValidator(_option_item)], ...],
        BeforeValidator(_option_items),
    ] = ()


class MultiFileInput(_Model):
    path: FolderPath = "inputs/"


OptionalFilePath = Annotated[
    str, BeforeValidator(lambda value: "" if value in (None, "") else _relative(value, False))
]


class MultiFileOutput(_Model):
    solutions: FolderPath = "outputs/solutions/"
    statistics: OptionalFilePath = ""
    """Where a multi-file app writes its statistics (deprecated by Nextmv; default: none)."""
    metrics: OptionalFilePath = "outputs/metrics.json"


class MultiFileSection(_Model):
    input: Annotated[MultiFileInput, Section] = Field(default_factory=MultiFileInput)
    output: Annotated[MultiFileOutput, Section] = Field(default_factory=MultiFileOutput)

    @model_validator(mode="after")
    def _sub_folders(self) -> MultiFileSection:
        if not self.input.path or not self.output.solutions:
            raise ValueError("paths must name a sub-folder")
        return self


class ContentSection(_Model):
    format: Annotated[str, _one_of(CONTENT_FORMATS)] = "json"
    multi_file: Annotated[MultiFileSection, Section] = Field(
        default_factory=MultiFileSection, alias="multi-file"
    )


class ConfigurationSection(_Model):
    content: Annotated[ContentSection, Section] = Field(default_factory=ContentSection)
    options: Annotated[OptionsSection, Section] = Field(default_factory=OptionsSection)


class ExecutionSection(_Model):
    entrypoint: Annotated[str | None, BeforeValidator(lambda v: _relative(v, folder=False))] = None
    """None: the default entry point of the app's type."""
    cwd: Annotated[str, BeforeValidator(lambda v: "" if v is None else _relative(v, True))] = ""


class PythonSection(_Model):
    pip_requirements: Annotated[tuple[str, ...], BeforeValidator(_requirements)] = Field(
        (), alias="pip-requirements"
    )
    requirements_inline: Annotated[bool, BeforeValidator(bool)] = False
    """True when ``pip-requirements`` was a list of specs rather than a file path."""
    arch: Text = ""
    """``arm64``/``amd64``: what Nextmv builds the app for (not emulated locally)."""

    @model_validator(mode="before")
    @classmethod
    def _inline_flag(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("pip-requirements"), list):
            return {**data, "requirements_inline": True}
        return data


class AppManifest(_Model):
    """A validated app folder: ``app.yaml``'s sections plus where the folder is and its ID.

    Paths inside it are POSIX-style and relative to ``root``. Built by :func:`load_manifest`;
    the properties below are the flat view the executor uses.
    """

    app_id: str
    root: Path
    type: Annotated[str, _one_of(APP_TYPES)] = Field(None, validate_default=True)
    files: Annotated[tuple[FileGlob, ...], BeforeValidator(_non_empty_list)] = Field(
        None, validate_default=True
    )
    name: Text = ""
    """The app's display name; its ID when ``app.yaml`` gives none."""
    description: Text = ""
    runtime: Text = ""
    execution: Annotated[ExecutionSection, Section] = Field(default_factory=ExecutionSection)
    configuration: Annotated[ConfigurationSection, Section] = Field(
        default_factory=ConfigurationSection
    )
    python: Annotated[PythonSection, Section] = Field(default_factory=PythonSection)

    @model_validator(mode="before")
    @classmethod
    def _name_defaults_to_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("name") in (None, ""):
            return {**data, "name": data.get("app_id")}
        return data

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME

    @property
    def entrypoint(self) -> str:
        declared = self.execution.entrypoint
        return APP_TYPES[self.type] if declared is None else declared

    @property
    def cwd(self) -> str:
        return self.execution.cwd

    @property
    def content_format(self) -> str:
        return self.configuration.content.format

    @property
    def input_path(self) -> str:
        return self.configuration.content.multi_file.input.path

    @property
    def solutions_path(self) -> str:
        return self.configuration.content.multi_file.output.solutions

    @property
    def options(self) -> tuple[OptionSpec, ...]:
        return self.configuration.options.items

    @property
    def pip_requirements(self) -> tuple[str, ...]:
        return self.python.pip_requirements

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

    def input_dir(self, input_format: str) -> str:
        """Folder (relative to the working dir) a file-based input is unpacked into."""
        return "input/" if input_format == "csv-archive" else self.input_path

    @property
    def statistics_path(self) -> str:
        return self.configuration.content.multi_file.output.statistics

    @property
    def metrics_path(self) -> str:
        return self.configuration.content.multi_file.output.metrics

    def command(self, work_dir: Path, python: str | None = None) -> list[str]:
        """The argv that starts the entry point inside a working copy at ``work_dir``.

        ``python``: the interpreter of a ``type: python`` app (default: the service's own)."""
        entry = str(work_dir / self.entrypoint)
        if self.type == "python":
            return [python or sys.executable, entry]
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


# --- loading -------------------------------------------------------------------------------


def _field_name(loc: tuple[int | str, ...]) -> str:
    """``("files", 0)`` -> ``files[0]``; ``("configuration", "content")`` -> dotted."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _manifest_error(path: Path, exc: ValidationError) -> ManifestError:
    problems = []
    for err in exc.errors(include_url=False):
        error = (err.get("ctx") or {}).get("error")
        reason = str(error) if err["type"] == "value_error" and error else err["msg"]
        problems.append(f"field '{_field_name(err['loc'])}': {reason}")
    return ManifestError(f"{path}: " + "; ".join(problems))


def _read_yaml(path: Path) -> dict[Any, Any]:
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
    return raw


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
    raw = _read_yaml(path)
    try:
        manifest = AppManifest.model_validate({**raw, "app_id": app_id, "root": root})
    except ValidationError as exc:
        raise _manifest_error(path, exc) from None
    if manifest.entrypoint not in manifest.resolve_files():
        raise ManifestError(
            f"{path}: field 'files': the entry point {manifest.entrypoint!r} is not among the "
            "files copied for a run (it must exist and be matched by 'files')"
        )
    return manifest


def bundled_app_dir(name: str) -> Path:
    """Folder of a bundled app (``knapsack`` or ``routing``) shipped inside this package."""
    return Path(__file__).resolve().parent / "apps" / name


def bundled_apps() -> list[AppManifest]:
    """The apps shipped with the service, pre-registered under their folder names."""
    return [load_manifest(bundled_app_dir(name), name) for name in BUNDLED_APPS]
