"""The API's timestamp text: RFC 3339 in UTC with milliseconds and ``Z``.

One definition for the wire models, the local service's responses and its log lines, so the
three can never disagree (the SDK and the monitor compare and parse these strings).
"""

from __future__ import annotations

from datetime import datetime, timezone


def as_utc(value: datetime) -> datetime:
    """``value`` made timezone-aware; a naive datetime is taken as UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def format_utc(value: datetime) -> str:
    """``2024-01-01T12:00:00.000Z``."""
    text = as_utc(value).astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def format_epoch(seconds: float) -> str:
    """A Unix time (as stored by the local service) in the API's text form."""
    return format_utc(datetime.fromtimestamp(seconds, tz=timezone.utc))


def now_text() -> str:
    """Now in the API's text form (log line timestamps)."""
    return format_utc(datetime.now(timezone.utc))
