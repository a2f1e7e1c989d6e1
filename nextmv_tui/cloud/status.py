"""Run status values as the Nextmv API spells them (lowercase), plus a tolerant parser.

The server side only ever emits the six documented values. The client side maps anything
else to ``UNKNOWN`` so that a new status added by Nextmv Cloud never crashes the monitor.
"""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    """``status_v2`` of a run. ``UNKNOWN`` is client-only: never sent on the wire."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    NONE = "none"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        """True once the run can no longer change (polling stops here)."""
        return self in FINAL_STATUSES

    @property
    def is_cancelable(self) -> bool:
        """Only queued and running runs can be canceled."""
        return self in (RunStatus.QUEUED, RunStatus.RUNNING)

    @classmethod
    def parse(cls, value: object) -> RunStatus:
        """Map a wire value to a status; unknown or malformed values become ``UNKNOWN``."""
        if isinstance(value, RunStatus):
            return value
        if isinstance(value, str):
            found = cls._value2member_map_.get(value)  # what cls(value) looks up, minus its cost
            return found if isinstance(found, RunStatus) else cls.UNKNOWN
        if value is None:
            return cls.NONE
        return cls.UNKNOWN


FINAL_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELED})

V1_STATUS: dict[str, str] = {
    "queued": "running",
    "running": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
    "none": "running",
}
"""The deprecated v1 ``status`` for each ``status_v2`` (SDK 0.13.1 requires it).

v1 knows only ``running``, ``succeeded`` and ``failed`` (SDK 0.13.1's ``Status`` enum); the
queuing doc shows a queued run as ``"status": "running"`` beside ``"status_v2": "queued"``.
So every run that is not over is ``running``, and a canceled run, which did not succeed, is
``failed``."""


def v1_status(status_v2: str) -> str:
    """The v1 ``status`` that goes with a ``status_v2`` value (``running`` when unknown)."""
    return V1_STATUS.get(status_v2, "running")
