"""Reading ``GET v1/account/queue`` answers of tens of thousands of runs without holding the
event loop: split, skip what did not change, validate the rest.

At 50,000 queued runs the answer is about 18 MB, and ``json.loads`` plus pydantic validation
of all of it takes about a second of CPU (measured: ``benchmarks/tui_refresh.py``; issue 14).
Between two polls only a few percent of the entries change, and their bytes are the only
thing that tells. So a ``QueueReader``:

1. splits the body into its entries' raw bytes (``msgspec``: one pass in C, no Python
   object per field; 18 MB in about 25 ms);
2. digests each entry (BLAKE2b, 128 bits) and looks the digest up in the digests of the
   last *committed* snapshot: a known digest is the same entry as before, byte for byte,
   and is not parsed again (only its run ID is reported);
3. validates the other entries one by one with the pydantic model ``QueuedRun``, so a bad
   entry is named by its index and field, as before.

``read`` is plain CPU work meant for a thread (``asyncio.to_thread``): each step handles one
entry at a time, so the interpreter hands the GIL back to the event loop every few
milliseconds. What was read counts as known only after ``commit``, which the owner calls on
its own thread once the snapshot has been applied: a snapshot that was read but then
dropped (superseded, failed) never makes its entries "unchanged".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec
from pydantic import ValidationError

from nextmv_tui.cloud.errors import MalformedResponseError
from nextmv_tui.cloud.models import QueuedRun

LABEL = "GET v1/account/queue"


class _Body(msgspec.Struct):
    runs: list[msgspec.Raw]


_DECODER = msgspec.json.Decoder(_Body)
_ENTRIES = msgspec.json.Decoder(list[msgspec.Raw])
PIECE = 1 << 19
"""Bytes split per msgspec call. A call holds the GIL throughout: one call over an 18 MB
answer held it about 30 ms (more on a loaded machine), stalling the event loop's thread."""
_HEAD = re.compile(rb'\A\s*\{\s*"runs"\s*:\s*\[')
_TAIL = re.compile(rb'\]\s*\}\s*\Z')
_BETWEEN = re.compile(rb"\}\s*,\s*\{")


def digest(raw: bytes | memoryview | msgspec.Raw) -> bytes:
    """128-bit digest of one entry's bytes (collisions are not a practical concern)."""
    return hashlib.blake2b(raw, digest_size=16).digest()


@dataclass
class QueueSnapshot:
    """One queue answer: every run ID in order, and the entries that are new or changed
    since the reader's last committed snapshot (the others are byte-identical to it)."""

    ids: list[str]
    """Each run ID once, in the server's order (a repeated ID keeps its first entry)."""
    entries: dict[str, QueuedRun]
    """New or changed entries by run ID."""
    digests: dict[bytes, str] = field(default_factory=dict, repr=False)
    """Entry digest -> run ID for every entry (what ``commit`` makes known)."""
    id_set: frozenset[str] = field(default_factory=frozenset, repr=False)
    """``ids`` as a set (built with the snapshot, on the reader's thread)."""

    def __post_init__(self) -> None:
        if not self.id_set and self.ids:
            self.id_set = frozenset(self.ids)

    @property
    def runs(self) -> list[QueuedRun]:
        """The parsed entries (all of them when nothing was known before)."""
        return list(self.entries.values())

    def __len__(self) -> int:
        return len(self.ids)


class QueueReader:
    """Reads queue answers, parsing only entries whose bytes were not in the last committed
    snapshot. One reader per queue poll loop (one read at a time)."""

    def __init__(self) -> None:
        self._known: dict[bytes, str] = {}

    def read(self, body: bytes, label: str = LABEL) -> QueueSnapshot:
        """Split, skip known entries, validate the rest. Raises ``MalformedResponseError``
        (naming ``runs.<index>.<field>``) for a body or entry that does not validate."""
        try:
            raws = _split(body)
        except msgspec.ValidationError as exc:
            detail, _, _ = str(exc).partition(" - at")
            raise MalformedResponseError(label, _msgspec_path(str(exc)), detail) from None
        except msgspec.DecodeError:
            raise MalformedResponseError(label, "(body)", "not valid JSON") from None
        known = self._known  # read once: ``commit`` may swap it from the owner's thread
        ids: list[str] = []
        entries: dict[str, QueuedRun] = {}
        digests: dict[bytes, str] = {}
        seen: set[str] = set()
        for index, raw in enumerate(raws):
            key = digest(raw)
            run_id = known.get(key)
            if run_id is None:
                entry = _validate(bytes(raw), label, index)
                run_id = entry.id
                if run_id in seen:
                    continue
                entries[run_id] = entry
            elif run_id in seen:
                continue
            seen.add(run_id)
            ids.append(run_id)
            digests[key] = run_id
        return QueueSnapshot(ids, entries, digests, frozenset(seen))

    def commit(self, snapshot: QueueSnapshot) -> None:
        """``snapshot`` was applied: its entries are what the next read compares with."""
        self._known = snapshot.digests

    def forget(self, run_ids: Iterable[str]) -> None:
        """Parse these runs' entries again next time (their applied state was lost)."""
        drop = set(run_ids)
        if drop:
            self._known = {k: v for k, v in self._known.items() if v not in drop}

    def reset(self) -> None:
        self._known = {}


def _split(body: bytes) -> list[msgspec.Raw]:
    """The entries of ``{"runs": [...]}``, split ``PIECE`` bytes at a time.

    A piece ends at a ``}, {`` between two entries; if that place was inside a string, the
    piece does not decode (its last string is never closed) and the next one is tried. Any
    other shape, or any error, goes through the one-call decoder (which also words the
    error)."""
    head, tail = _HEAD.match(body), _TAIL.search(body)
    if len(body) <= PIECE or head is None or tail is None:
        return _DECODER.decode(body).runs
    start, end = head.end(), tail.start()
    raws: list[msgspec.Raw] = []
    while start < end:
        cut, stop = start + PIECE, end
        while cut < end and (found := _BETWEEN.search(body, cut, end)) is not None:
            try:
                raws.extend(_ENTRIES.decode(b"[" + body[start:found.start() + 1] + b"]"))
            except msgspec.DecodeError:
                cut = found.end()  # that "}, {" was inside a string: try the next one
                continue
            stop = found.end() - 1  # the next piece starts at that "{"
            break
        else:
            try:
                raws.extend(_ENTRIES.decode(b"[" + body[start:end] + b"]"))
            except msgspec.DecodeError:
                return _DECODER.decode(body).runs
        start = stop if stop < end else end
    return raws


def _validate(raw: bytes, label: str, index: int) -> QueuedRun:
    try:
        return QueuedRun.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        field_path = f"runs.{index}.{where}" if where else f"runs.{index}"
        raise MalformedResponseError(label, field_path, first["msg"]) from None


def _msgspec_path(message: str) -> str:
    """The dotted field of a msgspec error: ``Expected `array`, got `null` - at `$.runs``
    -> ``runs``; ``Object missing required field `runs``` -> ``runs``."""
    detail, _, where = message.partition(" - at `$")
    path = where.rstrip("`").lstrip(".").replace("[", ".").replace("]", "")
    missing = detail.partition("missing required field `")[2].rstrip("`")
    if missing:
        path = f"{path}.{missing}" if path else missing
    return path or "(body)"


__all__ = ["LABEL", "QueueReader", "QueueSnapshot", "digest"]
