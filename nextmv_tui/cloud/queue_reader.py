"""Reading ``GET v1/account/queue`` answers of tens of thousands of runs without holding the
event loop: split, skip what did not change, validate the rest.

At 50,000 queued runs the answer is about 18 MB, and ``json.loads`` plus pydantic validation
of all of it takes about a second of CPU (measured: ``benchmarks/tui_refresh.py``; issue 14).
Between two polls only a few percent of the entries change, and their bytes are the only
thing that tells. So a ``QueueReader``:

1. splits the body into its entries' raw bytes (``msgspec``, ``PIECE`` bytes per call, no
   Python object per field; 18 MB in about 20 ms);
2. digests each entry (``hash``: 64 bits, see ``_digests``) and looks the digest up in the
   digests of the last *committed* snapshot: a known digest is the same entry as before,
   byte for byte, and is not parsed again (only its run ID is reported). The digests and
   their lookups are C-level ``map`` calls over chunks of entries, not a Python loop;
3. validates the other entries one by one with the pydantic model ``QueuedRun``, so a bad
   entry is named by its index and field, as before.

``read_steps`` is that work cut into steps of a millisecond or less (a piece of the split,
a chunk of digests, a batch of validations), for the event loop to run between its frames
and keys (``cloud/steps.py``). It used to run on a thread, which took nothing off the loop:
the two share the GIL, and frames drawn meanwhile took twice their CPU. ``read`` runs the
steps in one go. What was read counts as known only after ``commit``, which the owner calls
once the snapshot has been applied: a snapshot that was read but then dropped (superseded,
failed) never makes its entries "unchanged".

The first answer can also be read without pydantic (``preview``): importing pydantic and
building its validators costs about 80 ms of CPU at launch, and the first rows need none of
it. ``preview`` decodes every entry with msgspec into a ``PreviewEntry`` whose fields are
checked at least as strictly as ``QueuedRun`` checks them and read to the same values, so
the rows it gives are the rows the validated answer gives. The owner shows them, then
validates the same body with ``read`` (the snapshot keeps it) and applies that: the store
then holds what pydantic accepted, and nothing on screen changes. An answer ``preview``
does not accept (a shape or value outside its strict subset) is left to ``read``, whose
error names the field as before.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias, TypeVar, cast

import msgspec

from nextmv_tui.cloud.errors import MalformedResponseError
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.cloud.steps import Steps, run_steps
from nextmv_tui.cloud.timefmt import as_utc

if TYPE_CHECKING:
    from nextmv_tui.cloud.models import QueuedRun

LABEL = "GET v1/account/queue"


class _Body(msgspec.Struct):
    runs: list[msgspec.Raw]


_DECODER = msgspec.json.Decoder(_Body)
_ENTRIES = msgspec.json.Decoder(list[msgspec.Raw])
PIECE = 1 << 19
"""Bytes split per msgspec call, one step (under a millisecond): one call over a whole 18 MB
answer took about 30 ms, more on a loaded machine, and nothing can interrupt it."""
_HEAD = re.compile(rb'\A\s*\{\s*"runs"\s*:\s*\[')
TAIL_SPAN = 4096
"""The end of the body searched for ``]}`` (searching all 18 MB took 10 ms, in one call)."""
_TAIL = re.compile(rb'\]\s*\}\s*\Z')
_BETWEEN = re.compile(rb"\}\s*,\s*\{")


class _WireEntry(msgspec.Struct):
    """``QueuedRun``'s fields as msgspec reads them: each type accepts a subset of what
    pydantic accepts (strings and nulls where it takes anything; JSON integers only for the
    priority; datetimes as text, parsed below); an entry outside it is left to ``read``."""

    id: str
    created_at: str
    user_email: str | None = ""
    name: str | None = ""
    description: str | None = ""
    application_id: str | None = ""
    application_instance_id: str | None = ""
    application_version_id: str | None = ""
    execution_class: str | None = ""
    status_v2: str | None = None
    status: str | None = None
    queuing_priority: int | None = None
    status_changed_at: str | None = None


class PreviewEntry(msgspec.Struct, frozen=True):
    """One queue entry read without pydantic, to the values ``QueuedRun`` would hold."""

    id: str
    user_email: str
    name: str
    description: str
    created_at: datetime
    application_id: str
    application_instance_id: str
    application_version_id: str
    execution_class: str
    status_v2: RunStatus
    status: str | None
    queuing_priority: int | None
    status_changed_at: datetime | None


QueueEntry: TypeAlias = "QueuedRun | PreviewEntry"
"""What is read of one queue entry: validated, or previewed to the same values."""

_WIRE_ENTRY = msgspec.json.Decoder(_WireEntry)
_FRACTION = re.compile(r"(\.\d{6})\d+")
"""Digits past the microsecond: pydantic drops them, msgspec would round."""


def _when(text: str) -> datetime:
    """RFC 3339 text as ``UtcDatetime`` reads it (msgspec.ValidationError otherwise)."""
    return as_utc(msgspec.convert(_FRACTION.sub(r"\1", text, count=1), datetime))


def _preview_entry(raw: msgspec.Raw) -> PreviewEntry:
    wire = _WIRE_ENTRY.decode(raw)
    changed = wire.status_changed_at
    return PreviewEntry(
        id=wire.id,
        user_email=wire.user_email or "",
        name=wire.name or "",
        description=wire.description or "",
        created_at=_when(wire.created_at),
        application_id=wire.application_id or "",
        application_instance_id=wire.application_instance_id or "",
        application_version_id=wire.application_version_id or "",
        execution_class=wire.execution_class or "",
        status_v2=RunStatus.parse(wire.status_v2),
        status=wire.status,
        queuing_priority=wire.queuing_priority,
        status_changed_at=None if changed is None else _when(changed),
    )


class QueueSnapshot(msgspec.Struct):
    """One queue answer: every run ID in order, and the entries that are new or changed
    since the reader's last committed snapshot (the others are byte-identical to it)."""

    ids: list[str]
    """Each run ID once, in the server's order (a repeated ID keeps its first entry)."""
    entries: dict[str, QueueEntry]
    """New or changed entries by run ID (``PreviewEntry`` in a preview, else ``QueuedRun``)."""
    digests: dict[int, str] = msgspec.field(default_factory=dict)
    """Entry digest -> run ID for every entry (what ``commit`` makes known)."""
    id_set: frozenset[str] = msgspec.field(default_factory=frozenset)
    """``ids`` as a set (built with the snapshot, on the reader's thread)."""
    body: bytes | None = None
    """A preview's answer, to be validated by ``QueueReader.read`` (None: validated)."""

    def __post_init__(self) -> None:
        if not self.id_set and self.ids:
            self.id_set = frozenset(self.ids)

    @property
    def provisional(self) -> bool:
        """Read by ``QueueReader.preview``: shown, not validated yet."""
        return self.body is not None

    @property
    def runs(self) -> list[QueueEntry]:
        """The parsed entries (all of them when nothing was known before)."""
        return list(self.entries.values())

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:  # not 50,000 IDs and 18 MB of body in a log line
        kind = "preview" if self.provisional else "validated"
        return f"QueueSnapshot({len(self.ids)} runs, {len(self.entries)} parsed, {kind})"


