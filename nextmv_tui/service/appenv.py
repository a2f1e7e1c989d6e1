"""Per-app Python environments: one virtualenv per requirements hash, built with ``uv``.

Nextmv runs a Python app with its ``python.pip-requirements`` installed (the SDK's local runner
uses ``uv run --with-requirements``). The service does the same once per distinct set of
requirements instead of once per run: ``data_dir/envs/<hash>`` is created on first use, reused
by every run (of any app) with the same requirements, and a changed requirements file gives a
new hash, hence a new environment. Why a hash and not the app ID: two apps with the same pins
share one environment, and an edited file never runs against a stale one.

- ``prepare`` runs on the executor's worker thread (never on the event loop) and is
  serialised per hash, so two runs that need the same environment build it once.
- An environment is complete when its marker file exists (written last); a folder without it
  is the remains of an interrupted build and is rebuilt.
- The environment's interpreter is the service's own Python; Nextmv's ``runtime`` image and
  ``python.arch`` are not emulated, and the run's log says so.
- Architecture-specific requirement files (``requirements-arm64.txt``) fall back to the file
  for this machine's architecture (``requirements-amd64.txt``/``-x86_64``), then to the plain
  one (``requirements.txt``); with neither, the named file is installed for this machine
  (environment markers are evaluated for it). The log names the file used.
- A build that fails (no network, no wheel for this machine, a pin that does not exist) is an
  :class:`EnvError` naming the requirement uv stumbled on; uv's own output goes to the log
  only then.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from nextmv_tui.service.manifest import AppManifest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

MARKER = "nextmv-tui-env.json"
"""Written last into a complete environment: its requirements and installed versions."""

_FORMAT_VERSION = "1"
"""Bump to invalidate every cached environment (part of the hash)."""

_ARCH_ALIASES = {
    "arm64": "arm64", "aarch64": "arm64",
    "amd64": "amd64", "x86_64": "amd64", "x86-64": "amd64", "x64": "amd64",
}
_HOST_SPELLINGS = {"arm64": ("arm64", "aarch64"), "amd64": ("amd64", "x86_64")}
_ARCH_TOKEN = re.compile(r"(?<![A-Za-z0-9])(arm64|aarch64|amd64|x86_64|x86-64|x64)(?![A-Za-z0-9])")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_LOCAL_REFERENCE = re.compile(
    r"^\s*(-f|--find-links|-e|--editable|\.|/)|file:", re.MULTILINE
)
"""Requirements-file lines whose meaning depends on the file's folder."""
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_DECORATION = " \u00d7\u2570\u2500\u25b6\u2502"
"""uv's error decorations (cross, tree corners and bars), stripped from the one-line error."""


class EnvError(Exception):
    """The environment cannot be built; ``str()`` is the run's one-line error."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details
        """uv's output, for the run's log."""


@dataclass(frozen=True)
class Requirements:
    """What an app asks to install, read from its manifest."""

    source: str
    """Where they come from: a file name relative to the app, or ``inline list``."""
    specs: tuple[str, ...]
    """The requirement lines (for the log and for naming a failure)."""
    install_args: tuple[str, ...]
    """``uv pip install`` arguments: ``-r <file>`` or the specs."""
    digest: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PythonEnv:
    """A ready environment for one run."""

    python: str
    path: Path
    requirements: Requirements
    installed: dict[str, str]
    built_in: float | None
    """Seconds the build took; None when an existing environment was reused."""

    def log_lines(self, runtime: str) -> list[str]:
        """What the run's log says about its environment: one line per requirement."""
        how = "reused" if self.built_in is None else f"built in {self.built_in:.1f} s"
        lines = [
            f"python environment: {len(self.requirements.specs)} requirement(s) from "
            f"{self.requirements.source}, {how} ({self.path.name})"
        ]
        lines += [f"  {spec} -> {self._installed(spec)}" for spec in self.requirements.specs]
        lines += [f"note: {note}" for note in self.requirements.notes]
        if runtime:
            version = ".".join(str(part) for part in sys.version_info[:3])
            lines.append(
                f"note: runtime {runtime} is not emulated: the app runs with Python {version} "
                f"on {platform.machine()} of this machine"
            )
        return lines

    def _installed(self, spec: str) -> str:
        name = requirement_name(spec)
        if name is None:
            return "installed"
        version = self.installed.get(name)
        return f"{name} {version}" if version else "not installed (environment marker)"


def requirement_name(spec: str) -> str | None:
    """Normalised project name of a requirement line (PEP 503), None for a URL or path."""
    if spec.lstrip().startswith((".", "/", "-")) or "://" in spec.split(";")[0].split("@")[0]:
        return None
    match = _NAME.match(spec)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None


