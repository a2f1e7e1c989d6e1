"""Settings of the local run service, and the data-dir files it owns (API key, paths).

One frozen object built by ``nextmv-tui serve`` (or a test) and handed to ``create_app``; nothing
else reads the environment, so a test can run several services side by side.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from nextmv_tui.cloud.models import MAX_INLINE_BYTES, MAX_PAYLOAD_BYTES

DEFAULT_PORT = 8765
EXIT_PORT_UNAVAILABLE = 4
"""``serve``'s exit code when it cannot listen on its port: the launcher then tries any port."""
DEFAULT_CONCURRENCY = 2
DEFAULT_MAX_DURATION = 3600.0
DEFAULT_CLASS = "local"
DEFAULT_MAX_LOG_BYTES = 256 * 1024 * 1024
"""Per-run log cap (``serve --max-log-mb``): the log stops there with a note; the run goes on."""
API_KEY_FILE = "api_key"
PART_SUFFIX = ".part"
"""Suffix of a file being written (an upload); one left behind by a crash is removed."""
SERVICE_FILE = "service.json"

CLOUD_CLASS_RE = re.compile(r"^\d+c\d+(?:\.\d+)?(?:gb|mb)(?:\d+(?:\.\d+)?[hms])?$")
"""Nextmv Cloud execution class names: cores ``c`` memory ``gb``/``mb`` [max duration], e.g.
``6c9gb``, ``8c16gb12h``, ``6c9500mb870s`` (queuing doc, SDK docstrings)."""


def default_data_dir() -> Path:
    """The per-user data dir (platformdirs), e.g. ``~/.local/share/nextmv-tui``."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("nextmv-tui", appauthor=False))


@dataclass(frozen=True)
class ExecutionClass:
    """A queue lane: at most ``concurrency`` runs at once, each for at most ``max_duration`` s.

    ``concurrency`` 0 holds every run of the class queued (used by benchmarks).
    """

    name: str
    concurrency: int = DEFAULT_CONCURRENCY
    max_duration: float | None = DEFAULT_MAX_DURATION


@dataclass(frozen=True)
class ServiceSettings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    api_key: str | None = None
    """Explicit key (``--api-key``); None means the generated one in ``data_dir/api_key``."""
    app_dirs: tuple[Path, ...] = ()
    concurrency: int = DEFAULT_CONCURRENCY
    max_duration: float | None = DEFAULT_MAX_DURATION
    tls: bool = False
    bundled_apps: bool = True
    extra_classes: tuple[ExecutionClass, ...] = ()
    upload_ttl: float = 15 * 60
    max_inline_bytes: int = MAX_INLINE_BYTES
    max_upload_bytes: int = MAX_PAYLOAD_BYTES
    page_size: int = 50
    """Most runs (and applications) per list answer: Nextmv Cloud's documented maximum."""
    cancel_grace: float = 3.0
    user_email: str = "local@nextmv-tui"
    class_map: tuple[tuple[str, str], ...] = ()
    """``(pattern, pool)`` pairs (``--execution-class-map``): a requested execution class
    matching the glob ``pattern`` runs on ``pool``; first match wins. After them, any
    Cloud-style name (``CLOUD_CLASS_RE``) runs on the default pool."""
    app_envs: bool = True
    """Build a virtualenv per ``python.pip-requirements`` (False: ``--no-app-envs``)."""
    env_build_timeout: float = 900.0
    max_log_bytes: int | None = DEFAULT_MAX_LOG_BYTES
    """Most bytes of log stored per run (None: no cap)."""
    app_env: dict[str, str] = field(default_factory=dict)
    """Variables every app gets on top of the allowlist (``serve --app-env``)."""
    api_key_file: Path | None = None
    """Where ``api_key`` was read from (``--api-key-file``), advertised in service.json."""
    execution_classes: dict[str, ExecutionClass] = field(init=False)

    def __post_init__(self) -> None:
        default = ExecutionClass(DEFAULT_CLASS, self.concurrency, self.max_duration)
        classes = {DEFAULT_CLASS: default}
        for extra in self.extra_classes:
            classes[extra.name] = extra
        for pattern, pool in self.class_map:
            if pool not in classes:
                raise ValueError(
                    f"{pattern}={pool}: no execution class {pool!r}; known: "
                    + ", ".join(sorted(classes))
                )
        object.__setattr__(self, "execution_classes", classes)
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser().resolve())

    def pool_for(self, requested: str) -> str | None:
        """The pool that runs a requested execution class; None when nothing accepts it.

        A pool's own name first, then the ``class_map`` patterns in order, then Cloud-style
        names on the default pool."""
        if requested in self.execution_classes:
            return requested
        for pattern, pool in self.class_map:
            if fnmatch.fnmatchcase(requested, pattern):
                return pool
        if CLOUD_CLASS_RE.match(requested):
            return DEFAULT_CLASS
        return None

    @property
    def envs_dir(self) -> Path:
        """Per-app Python environments, one per requirements hash."""
        return self.data_dir / "envs"

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def api_key_path(self) -> Path:
        return self.data_dir / API_KEY_FILE

    @property
    def service_file(self) -> Path:
        return self.data_dir / SERVICE_FILE

    @property
    def db_path(self) -> Path:
        return self.data_dir / "runs.db"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def tls_dir(self) -> Path:
        return self.data_dir / "tls"

    def prepare_dirs(self) -> None:
        """Create the data dir private to its owner, and tidy what a crash left.

        Whatever the umask: the data dir, ``runs/`` and ``uploads/`` are 0700 and the files
        at the top of the data dir (database, WAL, key, service files) 0600, which also
        tightens a data dir made by an older version. Partial uploads (``*.part``) left by a
        killed service are removed.
        """
        for path in (self.data_dir, self.runs_dir, self.uploads_dir):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            _chmod(path, 0o700)
        for entry in os.scandir(self.data_dir):
            if entry.is_file(follow_symlinks=False):
                _chmod(Path(entry.path), 0o600)
        for entry in os.scandir(self.uploads_dir):
            if entry.name.endswith(PART_SUFFIX) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)

    def resolve_api_key(self) -> str:
        """The explicit key, else the stored one, else a new one written with mode 0600."""
        if self.api_key:
            return self.api_key
        return load_or_create_api_key(self.api_key_path)


def _chmod(path: Path, mode: int) -> None:
    """Set ``mode`` on a path we own; another user's file (or a read-only one) is left."""
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)


def load_or_create_api_key(path: Path) -> str:
    """Read the key file; create it (0600, atomically) when missing or empty."""
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    key = "nxl-" + secrets.token_urlsafe(32)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    os.replace(tmp, path)
    return key
