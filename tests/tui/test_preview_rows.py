"""The launch's first rows come from the msgspec preview (``QueueReader.preview``); they must be
the rows the validated answer gives, so applying the validated snapshot afterwards changes
nothing (no flicker), and a withdrawn preview leaves the store as if it never came."""

from __future__ import annotations

from datetime import datetime, timezone

import msgspec.structs

from nextmv_tui.cloud.queue_reader import QueueReader
from nextmv_tui.tui.state import RunStore
from tests.cloud.test_queue_preview import ODD_BUT_VALID
from tests.cloud.test_queue_reader import body, entry

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def rows(store: RunStore) -> list[dict[str, object]]:
    return [msgspec.structs.asdict(row) for row in store.rows.values()]


def test_preview_rows_equal_validated_rows_and_validation_changes_nothing():
    raw = body(ODD_BUT_VALID + [entry(20 + i, status=s) for i, s in enumerate(
        ("queued", "running", "succeeded", "failed", "canceled", "none"))])
    preview = QueueReader().preview(raw)
    assert preview is not None
    previewed, validated = RunStore(), RunStore()
    token = previewed.begin_poll()
    shown = previewed.apply_queue(preview, token, NOW)
    assert shown.added == preview.ids
    reader = QueueReader()
    validated.apply_queue(reader.read(raw), validated.begin_poll(), NOW)
    assert rows(previewed) == rows(validated)
    assert previewed.counts() == validated.counts()
    assert dict(previewed.positions) == dict(validated.positions)
    again = previewed.apply_queue(QueueReader().read(raw), token, NOW)
    assert not (again.added or again.changed or again.removed or again.left), again
    assert rows(previewed) == rows(validated)


def test_a_withdrawn_preview_leaves_an_empty_store():
    raw = body([entry(i) for i in range(5)])
    preview = QueueReader().preview(raw)
    assert preview is not None
    store = RunStore()
    token = store.begin_poll()
    store.apply_queue(preview, token, NOW)
    store.selected = "run-00002"
    change = store.withdraw(preview)
    assert sorted(change.removed) == preview.ids and len(store) == 0
    assert store.selected is None and store.counts() == RunStore().counts()
    validated = store.apply_queue(QueueReader().read(raw), store.begin_poll(), NOW)
    assert validated.added == preview.ids, "a later good answer adds them as new"
    assert not validated.left