def host_arch() -> str:
    machine = platform.machine().lower()
    return _ARCH_ALIASES.get(machine, machine)


# --- reading the requirements -----------------------------------------------------------


def read_requirements(manifest: AppManifest) -> Requirements | None:
    """The manifest's ``python.pip-requirements``; None when it declares none."""
    declared = manifest.pip_requirements
    if manifest.type != "python" or not declared:
        return None
    notes = _arch_notes(manifest)
    if manifest.python.requirements_inline:
        specs = tuple(declared)
        return Requirements("inline list", specs, specs, _digest("inline", *specs), notes)
    named = manifest.root / declared[0]
    path, note = choose_requirements_file(named)
    if note:
        notes += (note,)
    if not path.is_file():
        raise EnvError(f"python.pip-requirements: {declared[0]} not found in {manifest.root}")
    source = path.relative_to(manifest.root).as_posix()
    if path.name == "pyproject.toml":
        specs = _pyproject_dependencies(path, source)
        return Requirements(source, specs, specs, _digest("pyproject", *specs), notes)
    contents = _file_contents(path, set())
    specs = tuple(_requirement_lines(path))
    # Relative --find-links, editables and paths mean "next to this file": same text, other
    # folder, other packages.
    where = str(path.parent.resolve()) if _LOCAL_REFERENCE.search(contents) else ""
    digest = _digest("file", contents, where)
    return Requirements(source, specs, ("-r", str(path)), digest, notes)


def _arch_notes(manifest: AppManifest) -> tuple[str, ...]:
    arch = _ARCH_ALIASES.get(manifest.python.arch.lower(), manifest.python.arch)
    if arch and arch != host_arch():
        return (
            f"python.arch {manifest.python.arch} is not emulated: packages are installed "
            f"for {platform.machine()}",
        )
    return ()


def choose_requirements_file(path: Path) -> tuple[Path, str | None]:
    """An architecture-specific file for another machine falls back to one for this machine."""
    match = _ARCH_TOKEN.search(path.name)
    if match is None:
        return path, None
    arch, host = _ARCH_ALIASES[match.group(1)], host_arch()
    if arch == host:
        return path, None
    start, end = match.span()
    candidates = [
        path.with_name(path.name[:start] + spelling + path.name[end:])
        for spelling in _HOST_SPELLINGS.get(host, (host,))
    ]
    before = path.name[:start]
    trimmed = before[:-1] if before[-1:] in "-_." else before
    rest = path.name[end:]
    if not trimmed:
        rest = rest.lstrip("-_.")
    candidates.append(path.with_name(trimmed + rest))
    for candidate in candidates:
        if candidate.is_file():
            return candidate, (
                f"{path.name} is for {arch} and this machine is {host}: using {candidate.name}"
            )
    return path, (
        f"{path.name} is for {arch} and this machine is {host}; no file for {host} next to it, "
        f"so it is installed for {host}"
    )


