"""Units for people: byte sizes and UTC timestamps, shared by packaging errors, the headless
commands and the monitor (one definition of each)."""

from __future__ import annotations

from datetime import datetime, timezone

from nextmv_tui.cloud.timefmt import as_utc


def human_bytes(size: float) -> str:
    """``512 B``, ``1.5 KiB``, ``6.0 MiB``: binary units, as the API's limits are."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def utc_stamp(value: datetime, *, date: bool = True) -> str:
    """``2026-01-01 12:00:00Z`` (or ``12:00:00Z``): UTC, to the second."""
    value = as_utc(value).astimezone(timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M:%SZ" if date else "%H:%M:%SZ")
