"""QueueReader: queue answers split and digested, only new or changed entries validated, bad
entries named by index and field, nothing "known" until committed; and the client's
``account_queue_snapshot`` against the REAL local service (in-process ASGI)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from nextmv_tui.cloud import queue_reader as queue_reader_module
from nextmv_tui.cloud import steps as steps_module
from nextmv_tui.cloud.errors import MalformedResponseError
from nextmv_tui.cloud.models import QueuedRun
from nextmv_tui.cloud.queue_reader import QueueReader
from nextmv_tui.cloud.steps import run_steps
from tests.tui.helpers import client_for, knapsack_request


def entry(index: int, status: str = "queued", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"run-{index:05d}", "user_email": "u@example.com", "name": f"n{index}",
        "description": "", "created_at": "2026-01-01T00:00:00Z", "application_id": "app",
        "application_instance_id": "latest", "application_version_id": "",
        "execution_class": "6c9500mb870s", "status_v2": status, "status": "running",
        **extra,
    }


def body(entries: list[dict[str, Any]]) -> bytes:
    return json.dumps({"runs": entries}).encode()


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every entry the reader hands to pydantic (the expensive step)."""
    seen: list[bytes] = []
    real = queue_reader_module._validate

    def spy(model: type[QueuedRun], raw: bytes, label: str, index: int) -> QueuedRun:
        seen.append(raw)
        return real(model, raw, label, index)

    monkeypatch.setattr(queue_reader_module, "_validate", spy)
    return seen


def test_first_read_validates_every_entry_in_order(validated):
    reader = QueueReader()
    entries = [entry(i) for i in range(50)]
    snapshot = reader.read(body(entries))
    assert snapshot.ids == [e["id"] for e in entries]
    assert len(validated) == 50
    assert snapshot.entries["run-00007"].name == "n7"
    assert snapshot.entries["run-00007"].status_v2.value == "queued"


def test_after_commit_only_changed_entries_are_validated(validated):
    reader = QueueReader()
    entries = [entry(i) for i in range(100)]
    reader.commit(reader.read(body(entries)))
    validated.clear()
    entries[3] = entry(3, "running")
    entries[40] = entry(40, name="renamed")
    entries.append(entry(100))
    del entries[10]
    snapshot = reader.read(body(entries))
    assert len(validated) == 3, "two changed entries and one new, nothing else parsed"
    assert set(snapshot.entries) == {"run-00003", "run-00040", "run-00100"}
    assert snapshot.entries["run-00003"].status_v2.value == "running"
    assert snapshot.ids == [e["id"] for e in entries]
    assert "run-00010" not in snapshot.ids


def test_a_read_that_was_not_committed_changes_nothing(validated):
    """A snapshot dropped before it was applied must not make its entries 'unchanged'."""
    reader = QueueReader()
    first = [entry(i) for i in range(10)]
    reader.commit(reader.read(body(first)))
    second = [entry(i, "running") for i in range(10)]
    dropped = reader.read(body(second))
    assert len(dropped.entries) == 10
    again = reader.read(body(second))
    assert len(again.entries) == 10, "still compared with the committed snapshot"
    reader.commit(again)
    assert reader.read(body(second)).entries == {}


def test_forget_makes_entries_parsed_again(validated):
    reader = QueueReader()
    entries = [entry(i) for i in range(5)]
    reader.commit(reader.read(body(entries)))
    reader.forget(["run-00002"])
    assert set(reader.read(body(entries)).entries) == {"run-00002"}


def test_a_repeated_id_keeps_its_first_entry():
    reader = QueueReader()
    snapshot = reader.read(body([entry(1), entry(2), entry(1, "running")]))
    assert snapshot.ids == ["run-00001", "run-00002"]
    assert snapshot.entries["run-00001"].status_v2.value == "queued"
    reader.commit(snapshot)
    again = reader.read(body([entry(1), entry(2), entry(1, "running")]))
    assert again.ids == ["run-00001", "run-00002"] and again.entries == {}


def test_a_digest_collision_is_found_by_the_repeat_it_makes(
    monkeypatch: pytest.MonkeyPatch, validated: list[bytes]
):
    """64-bit digests can collide (``_digests``' docstring). A collision is forced here: run 2's
    new entry gets run 1's old digest, so the lookup names run 1 twice; the reader must
    parse both entries, keep run 1 unchanged and report run 2's new entry."""
    first = [entry(1), entry(2)]
    changed = json.dumps(entry(2, "running")).encode()
    old_one = json.dumps(entry(1)).encode()

    def colliding(raws: list[Any]) -> Iterator[None]:
        yield
        return [hash(old_one) if bytes(raw) == changed else hash(bytes(raw)) for raw in raws]

    monkeypatch.setattr(queue_reader_module, "_digests", colliding)
    reader = QueueReader()
    reader.commit(reader.read(body(first)))
    validated.clear()
    again = reader.read(body([entry(1), entry(2, "running")]))
    assert again.ids == ["run-00001", "run-00002"]
    assert list(again.entries) == ["run-00002"]
    assert again.entries["run-00002"].status_v2.value == "running"
    assert len(validated) == 2, "both entries naming run 1 were parsed"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"not json", "(body)"),
        (b'{"runs": null}', "runs"),
        (b'{"other": []}', "runs"),
        (b'[1, 2]', "(body)"),
        (body([entry(0), {**entry(1), "created_at": "yesterday"}]), "runs.1.created_at"),
        (body([entry(0), entry(1), 7]), "runs.2"),
        (body([{k: v for k, v in entry(0).items() if k != "id"}]), "runs.0.id"),
    ],
)
def test_bad_answers_name_the_field(raw: bytes, field: str):
    with pytest.raises(MalformedResponseError) as caught:
        QueueReader().read(raw)
    assert caught.value.field == field
    assert "v1/account/queue" in str(caught.value)


