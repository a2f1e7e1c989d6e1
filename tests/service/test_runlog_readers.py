"""The bounded log readers behind GET …/logs and …/logs/live, on hand-made log files."""

from __future__ import annotations

import json
from pathlib import Path

from nextmv_tui.service.runlog import (
    LogWriter,
    full_log_chunks,
    read_final_log_since,
    read_log_since,
    read_log_tail,
)


def _log(path: Path, lines: list[str], partial: str = "") -> None:
    with path.open("wb") as handle:
        for line in lines:
            handle.write(json.dumps({"timestamp": "2026-01-01T00:00:00.000Z", "log": line},
                                    ensure_ascii=False).encode() + b"\n")
        handle.write(partial.encode())


def test_tail_keeps_whole_lines_within_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "logs.jsonl"
    lines = [f"line {i} é" + "x" * 90 for i in range(5000)]
    _log(path, lines, partial='{"timestamp": "2026-01-01T00:00:00.000Z", "log": "half')
    text, cut = read_log_tail(path, 10_000)
    assert cut
    got = text.split("\n")
    assert got == lines[-len(got):]
    assert len(text.encode()) <= 10_000 < len(text.encode()) + len(lines[0].encode()) + 1


def test_tail_of_a_short_log_is_all_of_it(tmp_path: Path) -> None:
    path = tmp_path / "logs.jsonl"
    _log(path, ["a", "b"])
    assert read_log_tail(path, 10_000) == ("a\nb", False)
    assert read_log_tail(tmp_path / "missing", 10) == ("", False)


def test_tail_of_one_huge_line_is_its_end(tmp_path: Path) -> None:
    path = tmp_path / "logs.jsonl"
    _log(path, ["start" + "y" * 60_000 + "end"])
    text, cut = read_log_tail(path, 1000)
    assert cut and text.endswith("end") and len(text) == 1000


def test_full_log_streams_every_line_escaped(tmp_path: Path) -> None:
    path = tmp_path / "logs.jsonl"
    lines = [f'{i} "quoted" \\ back\ttab ünï' for i in range(20_000)]
    _log(path, lines)
    body = json.loads(b"".join(full_log_chunks(path)))
    assert body == {"log": "\n".join(lines)}
    assert json.loads(b"".join(full_log_chunks(tmp_path / "missing"))) == {"log": ""}


def test_final_live_log_skips_to_its_last_bytes(tmp_path: Path) -> None:
    path = tmp_path / "logs.jsonl"
    lines = [f"line {i} " + "z" * 100 for i in range(2000)]
    _log(path, lines)
    entries, end, skipped = read_final_log_since(path, 0, 20_000)
    assert end == path.stat().st_size and skipped > 0
    assert [e["log"] for e in entries] == lines[-len(entries):]
    entries, end, skipped = read_final_log_since(path, end - 5000, 20_000)
    assert skipped == 0
    page, offset = read_log_since(path, 0, 3000)
    assert offset < 3000 and [e["log"] for e in page] == lines[: len(page)]


def test_writer_cap_adds_one_note_and_counts_what_it_dropped(tmp_path: Path) -> None:
    writer = LogWriter(tmp_path / "logs.jsonl", max_bytes=5000)
    for i in range(200):
        writer.write(f"line {i}")
    writer.close()
    text, _ = read_log_tail(tmp_path / "logs.jsonl", 100_000)
    assert text.count("[log cut") == 1 and text.endswith("the run goes on]")
    assert writer.capped and writer.dropped > 0 and writer.failure is None
    assert (tmp_path / "logs.jsonl").stat().st_size < 5000 + 400