class QueueReader:
    """Reads queue answers, parsing only entries whose bytes were not in the last committed
    snapshot. One reader per queue poll loop (one read at a time)."""

    def __init__(self) -> None:
        self._known: dict[int, str] = {}

    def read(self, body: bytes, label: str = LABEL) -> QueueSnapshot:
        """Split, skip known entries, validate the rest. Raises ``MalformedResponseError``
        (naming ``runs.<index>.<field>``) for a body or entry that does not validate."""
        return run_steps(self.read_steps(body, label))

    def read_steps(self, body: bytes | list[bytes], label: str = LABEL) -> Steps[QueueSnapshot]:
        """``read`` as a generator that pauses every millisecond or so of work (a piece of
        the split, a chunk of digests, ``VALIDATE_STEP`` validations), for an event loop
        to run it between its frames (``cloud/steps.py``). ``body`` may be the answer's
        pieces, joined here."""
        if isinstance(body, list):
            body = b"".join(body)
            yield
        try:
            raws = yield from _split(body)
        except msgspec.ValidationError as exc:
            detail, _, _ = str(exc).partition(" - at")
            raise MalformedResponseError(label, _msgspec_path(str(exc)), detail) from None
        except msgspec.DecodeError:
            raise MalformedResponseError(label, "(body)", "not valid JSON") from None
        from nextmv_tui.cloud.models import QueuedRun  # pydantic: imported on the first read

        known = self._known  # read once: ``commit`` may swap it from the owner's thread
        keys = yield from _digests(raws)
        found: list[str | None] = yield from _chunked(known.get, keys)
        parsed: dict[int, QueueEntry] = {}
        index = -1
        while True:  # the unknown entries, found by C scans rather than a Python loop
            try:
                index = found.index(None, index + 1)
            except ValueError:
                break
            entry = _validate(QueuedRun, bytes(raws[index]), label, index)
            parsed[index] = entry
            found[index] = entry.id
            if len(parsed) % VALIDATE_STEP == 0:
                yield
        ids = cast("list[str]", found)
        id_set = frozenset(ids)
        yield
        if len(id_set) < len(ids):
            return _first_of_each(QueuedRun, raws, keys, ids, parsed, label)
        entries = {entry.id: entry for entry in parsed.values()}
        return QueueSnapshot(ids, entries, dict(zip(keys, ids, strict=True)), id_set)

    def preview(self, body: bytes) -> QueueSnapshot | None:
        """The first answer read without pydantic (module docstring), or None when this
        reader has read before or ``body`` is outside what the preview accepts (then
        ``read`` it). The snapshot keeps ``body``: validate it with ``read`` next."""
        if self._known:
            return None
        try:
            raws = run_steps(_split(body))
            ids: list[str] = []
            entries: dict[str, QueueEntry] = {}
            for raw in raws:
                entry = _preview_entry(raw)
                if entry.id not in entries:
                    entries[entry.id] = entry
                    ids.append(entry.id)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError):
            return None
        return QueueSnapshot(ids, entries, {}, frozenset(ids), body=body)

    def commit(self, snapshot: QueueSnapshot) -> None:
        """``snapshot`` was applied: its entries are what the next read compares with (a
        preview's are not: they were not validated)."""
        if not snapshot.provisional:
            self._known = snapshot.digests

    def forget(self, run_ids: Iterable[str]) -> None:
        """Parse these runs' entries again next time (their applied state was lost)."""
        drop = set(run_ids)
        if drop:
            self._known = {k: v for k, v in self._known.items() if v not in drop}

    def reset(self) -> None:
        self._known = {}


