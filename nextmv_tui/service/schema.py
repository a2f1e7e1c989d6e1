"""The schema of ``runs.db`` as an ordered list of migration steps (``PRAGMA user_version``).

Step *n* (1-based) takes a database from version *n-1* to *n*; the version of the latest
schema is ``len(MIGRATIONS)``. At open, the missing steps run in one transaction together
with the new ``user_version``: a step that fails leaves the file as it was. A database from a
newer version is refused rather than guessed at.

To change the schema, **append** a step, never edit one that shipped (a data dir out there
has already run it), and update ``store.py`` to match (e.g. ``RunRecord`` and
``_RUN_COLUMNS`` for a new column)::

    MIGRATIONS.append(Migration("runs: status of tracked runs",
                                "ALTER TABLE runs ADD COLUMN tracked INTEGER NOT NULL DEFAULT 0"))

Version 1 is the schema of the first release. Its statements say ``IF NOT EXISTS`` because data
dirs made before migrations existed have these tables at ``user_version`` 0.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Migration:
    """One step: SQL statements (``;``-separated), or a function for what SQL cannot say."""

    description: str
    sql: str | Callable[[sqlite3.Connection], None]


MIGRATIONS: list[Migration] = [
    Migration(
        "initial schema: applications, runs, uploads",
        """
        CREATE TABLE IF NOT EXISTS applications (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE IF NOT EXISTS runs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            app_id TEXT NOT NULL,
            instance_id TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            status_changed_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            input_format TEXT NOT NULL,
            output_format TEXT NOT NULL,
            input_file TEXT NOT NULL,
            input_size INTEGER NOT NULL DEFAULT 0,
            output_file TEXT,
            output_size INTEGER NOT NULL DEFAULT 0,
            execution_class TEXT NOT NULL,
            priority INTEGER NOT NULL DEFAULT 6,
            queuing_disabled INTEGER NOT NULL DEFAULT 0,
            options TEXT NOT NULL DEFAULT '{}',
            run_type TEXT NOT NULL DEFAULT '{}',
            error TEXT NOT NULL DEFAULT '',
            statistics TEXT,
            exit_code INTEGER,
            pid INTEGER,
            batch_experiment_id TEXT,
            cloned_run_id TEXT
        );
        CREATE INDEX IF NOT EXISTS runs_by_app ON runs (app_id, seq);
        CREATE INDEX IF NOT EXISTS runs_by_queue ON runs (status, execution_class, priority, seq);
        CREATE TABLE IF NOT EXISTS uploads (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL,
            token TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            size INTEGER
        );
        """,
    ),
    Migration(
        "runs: local pool of a Cloud-style execution class, metrics, secrets collection,"
        " reported duration of tracked runs; applications: default instance",
        """
        ALTER TABLE runs ADD COLUMN pool TEXT NOT NULL DEFAULT '';
        UPDATE runs SET pool = execution_class;
        CREATE INDEX IF NOT EXISTS runs_by_pool ON runs (status, pool, priority, seq);
        ALTER TABLE runs ADD COLUMN metrics TEXT;
        ALTER TABLE runs ADD COLUMN secrets_collection_id TEXT;
        ALTER TABLE runs ADD COLUMN reported_duration REAL;
        ALTER TABLE applications ADD COLUMN default_instance TEXT NOT NULL DEFAULT 'latest';
        """,
    ),
]


class SchemaVersionError(ValueError):
    """The database was written by a newer version of nextmv-tui."""


def latest_version() -> int:
    return len(MIGRATIONS)


def _statements(script: str) -> Iterator[str]:
    """The complete statements of ``script``, one at a time."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        yield pending.strip()


def migrate(db: sqlite3.Connection, path: Path) -> int:
    """Bring ``db`` (autocommit connection to ``path``) to the latest version; returns it.

    Raises :class:`SchemaVersionError` for a database newer than this code.
    """
    latest = latest_version()
    db.execute("BEGIN IMMEDIATE")
    try:
        found = int(db.execute("PRAGMA user_version").fetchone()[0])
        if found > latest:
            raise SchemaVersionError(
                f"{path}: database schema version {found} is newer than version {latest}, the "
                "latest this nextmv-tui knows; it was written by a newer nextmv-tui. Upgrade "
                "nextmv-tui, or use another data dir"
            )
        for step in MIGRATIONS[found:]:
            if callable(step.sql):
                step.sql(db)
            else:
                for statement in _statements(step.sql):
                    db.execute(statement)
        if found != latest:
            db.execute(f"PRAGMA user_version = {latest:d}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return latest
