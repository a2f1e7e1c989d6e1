"""When the garbage collector may run: not during launch, and never over what lives forever.

CPython's collector runs whenever allocations outnumber frees by a threshold, on whatever
thread allocates, holding the GIL, so the event loop waits. At launch, importing Textual,
pydantic and the app allocates hundreds of thousands of long-lived objects (modules,
classes, validators, styles): measured, the collector ran a full pass of 27 ms during the
imports and one of 85 ms over them after the first rows (``NEXTMV_TUI_LOOP_TRACE``), both
finding next to nothing to free. So the command line holds the collector off
(``hold_for_launch``) and the app releases it once the first rows are on screen
(``release_after_launch``): what is alive then is moved to the permanent generation
(``gc.freeze``, which also resets the young counts, so no pass falls due at once) and later
passes only walk what was made after it. Reference counting frees everything without cycles
meanwhile; what cycles the launch leaves stay allocated (a one-off, bounded by the launch).
Only the process that held it releases it: tests building apps directly never freeze.
"""

from __future__ import annotations

import gc

_held = False


def hold_for_launch() -> None:
    """Stop automatic collection until ``release_after_launch`` (the CLI, before imports)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release_after_launch() -> bool:
    """Freeze what the launch made and collect again as usual; True if it was held."""
    global _held
    if not _held:
        return False
    _held = False
    gc.freeze()
    gc.enable()
    return True


def held() -> bool:
    return _held


BULK = 1000
"""Long-lived objects made at once after which what is alive is frozen (``settle``)."""


def settle(count: int) -> bool:
    """``count`` long-lived objects were just made at once (a first load, a mass arrival,
    the queue table's first fill or a re-sort of thousands of rows): freeze what is alive,
    so full passes stop walking them (traced at 50,000 runs: a full pass of 128 ms on the
    reader's thread, walking the table's 50,000 sort keys made after the launch freeze).
    Bulk arrivals only, never each refresh: a cycle alive at a freeze stays allocated."""
    if count < BULK:
        return False
    gc.freeze()
    return True