def _pyproject_dependencies(path: Path, source: str) -> tuple[str, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EnvError(f"python.pip-requirements: cannot read {source}: {exc}") from None
    deps = data.get("project", {}).get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise EnvError(f"python.pip-requirements: {source}: [project].dependencies is not a list")
    return tuple(deps)


def _requirement_lines(path: Path, seen: set[Path] | None = None) -> list[str]:
    """Requirement lines of a requirements file and the files it includes with ``-r``
    (comments and option lines left out)."""
    seen = set() if seen is None else seen
    if path.resolve() in seen:
        return []
    seen.add(path.resolve())
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split(" #")[0].strip()
        words = line.split()
        if line and not line.startswith(("#", "-")):
            lines.append(line)
        elif len(words) >= 2 and words[0] in ("-r", "--requirement"):
            included = path.parent / words[1]
            if included.is_file():
                lines += _requirement_lines(included, seen)
    return lines


def _file_contents(path: Path, seen: set[Path]) -> str:
    """A requirements file plus the files it includes (``-r``/``-c``), for the hash."""
    resolved = path.resolve()
    if resolved in seen:
        return ""
    seen.add(resolved)
    text = path.read_text(encoding="utf-8", errors="replace")
    parts = [text]
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("-r", "--requirement", "-c", "--constraint"):
            included = path.parent / words[1]
            if included.is_file():
                parts.append(_file_contents(included, seen))
    return "\n".join(parts)


def _digest(kind: str, *parts: str) -> str:
    identity = [
        _FORMAT_VERSION, sys.implementation.name, sys.version, platform.machine(), kind, *parts,
    ]
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()


# --- building ------------------------------------------------------------------------------


def uv_command() -> list[str]:
    """How to call uv: its binary from the ``uv`` package, else ``python -m uv``."""
    try:
        from uv import find_uv_bin

        return [find_uv_bin()]
    except (ImportError, FileNotFoundError):
        return [sys.executable, "-m", "uv"]


class Environments:
    """The environment cache in ``root`` (``data_dir/envs``); thread-safe."""

    def __init__(self, root: Path, timeout: float = 900.0, python: str | None = None) -> None:
        self.root = root
        self._timeout = timeout
        self._python = python or sys.executable
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def prepare(self, manifest: AppManifest) -> PythonEnv | None:
        """The app's environment, built on first use; None when it declares no requirements.

        Blocking (it may run uv for minutes): call it from a worker thread."""
        requirements = read_requirements(manifest)
        if requirements is None:
            return None
        with self._lock_for(requirements.digest):
            path = self.root / requirements.digest[:16]
            python = str(path / "bin" / "python")
            installed = _read_marker(path / MARKER)
            if installed is not None:
                return PythonEnv(python, path, requirements, installed, None)
            started = time.monotonic()
            shutil.rmtree(path, ignore_errors=True)  # leftovers of an interrupted build
            try:
                installed = self._build(path, python, requirements, manifest.root)
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise
            elapsed = time.monotonic() - started
            return PythonEnv(python, path, requirements, installed, elapsed)

    def _lock_for(self, digest: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(digest, threading.Lock())

    def _build(
        self, path: Path, python: str, requirements: Requirements, cwd: Path
    ) -> dict[str, str]:
        self.root.mkdir(parents=True, exist_ok=True)
        uv = uv_command()
        self._uv(requirements, [*uv, "venv", "--python", self._python, str(path)], cwd)
        self._uv(
            requirements,
            [*uv, "pip", "install", "--python", python, *requirements.install_args],
            cwd,
        )
        frozen = self._uv(requirements, [*uv, "pip", "freeze", "--python", python], cwd)
        installed = _parse_freeze(frozen)
        marker = {"source": requirements.source, "specs": list(requirements.specs),
                  "installed": installed, "built_at": time.time()}
        tmp = path / (MARKER + ".tmp")
        tmp.write_text(json.dumps(marker, indent=1), encoding="utf-8")
        os.replace(tmp, path / MARKER)
        return installed

    def _uv(self, requirements: Requirements, argv: list[str], cwd: Path) -> str:
        """Run one uv command; its stdout, or an EnvError naming the failing requirement."""
        env = {**os.environ, "NO_COLOR": "1", "UV_NO_PROGRESS": "1"}
        try:
            done = subprocess.run(
                argv, cwd=cwd, env=env, capture_output=True, timeout=self._timeout,
                stdin=subprocess.DEVNULL, start_new_session=True, check=False,
            )
        except subprocess.TimeoutExpired:
            raise _failure(requirements, f"uv took more than {self._timeout:g} s") from None
        except OSError as exc:
            raise _failure(requirements, f"cannot run uv ({argv[0]}): {exc}") from None
        if done.returncode != 0:
            raise _failure(requirements, done.stderr.decode("utf-8", "replace"))
        return done.stdout.decode("utf-8", "replace")


def _read_marker(path: Path) -> dict[str, str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    installed = data.get("installed") if isinstance(data, dict) else None
    return dict(installed) if isinstance(installed, dict) else None


def _parse_freeze(text: str) -> dict[str, str]:
    installed = {}
    for line in text.splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and name:
            installed[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return installed


def _failure(requirements: Requirements, output: str) -> EnvError:
    """One line naming the requirement uv failed on (all of them if it cannot tell)."""
    text = _ANSI.sub("", output)
    squashed = re.sub(r"[-_.]+", "-", text.lower())
    culprit = next(
        (spec for spec in requirements.specs
         if (name := requirement_name(spec)) and re.search(rf"(?<![a-z0-9-]){re.escape(name)}"
                                                          rf"(?![a-z0-9])", squashed)),
        None,
    )
    if culprit:
        what = f"requirement {culprit!r}"
    elif requirements.specs:
        what = "requirements " + ", ".join(repr(spec) for spec in requirements.specs)
    else:
        what = "requirements"
    lines = [
        line.strip(_DECORATION) for line in text.splitlines()
        if not line.startswith(("Using Python", "Using CPython", "Resolved ", "Prepared "))
    ]
    reason = " ".join(line for line in lines if line)[:400] or "uv failed"
    return EnvError(
        f"cannot install python {what} ({requirements.source}): {reason}", details=text
    )

