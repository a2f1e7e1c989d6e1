"""QueueReader.preview: the first queue answer read with msgspec alone (launch, issue 14). What
it accepts it reads to the values pydantic's ``QueuedRun`` gives; what it does not accept is
left to ``read``, whose error still names the field; a preview is never "known"."""

from __future__ import annotations

from typing import Any

import pytest

from nextmv_tui.cloud.errors import MalformedResponseError
from nextmv_tui.cloud.queue_reader import PreviewEntry, QueueReader
from tests.cloud.test_queue_reader import body, entry
from tests.conftest import fresh_python

FIELDS = ("id", "user_email", "name", "description", "created_at", "application_id",
          "application_instance_id", "application_version_id", "execution_class",
          "status_v2", "status", "queuing_priority", "status_changed_at")

ODD_BUT_VALID: list[dict[str, Any]] = [
    entry(0),
    entry(1, name=None, user_email=None, description=None, application_id=None,
          application_instance_id=None, application_version_id=None, execution_class=None),
    entry(2, status="brand-new-status"),
    {k: v for k, v in entry(3).items() if k not in ("status_v2", "status")},
    entry(4, status_v2=None, status=None),
    entry(5, created_at="2026-01-01T10:00:00+02:00", status_changed_at="2026-01-01T08:30:00Z"),
    entry(6, created_at="2026-01-01T00:00:00", status_changed_at="2026-01-01 00:00:01Z"),
    entry(7, created_at="2026-01-01T00:00:00.123456789Z",
          status_changed_at="2026-01-01T00:00:00.9999999Z"),
    entry(8, queuing_priority=3, status_changed_at=None),
    entry(9, queuing_priority=None, extra={"nested": [1, 2]}, more="ignored"),
    entry(10, name="\x1b[31mred\x1b[0m [bold]x[/bold] \u202e", description="\x00"),
    entry(0, name="a repeated ID keeps its first entry"),
]


def test_preview_reads_what_pydantic_reads():
    raw = body(ODD_BUT_VALID)
    preview = QueueReader().preview(raw)
    validated = QueueReader().read(raw)
    assert preview is not None and preview.provisional and preview.body == raw
    assert not validated.provisional
    assert preview.ids == validated.ids == [f"run-{i:05d}" for i in range(11)]
    for run_id in validated.ids:
        fast, slow = preview.entries[run_id], validated.entries[run_id]
        assert isinstance(fast, PreviewEntry)
        for name in FIELDS:
            assert getattr(fast, name) == getattr(slow, name), (run_id, name)
            assert type(getattr(fast, name)) is type(getattr(slow, name)) or name in (
                "created_at", "status_changed_at"), (run_id, name)  # both datetimes
    assert preview.entries["run-00002"].status_v2.value == "unknown"
    assert preview.entries["run-00003"].status_v2.value == "none"


@pytest.mark.parametrize("change", [
    {"queuing_priority": 2.0},  # pydantic takes it as 2; the preview takes integers only
    {"queuing_priority": "5"},
    {"created_at": 1767225600},  # a Unix time
    {"created_at": "2026-01-01"},
    {"status_v2": 7},
    {"status": 1},
    {"name": 12},
    {"queuing_priority": "high"},
    {"created_at": "yesterday"},
    {"id": None},
])
def test_what_the_preview_does_not_accept_is_left_to_read(change):
    raw = body([entry(0), entry(1, **change)])
    assert QueueReader().preview(raw) is None
    try:
        snapshot = QueueReader().read(raw)
    except MalformedResponseError as exc:  # read's error still names the entry and field
        assert exc.field.startswith("runs.1"), exc.field
    else:
        assert snapshot.ids == ["run-00000", "run-00001"]


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"runs": null}', b'{"runs": [1]}',
                                 body([entry(0)])[:-5], body([{"name": "no id"}])])
def test_a_malformed_answer_has_no_preview_and_read_names_it(raw):
    assert QueueReader().preview(raw) is None
    with pytest.raises(MalformedResponseError) as caught:
        QueueReader().read(raw)
    assert "GET v1/account/queue" in str(caught.value)


def test_a_preview_is_never_known_and_only_the_first_answer_has_one():
    reader = QueueReader()
    raw = body([entry(i) for i in range(5)])
    preview = reader.preview(raw)
    assert preview is not None
    reader.commit(preview)  # not validated: commits nothing
    validated = reader.read(raw)
    assert set(validated.entries) == set(preview.ids), "every entry validated after a preview"
    reader.commit(validated)
    assert reader.preview(raw) is None, "after a validated answer: read compares digests"
    assert reader.read(raw).entries == {}


def test_preview_imports_no_pydantic():
    code = (
        "import sys, json\n"
        "from nextmv_tui.cloud.queue_reader import QueueReader\n"
        f"raw = {body([entry(i) for i in range(3)])!r}\n"
        "assert QueueReader().preview(raw) is not None\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'pydantic_core') or m == 'nextmv_tui.cloud.models'))\n"
    )
    out = fresh_python(code)
    assert out == "[]"
