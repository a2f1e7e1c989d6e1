"""Durable run metadata: one SQLite database in WAL mode, one connection behind a lock.

Why one locked connection: the service is one process whose handlers run on one event loop;
each statement takes microseconds, so serialising them is simpler and safer than a pool, and
every state change is a single conditional UPDATE (``WHERE status = ...``) so concurrent
cancel/finish/dispatch can never move a run backwards. Payloads and logs live as files.
The tables are defined, and upgraded at open, by ``schema.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nextmv_tui.service import schema


@dataclass
class RunRecord:
    id: str
    app_id: str
    status: str
    created_at: float
    status_changed_at: float
    input_format: str
    output_format: str
    input_file: str
    execution_class: str
    instance_id: str = ""
    name: str = ""
    description: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    input_size: int = 0
    output_file: str | None = None
    output_size: int = 0
    priority: int = 6
    queuing_disabled: bool = False
    options: dict[str, str] = field(default_factory=dict)
    run_type: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    statistics: dict[str, Any] | None = None
    exit_code: int | None = None
    pid: int | None = None
    batch_experiment_id: str | None = None
    cloned_run_id: str | None = None
    pool: str = ""
    """The local pool that runs it: ``execution_class`` itself, or the pool a Cloud-style
    class name maps to (see ``settings.ServiceSettings.pool_for``). Empty means
    ``execution_class``."""
    metrics: dict[str, Any] | None = None
    secrets_collection_id: str | None = None
    reported_duration: float | None = None
    """Milliseconds, for tracked runs: the duration their caller reported."""
    seq: int = 0

    def __post_init__(self) -> None:
        if not self.pool:
            self.pool = self.execution_class


@dataclass(frozen=True)
class AppRecord:
    id: str
    name: str
    description: str
    created_at: float
    updated_at: float
    default_instance: str = "latest"


@dataclass(frozen=True)
class UploadRecord:
    id: str
    app_id: str
    token: str
    created_at: float
    expires_at: float
    size: int | None


_RUN_COLUMNS = (
    "seq", "id", "app_id", "instance_id", "name", "description", "status", "created_at",
    "status_changed_at", "started_at", "finished_at", "input_format", "output_format",
    "input_file", "input_size", "output_file", "output_size", "execution_class", "priority",
    "queuing_disabled", "options", "run_type", "error", "statistics", "exit_code", "pid",
    "batch_experiment_id", "cloned_run_id", "pool", "metrics", "secrets_collection_id",
    "reported_duration",
)
_APP_COLUMNS = "id, name, description, created_at, updated_at, default_instance"
_JSON_COLUMNS = ("options", "run_type", "statistics", "metrics")
_SELECT_RUN = "SELECT " + ", ".join(_RUN_COLUMNS) + " FROM runs"


def _run_from_row(row: sqlite3.Row) -> RunRecord:
    values = dict(zip(_RUN_COLUMNS, row, strict=True))
    values["queuing_disabled"] = bool(values["queuing_disabled"])
    values["options"] = json.loads(values["options"] or "{}")
    values["run_type"] = json.loads(values["run_type"] or "{}")
    values["statistics"] = json.loads(values["statistics"]) if values["statistics"] else None
    values["metrics"] = json.loads(values["metrics"]) if values["metrics"] else None
    return RunRecord(**values)


def _run_values(run: RunRecord) -> tuple[Any, ...]:
    values = {name: getattr(run, name) for name in _RUN_COLUMNS if name != "seq"}
    values["queuing_disabled"] = int(run.queuing_disabled)
    for name in _JSON_COLUMNS:
        value = getattr(run, name)
        values[name] = json.dumps(value) if value is not None else None
    return tuple(values.values())


def _private_files(db_path: Path) -> None:
    """The database 0600 before SQLite opens it: its WAL and SHM files take the database's
    mode, so all three stay private whatever the umask (the WAL holds upload tokens)."""
    os.close(os.open(db_path, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):  # missing, or not ours to change
            os.chmod(f"{db_path}{suffix}", 0o600)


class Store:
    """Thread-safe access to ``runs.db``; every method is one short transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _private_files(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            schema.migrate(self._db, path)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # --- applications ------------------------------------------------------------------

    def upsert_application(self, app_id: str, name: str, description: str) -> None:
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO applications (id, name, description, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " name = excluded.name, description = excluded.description,"
                " updated_at = excluded.updated_at",
                (app_id, name, description, now, now),
            )

    def create_application(self, app_id: str, name: str, description: str) -> bool:
        """Insert a new application; False when the ID is taken."""
        now = time.time()
        with self._tx() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO applications (id, name, description, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?)",
                (app_id, name, description, now, now),
            )
            return cursor.rowcount == 1

    def get_application(self, app_id: str) -> AppRecord | None:
        rows = self._query(
            f"SELECT {_APP_COLUMNS} FROM applications WHERE id = ?", (app_id,)
        )
        return AppRecord(*rows[0]) if rows else None

    def list_applications(
        self, after_id: str | None = None, limit: int | None = None
    ) -> list[AppRecord]:
        """Applications by ID; keyset pagination on the ID (``after_id`` excluded)."""
        sql = f"SELECT {_APP_COLUMNS} FROM applications"
        params: list[Any] = []
        if after_id is not None:
            sql += " WHERE id > ?"
            params.append(after_id)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [AppRecord(*row) for row in self._query(sql, tuple(params))]

    def update_application(
        self, app_id: str, name: str, description: str, default_instance: str
    ) -> bool:
        """Replace an application's name, description and default instance."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE applications SET name = ?, description = ?, default_instance = ?,"
                " updated_at = ? WHERE id = ?",
                (name, description, default_instance, time.time(), app_id),
            )
            return cursor.rowcount == 1

    def delete_application(self, app_id: str) -> list[str]:
        """Delete an application and its runs (one transaction); returns the runs' IDs."""
        with self._tx() as db:
            rows = db.execute("SELECT id FROM runs WHERE app_id = ?", (app_id,)).fetchall()
            db.execute("DELETE FROM runs WHERE app_id = ?", (app_id,))
            db.execute("DELETE FROM uploads WHERE app_id = ?", (app_id,))
            db.execute("DELETE FROM applications WHERE id = ?", (app_id,))
        return [str(row[0]) for row in rows]

    # --- runs --------------------------------------------------------------------------

    def insert_run(self, run: RunRecord) -> None:
        self.insert_runs([run])

    def insert_runs(self, runs: Iterable[RunRecord]) -> None:
        """Insert runs in one transaction (bulk seeding); sets each record's ``seq``."""
        columns = ", ".join(name for name in _RUN_COLUMNS if name != "seq")
        marks = ", ".join("?" for name in _RUN_COLUMNS if name != "seq")
        with self._tx() as db:
            for run in runs:
                cursor = db.execute(
                    f"INSERT INTO runs ({columns}) VALUES ({marks})", _run_values(run)
                )
                run.seq = int(cursor.lastrowid or 0)

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._query(_SELECT_RUN + " WHERE id = ?", (run_id,))
        return _run_from_row(rows[0]) if rows else None

    def list_runs(
        self,
        app_id: str,
        before_seq: int | None,
        limit: int | None,
        *,
        statuses: Sequence[str] = (),
        created_after: float | None = None,
    ) -> list[RunRecord]:
        """Runs of one app, newest first; keyset pagination on ``seq``.

        ``statuses`` keeps only runs in one of them; ``created_after`` (epoch seconds) only
        runs created at or after it.
        """
        sql = _SELECT_RUN + " WHERE app_id = ?"
        params: list[Any] = [app_id]
        if before_seq is not None:
            sql += " AND seq < ?"
            params.append(before_seq)
        if statuses:
            sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
            params.extend(statuses)
        if created_after is not None:
            sql += " AND created_at >= ?"
            params.append(created_after)
        sql += " ORDER BY seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_run_from_row(row) for row in self._query(sql, tuple(params))]

    def active_runs(self) -> list[RunRecord]:
        """Queued and running runs of every app: running first, then queue order."""
        rows = self._query(
            _SELECT_RUN + " WHERE status IN ('queued', 'running')"
            " ORDER BY status = 'queued', priority, seq"
        )
        return [_run_from_row(row) for row in rows]

    def active_rows(self) -> list[tuple[Any, ...]]:
        """Queue rows without decoding a full record (hot path of ``GET v1/account/queue``):
        (id, app_id, instance_id, name, description, status, created_at, status_changed_at,
        execution_class, priority), running first, then queue order."""
        return [
            tuple(row) for row in self._query(
                "SELECT id, app_id, instance_id, name, description, status, created_at,"
                " status_changed_at, execution_class, priority FROM runs"
                " WHERE status IN ('queued', 'running')"
                " ORDER BY status = 'queued', priority, seq"
            )
        ]

    def next_queued(self, pool: str, limit: int) -> list[RunRecord]:
        """The next runs of a pool in queue order: priority (1 first), then age."""
        rows = self._query(
            _SELECT_RUN + " WHERE status = 'queued' AND pool = ?"
            " ORDER BY priority, seq LIMIT ?",
            (pool, limit),
        )
        return [_run_from_row(row) for row in rows]

    def count_active(self, pool: str) -> int:
        rows = self._query(
            "SELECT COUNT(*) FROM runs WHERE status IN ('queued', 'running') AND pool = ?",
            (pool,),
        )
        return int(rows[0][0])

    def queued_pools(self) -> list[str]:
        rows = self._query("SELECT DISTINCT pool FROM runs WHERE status = 'queued'")
        return [str(row[0]) for row in rows]

    def mark_running(self, run_id: str, now: float) -> bool:
        """queued -> running; False if the run is no longer queued (canceled meanwhile)."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE runs SET status = 'running', started_at = ?, status_changed_at = ?"
                " WHERE id = ? AND status = 'queued'",
                (now, now, run_id),
            )
            return cursor.rowcount == 1

    def set_pid(self, run_id: str, pid: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE runs SET pid = ? WHERE id = ?", (pid, run_id))

    def finish(
        self,
        run_id: str,
        status: str,
        *,
        now: float,
        error: str = "",
        output_file: str | None = None,
        output_format: str | None = None,
        output_size: int = 0,
        statistics: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        exit_code: int | None = None,
    ) -> bool:
        """queued/running -> a final status; False if the run was already final."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE runs SET status = ?, error = ?, output_file = ?,"
                " output_format = COALESCE(?, output_format), output_size = ?, statistics = ?,"
                " metrics = ?, exit_code = ?, finished_at = ?, status_changed_at = ?"
                " WHERE id = ? AND status IN ('queued', 'running')",
                (
                    status, error, output_file, output_format, output_size,
                    json.dumps(statistics) if statistics is not None else None,
                    json.dumps(metrics) if metrics is not None else None,
                    exit_code, now, now, run_id,
                ),
            )
            return cursor.rowcount == 1

    def describe_run(self, run_id: str, name: str | None, description: str | None) -> bool:
        """Set a run's name and/or description (``None`` keeps the current value)."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE runs SET name = COALESCE(?, name),"
                " description = COALESCE(?, description) WHERE id = ?",
                (name, description, run_id),
            )
            return cursor.rowcount == 1

    def delete_run(self, run_id: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount == 1

    def running_runs(self) -> list[RunRecord]:
        """Runs marked running (after a restart: the ones the previous service left)."""
        rows = self._query(_SELECT_RUN + " WHERE status = 'running'")
        return [_run_from_row(row) for row in rows]

    # --- uploads -----------------------------------------------------------------------

    def create_upload(self, upload: UploadRecord) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO uploads (id, app_id, token, created_at, expires_at, size)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (upload.id, upload.app_id, upload.token, upload.created_at, upload.expires_at,
                 upload.size),
            )

    def get_upload(self, upload_id: str) -> UploadRecord | None:
        rows = self._query(
            "SELECT id, app_id, token, created_at, expires_at, size FROM uploads WHERE id = ?",
            (upload_id,),
        )
        return UploadRecord(*rows[0]) if rows else None

    def complete_upload(self, upload_id: str, size: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE uploads SET size = ? WHERE id = ?", (size, upload_id))

    def prune_uploads(self, before: float) -> list[str]:
        """Forget uploads that expired before ``before``; returns their IDs (files to delete)."""
        with self._tx() as db:
            rows = db.execute("SELECT id FROM uploads WHERE expires_at < ?", (before,)).fetchall()
            db.execute("DELETE FROM uploads WHERE expires_at < ?", (before,))
        return [str(row[0]) for row in rows]
