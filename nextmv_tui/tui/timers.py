"""``PollTimer``: a ``Poller``'s decisions as Textual timers, and nothing else.

``now`` becomes ``call_later`` (never a 0-second timer: Textual 8's Timer divides by its
interval and would die silently), ``wait`` one chained one-shot ``set_timer``, ``cancel``
stops the armed timer. A Textual timer hands its callback to the message queue when it
fires, so stopping it later cannot take that back: every arm and cancel starts a new
generation, and a callback of an older one does nothing. When a current one fires, the
poller decides whether a poll really starts (a second "now" for one poll starts nothing).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer

from nextmv_tui.tui.poller import Decision, Poller


class PollTimer:
    """Owns the one timer of ``poller`` on ``owner``; ``start_poll`` launches the worker."""

    def __init__(
        self, owner: MessagePump, poller: Poller, start_poll: Callable[[], None], name: str
    ) -> None:
        self._owner = owner
        self._poller = poller
        self._start_poll = start_poll
        self._name = name
        self._timer: Timer | None = None
        self._generation = 0

    def apply(self, decision: Decision) -> None:
        if decision.action == "keep":
            return
        self.cancel()
        generation = self._generation
        if decision.action == "now":
            self._owner.call_later(self._fire, generation)
        elif decision.action == "wait":
            self._timer = self._owner.set_timer(
                decision.delay, lambda: self._fire(generation), name=self._name
            )

    def cancel(self) -> None:
        """Stop the armed timer; callbacks already queued by it become no-ops."""
        self._generation += 1
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _fire(self, generation: int) -> None:
        if generation != self._generation:
            return
        self._timer = None
        if self._poller.poll_started():
            self._start_poll()