def test_hostile_strings_are_kept_verbatim_for_the_sanitizer():
    """The reader neither cleans nor trips on escape sequences and odd text: the TUI
    sanitizes once, at display."""
    nasty = "\x1b[31m[bold]x\u202e},{\"id\":\"fake\"}"
    snapshot = QueueReader().read(body([entry(0, name=nasty), entry(1)]))
    assert snapshot.ids == ["run-00000", "run-00001"]
    assert snapshot.entries["run-00000"].name == nasty


def test_unknown_status_and_extra_fields_are_tolerated():
    snapshot = QueueReader().read(body([entry(0, "exploded", extra={"a": 1})]))
    assert snapshot.entries["run-00000"].status_v2.value == "unknown"


async def test_client_reads_the_queue_in_steps_between_the_loops_tasks(
    make_inprocess_service, monkeypatch
):
    """Against the real service: the snapshot lists the runs, and the parse ran on the
    event loop in steps with the loop's other tasks between them (a thread would share the
    GIL with the loop: ``cloud/steps.py``). With a slice of 0 every step yields, so a task
    that ticks on the loop must tick while the read is under way."""
    monkeypatch.setattr(steps_module, "SLICE", 0.0)
    ticks: list[float] = []
    reading: list[bool] = []
    real_steps = QueueReader.read_steps

    def read_steps(self: QueueReader, raw: Any, label: str = "x") -> Any:
        reading.append(True)
        try:
            return (yield from real_steps(self, raw, label))
        finally:
            reading.append(False)

    loop = asyncio.get_running_loop()
    handle: list[asyncio.Handle] = []

    def tick() -> None:  # runs once per loop iteration: whenever the read lets the loop turn
        if reading and reading[-1]:
            ticks.append(1)
        handle[:] = [loop.call_soon(tick)]

    monkeypatch.setattr(QueueReader, "read_steps", read_steps)
    service = await make_inprocess_service(concurrency=0)
    async with client_for(service) as client:
        ids = [await client.create_run("knapsack", knapsack_request(name=f"r{i}"))
               for i in range(3)]
        reader = QueueReader()
        tick()
        try:
            snapshot = await client.account_queue_snapshot(reader)
        finally:
            handle[0].cancel()
        assert set(ids) <= set(snapshot.ids)
        assert set(ids) <= set(snapshot.entries)
        assert ticks, "the loop ran another task while the queue was being read"
        reader.commit(snapshot)
        again = await client.account_queue_snapshot(reader)
        assert set(ids) <= set(again.ids) and not set(ids) & set(again.entries)


def test_steps_pause_at_every_chunk_and_agree_with_one_read():
    """``read_steps`` pauses once per piece, digest chunk and validation batch, and gives
    the snapshot ``read`` gives."""
    raw = body([entry(i) for i in range(3 * queue_reader_module.CHUNK)])
    steps = QueueReader().read_steps(raw)
    pauses = 0
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            stepped = stop.value
            break
        pauses += 1
    whole = QueueReader().read(raw)
    assert stepped.ids == whole.ids and stepped.entries == whole.entries
    validations = 3 * queue_reader_module.CHUNK // queue_reader_module.VALIDATE_STEP
    assert pauses >= 2 * 3 + validations, pauses


@pytest.mark.parametrize("compact", [True, False])
def test_a_large_answer_is_split_in_pieces_and_agrees_with_one_decode(monkeypatch, compact):
    """Pieces end between entries, never inside a string that holds '}, {' or '},{'."""
    monkeypatch.setattr(queue_reader_module, "PIECE", 300)
    tricky = ['a}, {"id": "fake"}', 'b},{"id":"fake2"}', "plain", '\\"}, {\\"']
    entries = [entry(i, name=tricky[i % len(tricky)]) for i in range(60)]
    separators = (",", ":") if compact else (", ", ": ")
    raw = json.dumps({"runs": entries}, separators=separators).encode()
    pieces = run_steps(queue_reader_module._split(raw))
    whole = queue_reader_module._DECODER.decode(raw).runs
    assert [bytes(p) for p in pieces] == [bytes(w) for w in whole]
    snapshot = QueueReader().read(raw)
    assert snapshot.ids == [e["id"] for e in entries]
    assert snapshot.entries["run-00000"].name == tricky[0]


def test_a_broken_large_answer_is_named_like_a_small_one(monkeypatch):
    monkeypatch.setattr(queue_reader_module, "PIECE", 200)
    raw = body([entry(i) for i in range(20)])[:-40] + b"]}"
    with pytest.raises(MalformedResponseError) as caught:
        QueueReader().read(raw)
    assert caught.value.field == "(body)"