_T = TypeVar("_T")
_R = TypeVar("_R")
CHUNK = 2048
"""Entries per C-level ``map`` (one step: about 0.7 ms of digests on this machine)."""
VALIDATE_STEP = 64
"""Entries validated per step (about 0.5 ms)."""


def _chunked(function: Callable[[_T], _R], items: Sequence[_T]) -> Steps[list[_R]]:
    """``list(map(function, items))``, a step per ``CHUNK``."""
    out: list[_R] = []
    for start in range(0, len(items), CHUNK):
        out.extend(map(function, items[start:start + CHUNK]))
        yield
    return out


def _digests(raws: list[msgspec.Raw]) -> Steps[list[int]]:
    """Each entry's 64-bit keyed digest, ``hash(bytes(raw))`` (SipHash with this process's
    random key), a step per ``CHUNK``, with no Python frame per entry. BLAKE2b cost three
    times as much per entry, most of it building the hash object (45 ms against 16 ms for
    50,000 entries).

    A changed entry whose digest equals another run's old digest would be taken for that
    run: about 2,500 x 50,000 / 2**64, or 7e-12, per refresh at 50,000 runs of which 5 %
    change. The run then appears twice in the answer, and ``read`` parses every entry of a
    repeated run ID, so the mistake is found; it is missed only if the other run left the
    queue in that same refresh."""
    out: list[int] = []
    for start in range(0, len(raws), CHUNK):
        out.extend(map(hash, map(bytes, raws[start:start + CHUNK])))
        yield
    return out


def _first_of_each(
    model: type[QueuedRun],
    raws: list[msgspec.Raw],
    keys: list[int],
    ids: list[str],
    parsed: dict[int, QueueEntry],
    label: str,
) -> QueueSnapshot:
    """The snapshot of an answer that names a run twice or more: its first entry counts.

    Every entry of a repeated run ID is parsed, including those whose digest was known:
    a digest collision (``_digests``) shows up as such a repeat, and parsing tells the truth."""
    counts = Counter(ids)
    for index, run_id in enumerate(ids):
        if counts[run_id] > 1 and index not in parsed:
            entry = _validate(model, bytes(raws[index]), label, index)
            if entry.id != run_id:  # a collision: this entry is new after all
                parsed[index] = entry
                ids[index] = entry.id
    kept: list[str] = []
    entries: dict[str, QueueEntry] = {}
    digests: dict[int, str] = {}
    seen: set[str] = set()
    for index, (key, run_id) in enumerate(zip(keys, ids, strict=True)):
        if run_id in seen:
            continue
        seen.add(run_id)
        kept.append(run_id)
        digests[key] = run_id
        if index in parsed:
            entries[run_id] = parsed[index]
    return QueueSnapshot(kept, entries, digests, frozenset(seen))


def _split(body: bytes) -> Steps[list[msgspec.Raw]]:
    """The entries of ``{"runs": [...]}``, split ``PIECE`` bytes at a time (a step each).

    A piece ends at a ``}, {`` between two entries; if that place was inside a string, the
    piece does not decode (its last string is never closed) and the next one is tried. Any
    other shape, or any error, goes through the one-call decoder (which also words the
    error)."""
    head, tail = _HEAD.match(body), _TAIL.search(body, max(0, len(body) - TAIL_SPAN))
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
        yield
    return raws


def _validate(model: type[QueuedRun], raw: bytes, label: str, index: int) -> QueuedRun:
    try:
        return model.model_validate_json(raw)
    except ValueError as exc:  # pydantic's ValidationError (not imported per entry: 2 us)
        errors = getattr(exc, "errors", None)
        if errors is None:
            raise
        first = errors()[0]
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


__all__ = ["LABEL", "PreviewEntry", "QueueEntry", "QueueReader", "QueueSnapshot"]
