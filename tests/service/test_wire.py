"""The queue's fast serialiser must produce exactly what the wire model produces."""

from __future__ import annotations

import time
from pathlib import Path

from nextmv.cloud.account import QueuedRun as SdkQueuedRun  # type: ignore[import-untyped]

from nextmv_tui.cloud.models import QueuedRun
from nextmv_tui.service import wire
from nextmv_tui.service.store import RunRecord, Store


def test_queue_entries_equal_the_wire_model(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs.db")
    now = time.time()
    samples = [
        ("run-a", "queued", "", "", 6, now),
        ("run-b", "running", "Ünïcode name", 'quote " and \\ back', 1, now + 0.0004),
        ("run-c", "queued", "n" * 300, "d", 9, 1_700_000_000.123456),
    ]
    for run_id, status, name, description, priority, created in samples:
        store.insert_run(RunRecord(
            id=run_id, app_id="knapsack", status=status, created_at=created,
            status_changed_at=created + 1.5, input_format="json", output_format="json",
            input_file="input.json", execution_class="local", instance_id="latest",
            name=name, description=description, priority=priority,
        ))
    records = {run.id: run for run in store.active_runs()}
    entries = wire.queue_entries(store.active_rows(), "local@nextmv-tui")
    store.close()

    assert [entry["id"] for entry in entries] == ["run-b", "run-a", "run-c"]
    for entry in entries:
        assert QueuedRun.model_validate(entry).to_wire() == entry
        assert wire.queued_run(records[entry["id"]], "local@nextmv-tui").to_wire() == entry
        SdkQueuedRun.from_dict(entry)  # and the official SDK accepts it


def test_timestamp_cache_is_bounded() -> None:
    """The cache behind the queue's timestamps forgets runs long gone (it grew with every run
    for hours: the slow RSS growth under churn) but keeps what the queue re-sends."""
    base = 1_700_000_000.0
    hot = [base + i for i in range(100)]
    for step in range(5 * wire.ISO_CACHE_GENERATION // 1000):
        for value in hot:
            wire._iso(value)
        for i in range(1000):
            wire._iso(base + 10_000 + step * 1000 + i)
    assert len(wire._iso_recent) + len(wire._iso_older) <= 2 * wire.ISO_CACHE_GENERATION
    assert all(value in wire._iso_recent or value in wire._iso_older for value in hot)
    assert wire._iso(hot[0]) == QueuedRun.model_validate(
        {"id": "r", "created_at": hot[0]}).to_wire()["created_at"]


def test_download_tokens_hold_no_state_and_refuse_forgery(tmp_path: Path) -> None:
    from nextmv_tui.service import payloads

    presigner = payloads.Presigner(ttl=900, root=tmp_path)
    token = presigner.issue(tmp_path / "runs" / "run-a" / "output.txt", "application/gzip",
                            "output.txt")
    assert vars(presigner).keys() == {"_ttl", "_root", "_key"}  # nothing per token
    entry = presigner.resolve(token)
    assert entry is not None and entry.path == tmp_path / "runs" / "run-a" / "output.txt"
    assert entry.wrap_as == "output.txt" and entry.media_type == "application/gzip"
    assert str(tmp_path) not in token  # the URL names no server path
    payload, _, signature = token.partition(".")
    forged = payloads._b64(b'["../../etc/passwd","application/json",null,9999999999]')
    for bad in (forged + "." + signature, payload + ".AAAA", "x", "", payload + "."):
        assert presigner.resolve(bad) is None
    assert payloads.Presigner(ttl=900, root=tmp_path).resolve(token) is None  # other key
    expired = payloads.Presigner(ttl=-1, root=tmp_path)
    assert expired.resolve(expired.issue(tmp_path / "f", "x")) is None
