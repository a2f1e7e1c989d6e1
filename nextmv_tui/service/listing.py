"""Run and application lists as Nextmv Cloud serves them: pages, order, page tokens, filters.

- Runs (``GET v1/applications/{app}/runs``): newest first (insertion order), at most
  ``page_size`` (50, the documented Cloud maximum) per answer. With ``pagereturn=true`` a
  ``next_page_token`` follows while more runs remain; without it the newest page comes alone.
- Applications (``GET v1/applications``): by ID. With ``pagereturn=true`` the answer is
  ``{"items": [...], "next_page_token"?}`` in pages; without it, a bare JSON list of every
  application (what SDK 1.13's ``list_applications(no_pagination=True)`` iterates).
- Filters on runs (extensions of this service; the SDK sends none, it filters on the
  client): ``status=s[,s...]`` (``status_v2`` values) and ``created_after=RFC 3339`` (runs
  created at or after that instant).
- Page tokens are opaque (base64url) and checked strictly: a token is bound to its list,
  application and filters, carries a position in range, and anything else is a ``ValueError``
  whose message names the token (the route turns it into a 400, never a 5xx).

Pure functions over the store; the route handlers only translate errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from nextmv_tui.cloud.models import UtcDatetime
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.service.store import AppRecord, RunRecord, Store

MAX_SEQ = 2**63 - 1
"""Largest SQLite INTEGER: a position beyond it would overflow the query."""
MAX_TOKEN_CHARS = 512
LIST_STATUSES = tuple(s.value for s in RunStatus if s != RunStatus.UNKNOWN)

_TOKEN_TEXT = re.compile(r"[A-Za-z0-9_-]+")
_SEQ_TEXT = re.compile(r"[0-9]{1,19}")
_APP_ID_TEXT = re.compile(r"[^/?#% ]{1,128}")
_DATETIME = TypeAdapter(UtcDatetime)


@dataclass(frozen=True)
class RunQuery:
    """What one list-runs request asks for (validated)."""

    app_id: str
    statuses: tuple[str, ...] = ()
    created_after: float | None = None
    before_seq: int | None = None

    @property
    def scope(self) -> str:
        """What a page token is bound to: the application and the filters."""
        after = "" if self.created_after is None else repr(self.created_after)
        return f"runs\n{self.app_id}\n{','.join(self.statuses)}\n{after}"


@dataclass(frozen=True)
class Page:
    """One answer: the items and the token of the next page (None on the last)."""

    runs: list[RunRecord]
    next_page_token: str | None


# --- parsing ------------------------------------------------------------------------------


def parse_statuses(text: str | None) -> tuple[str, ...]:
    """``status=failed`` or ``status=queued,running``; unknown values are refused."""
    if text is None or not text.strip():
        return ()
    wanted: list[str] = []
    for part in text.split(","):
        value = part.strip()
        if value not in LIST_STATUSES:
            raise ValueError(
                f"invalid status {_quote(value)}: expected one or more of "
                f"{', '.join(LIST_STATUSES)} (comma-separated)"
            )
        if value not in wanted:
            wanted.append(value)
    return tuple(sorted(wanted))


def parse_created_after(text: str | None) -> float | None:
    """``created_after`` as epoch seconds; RFC 3339 (``2024-05-01T12:00:00Z``)."""
    if text is None or not text.strip():
        return None
    try:
        when: datetime = _DATETIME.validate_python(text.strip())
        return when.timestamp()
    except (ValidationError, ValueError, OverflowError, OSError):
        raise ValueError(
            f"invalid created_after {_quote(text)}: expected an RFC 3339 date-time such as "
            "2024-05-01T12:00:00Z"
        ) from None


def run_query(
    app_id: str, status: str | None, created_after: str | None, pagetoken: str | None
) -> RunQuery:
    """Validate the query parameters of a list-runs request (``ValueError`` names the bad one)."""
    query = RunQuery(app_id, parse_statuses(status), parse_created_after(created_after))
    if not pagetoken:
        return query
    position = decode_token(pagetoken, query.scope)
    if not _SEQ_TEXT.fullmatch(position) or not 0 < int(position) <= MAX_SEQ:
        raise ValueError(_bad_token(pagetoken, "not a position of this list"))
    return RunQuery(query.app_id, query.statuses, query.created_after, int(position))


# --- tokens -------------------------------------------------------------------------------


def _digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:12]


def encode_token(scope: str, position: str) -> str:
    raw = f"v1:{_digest(scope)}:{position}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str, scope: str) -> str:
    """The position a token of ``scope`` carries; ``ValueError`` naming the token otherwise."""
    if len(token) > MAX_TOKEN_CHARS or not _TOKEN_TEXT.fullmatch(token):
        raise ValueError(_bad_token(token, "not a page token of this service"))
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise ValueError(_bad_token(token, "not a page token of this service")) from None
    version, _, rest = raw.partition(":")
    digest, _, position = rest.partition(":")
    if version != "v1" or not position:
        raise ValueError(_bad_token(token, "not a page token of this service"))
    if digest != _digest(scope):
        raise ValueError(_bad_token(
            token, "it belongs to another list (application or filters differ); "
            "send the same query parameters as for the first page"
        ))
    return position


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _bad_token(token: str, reason: str) -> str:
    return f"invalid pagetoken {_quote(token)}: {reason}"


# --- pages --------------------------------------------------------------------------------


def runs_page(store: Store, query: RunQuery, page_size: int, paged: bool) -> Page:
    """Newest first; one row more than a page tells whether a next page exists."""
    rows = store.list_runs(
        query.app_id, query.before_seq, page_size + 1,
        statuses=query.statuses, created_after=query.created_after,
    )
    if len(rows) <= page_size:
        return Page(rows, None)
    rows = rows[:page_size]
    token = encode_token(query.scope, str(rows[-1].seq)) if paged else None
    return Page(rows, token)


def applications_page(
    store: Store, pagetoken: str | None, page_size: int
) -> tuple[list[AppRecord], str | None]:
    """A page of applications by ID (``pagereturn=true``)."""
    after = None
    if pagetoken:
        after = decode_token(pagetoken, "applications")
        if not _APP_ID_TEXT.fullmatch(after):
            raise ValueError(_bad_token(pagetoken, "not a position of this list"))
    rows = store.list_applications(after_id=after, limit=page_size + 1)
    if len(rows) <= page_size:
        return rows, None
    rows = rows[:page_size]
    return rows, encode_token("applications", rows[-1].id)
