"""Fitting text into a width (``tui/format.py``): values are cut with ``…`` or wrapped at
spaces, never split mid-token; items and columns are left out by priority."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from nextmv_tui.tui.format import (
    ColumnFit,
    display_endpoint,
    fit_by_priority,
    plan_columns,
    truncate,
    wrap_words,
)


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("run-7h3k2m9p", 12, "run-7h3k2m9p"),
        ("run-7h3k2m9p", 11, "run-7h3k2m…"),
        ("succeeded", 6, "succe…"),
        ("demo routing 103 stops", 14, "demo routing…"),  # no space left before the …
        ("abc", 1, "…"),
        ("abc", 0, ""),
        ("", 5, ""),
        ("日本語テキスト", 7, "日本語…"),  # wide characters count two cells
    ],
)
def test_truncate(text: str, width: int, expected: str) -> None:
    result = truncate(text, width)
    assert result == expected
    assert cell_len(result) <= max(width, 0)


def test_wrap_words_wraps_at_spaces_and_never_splits_a_word() -> None:
    assert wrap_words("2026-11-25 11:48:00Z (12m ago)", 22) == [
        "2026-11-25 11:48:00Z", "(12m ago)",
    ]
    assert wrap_words("run-aycozlpk5fi9", 8) == ["run-ayc…"], "a long token is cut, not folded"
    assert wrap_words("a b c d e f", 3) == ["a b", "c d", "e f"]
    assert wrap_words("a b c d e f", 3, max_lines=2) == ["a b", "c…"]
    assert wrap_words("   ", 10) == [] and wrap_words("x", 0) == []
    for line in wrap_words("depot north 120 stops, all vehicles, 3 depots", 9):
        assert cell_len(line) <= 9


def test_fit_by_priority_drops_least_important_first_and_keeps_priority_zero() -> None:
    sizes = [(0, 10), (3, 10), (1, 10), (3, 10), (2, 10)]
    assert fit_by_priority(sizes, 50) == [0, 1, 2, 3, 4]
    assert fit_by_priority(sizes, 40) == [0, 1, 2, 4], "of two equals, the rightmost goes"
    assert fit_by_priority(sizes, 30) == [0, 2, 4]
    assert fit_by_priority(sizes, 5) == [0], "priority 0 stays even when it does not fit"
    assert fit_by_priority([(1, 5), (1, 5)], 11, gap=3) == [0]


def test_plan_columns_drops_by_priority_then_gives_room_to_the_important_ones() -> None:
    columns = [
        ColumnFit("status", 0, 13, 13), ColumnFit("id", 0, 16, 16),
        ColumnFit("name", 2, 28, 14), ColumnFit("app", 3, 11, 8),
        ColumnFit("user", 7, 20, 10), ColumnFit("created", 1, 7, 7),
    ]
    wide = plan_columns(columns, 200)
    assert wide == {"status": 13, "id": 16, "name": 28, "app": 11, "user": 20, "created": 7}
    narrow = plan_columns(columns, 79)
    assert list(narrow) == ["status", "id", "name", "app", "created"], "user dropped first"
    assert narrow["status"] == 13 and narrow["id"] == 16 and narrow["created"] == 7
    assert sum(narrow.values()) + 2 * len(narrow) <= 79
    assert narrow["name"] > 14, "the spare room goes to the name before the application"
    tiny = plan_columns(columns, 30)
    assert list(tiny) == ["status", "id"]


@pytest.mark.parametrize(
    ("endpoint", "shown"),
    [
        ("https://api.cloud.nextmv.io", "https://api.cloud.nextmv.io"),
        ("https://user:sk-SECRET@host:8443/prefix", "https://host:8443/prefix"),
        ("http://sk-SECRET@127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("host:1", "host:1"),
    ],
)
def test_display_endpoint_never_shows_credentials(endpoint: str, shown: str) -> None:
    assert display_endpoint(endpoint) == shown
    assert "SECRET" not in display_endpoint(endpoint)
