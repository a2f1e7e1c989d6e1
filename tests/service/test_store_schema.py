"""``runs.db`` migrations: a data dir of the first release opens and is upgraded in place, a
fresh one is created at the latest version, a newer one is refused, a failing step changes
nothing. Real SQLite files throughout."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest

from nextmv_tui.service import schema
from nextmv_tui.service.app import create_app
from nextmv_tui.service.schema import Migration, SchemaVersionError, latest_version
from nextmv_tui.service.settings import ServiceSettings
from nextmv_tui.service.store import Store

# The exact DDL of store.py before migrations existed (nextmv-tui at 848151e), which left
# user_version at 0. Kept as a literal: a data dir made by that version must keep opening.
FIRST_RELEASE_SCHEMA = """
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
"""


def make_first_release_db(path: Path) -> None:
    """A runs.db as the first release left it: its tables, one of each row, user_version 0."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(FIRST_RELEASE_SCHEMA)
    db.execute(
        "INSERT INTO applications VALUES ('knapsack', 'Knapsack', 'old', 1700000000.0,"
        " 1700000000.0)"
    )
    db.execute(
        "INSERT INTO runs (id, app_id, instance_id, name, status, created_at,"
        " status_changed_at, started_at, finished_at, input_format, output_format, input_file,"
        " input_size, output_file, output_size, execution_class, priority, options, run_type,"
        " statistics, exit_code) VALUES ('run-old', 'knapsack', 'latest', 'kept', 'succeeded',"
        " 1700000000.0, 1700000002.5, 1700000001.0, 1700000002.5, 'json', 'json', 'input.json',"
        " 12, 'output.json', 34, 'local', 3, '{\"duration\": \"1\"}', '{\"type\": \"standard\"}',"
        " '{\"result\": {\"value\": 7}}', 0)"
    )
    db.execute("INSERT INTO uploads VALUES ('upload-old', 'knapsack', 'tok', 1.0, 2.0, 5)")
    db.commit()
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    db.close()


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def columns(path: Path, table: str) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    finally:
        db.close()


def test_first_release_db_is_migrated_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    make_first_release_db(path)

    store = Store(path)
    run = store.get_run("run-old")
    app = store.get_application("knapsack")
    upload = store.get_upload("upload-old")
    store.close()

    assert user_version(path) == latest_version() >= 1
    assert run is not None and app is not None and upload is not None
    assert (run.status, run.name, run.priority, run.input_size, run.output_size) == (
        "succeeded", "kept", 3, 12, 34
    )
    assert run.options == {"duration": "1"}
    assert run.statistics == {"result": {"value": 7}}
    assert (app.name, app.description) == ("Knapsack", "old")
    assert upload.size == 5
    # Migration 2: an old run's pool is its execution class; an old app's default instance.
    assert (run.pool, run.metrics, run.reported_duration) == ("local", None, None)
    assert app.default_instance == "latest"


def test_first_release_data_dir_serves_its_runs(tmp_path: Path) -> None:
    """End to end: the service started on an old data dir answers for the old run."""
    make_first_release_db(tmp_path / "runs.db")
    app = create_app(ServiceSettings(data_dir=tmp_path, api_key="k"))

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
            return await client.get(
                "/v1/applications/knapsack/runs/run-old/metadata",
                headers={"Authorization": "Bearer k"},
            )

    response = asyncio.run(fetch())
    app.state.service.store.close()
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["status_v2"] == "succeeded"
    assert response.json()["name"] == "kept"


def test_fresh_db_is_created_at_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "data" / "runs.db"
    Store(path).close()
    assert user_version(path) == latest_version()
    assert "cloned_run_id" in columns(path, "runs")
    Store(path).close()  # reopening is a no-op
    assert user_version(path) == latest_version()


def test_newer_db_is_refused_naming_file_and_versions(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    Store(path).close()
    newer = latest_version() + 5
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {newer}")
    db.close()

    with pytest.raises(SchemaVersionError) as caught:
        Store(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"version {newer}" in message and f"version {latest_version()}" in message
    assert isinstance(caught.value, ValueError)  # `serve` reports ValueErrors as start errors
    assert user_version(path) == newer  # untouched

    with pytest.raises(ValueError, match="newer"):
        create_app(ServiceSettings(data_dir=tmp_path, api_key="k"))


def test_an_appended_step_upgrades_an_existing_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "runs.db"
    make_first_release_db(path)
    Store(path).close()
    before = user_version(path)
    steps = [
        *schema.MIGRATIONS,
        Migration("runs: a note", "ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT 'n';"),
        Migration("uploads: a flag", lambda db: db.execute(
            "ALTER TABLE uploads ADD COLUMN flag INTEGER NOT NULL DEFAULT 1"
        )),
    ]
    monkeypatch.setattr(schema, "MIGRATIONS", steps)

    store = Store(path)
    run = store.get_run("run-old")
    store.close()

    assert user_version(path) == before + 2
    assert "note" in columns(path, "runs") and "flag" in columns(path, "uploads")
    assert run is not None and run.name == "kept"


def test_a_failing_step_leaves_the_db_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "runs.db"
    make_first_release_db(path)
    steps = [
        *schema.MIGRATIONS,
        Migration("good", "ALTER TABLE runs ADD COLUMN note TEXT"),
        Migration("bad", "ALTER TABLE no_such_table ADD COLUMN x TEXT"),
    ]
    monkeypatch.setattr(schema, "MIGRATIONS", steps)

    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        Store(path)

    assert user_version(path) == 0
    assert "note" not in columns(path, "runs")
    monkeypatch.setattr(schema, "MIGRATIONS", steps[:-1])
    Store(path).close()  # the same file still opens once the step is fixed
    assert user_version(path) == len(steps) - 1
