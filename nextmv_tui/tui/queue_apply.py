"""Merging a queue answer into the store: the launch's preview, and large snapshots in slices.

A mixin of the app (one concept per module). The first answer is read without pydantic
(``QueueReader.preview``) and painted at once; the same answer, validated in steps on the
loop, then replaces it with the same rows. A snapshot larger than ``APPLY_SLICE`` entries
is merged a slice at a time on the loop, yielding in between, so keys are answered
meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from textual import on
from textual.app import App

from nextmv_tui.cloud.errors import MalformedResponseError
from nextmv_tui.cloud.steps import run_steps_async
from nextmv_tui.tui import collector, loop_trace
from nextmv_tui.tui.messages import QueueFailed, QueuePreviewed
from nextmv_tui.tui.state import Change

if TYPE_CHECKING:
    from nextmv_tui.cloud.queue_reader import QueueReader, QueueSnapshot
    from nextmv_tui.tui.screens.main import MainScreen
    from nextmv_tui.tui.settings import Settings
    from nextmv_tui.tui.state import RunStore

APPLY_SLICE = 250
"""Queue entries merged per slice of a large snapshot (a few milliseconds each)."""
PREVIEW_PAINT_WAIT = 10.0
"""The first queue's validation waits for its preview's paint at most this long."""


class QueueApplyMixin(App[int]):
    """Queue answers into the store, for ``NextmvTuiApp``."""

    settings: Settings
    main: MainScreen
    store: RunStore
    queue_reader: QueueReader

    async def _validate_preview(
        self, preview: QueueSnapshot, token: int
    ) -> QueueSnapshot | None:
        """The first queue, read without pydantic, is shown at once; then the same answer
        is validated in steps on the loop (``cloud/steps.py``; after that paint: importing
        pydantic would compete with it) into the snapshot this poll reports, with the same
        rows. An answer pydantic rejects (one the preview should not have taken) has its
        rows withdrawn and is polled again through the client, whose error names the
        field, as before."""
        painted = asyncio.Event()
        self.post_message(QueuePreviewed(preview, token, painted))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(painted.wait(), PREVIEW_PAINT_WAIT)
        assert preview.body is not None
        try:
            return await run_steps_async(self.queue_reader.read_steps(preview.body))
        except MalformedResponseError:
            self.post_message(QueuePreviewed(preview, token, painted, rejected=True))
            return None

    @on(QueuePreviewed)
    def _queue_previewed(self, message: QueuePreviewed) -> None:
        loop_trace.mark(f"queue-previewed {len(message.snapshot.entries)}")
        if not self.store.is_current(message.token):
            message.painted.set()
            return
        if message.rejected:  # its answer did not validate: as if it never came
            self.main.apply_change(self.store.withdraw(message.snapshot))
            return

        def shown(change: Change, now: datetime) -> None:
            self.main.apply_change(change)
            collector.settle(len(change.added))
            self.call_after_refresh(message.painted.set)

        self._apply(message.snapshot, message.token, shown, message.painted.set)

    def _apply(
        self,
        snapshot: QueueSnapshot,
        token: int,
        done: Callable[[Change, datetime], None],
        dropped: Callable[[], None] | None = None,
    ) -> None:
        """Merge ``snapshot`` into the store (in slices if large), then ``done``; if a
        profile switch or a fault stops it, ``dropped``."""
        main = getattr(self, "main", None)
        if main is None or not main.is_mounted:  # faster than the first compose: after it
            self.call_after_refresh(self._apply, snapshot, token, done, dropped)
            return
        if len(snapshot.entries) <= APPLY_SLICE:
            now = self.settings.clock()
            done(self.store.apply_queue(snapshot, token, now), now)
        else:
            self.run_worker(self._apply_in_slices(snapshot, token, done, dropped),
                            group="queue-apply", exit_on_error=False, name="queue apply")

    async def _apply_in_slices(
        self,
        snapshot: QueueSnapshot,
        token: int,
        done: Callable[[Change, datetime], None],
        dropped: Callable[[], None] | None,
    ) -> None:
        """A large snapshot (the first 50,000 runs, a mass change) merged ``APPLY_SLICE``
        entries at a time, yielding to the event loop in between so keys are answered. It
        runs on the loop (not a thread): the store has one writer at a time. The poll is
        reported done only at the end, so no newer snapshot can start meanwhile."""
        now = self.settings.clock()
        steps = self.store.apply_queue_steps(snapshot, token, now, step=APPLY_SLICE)
        change = Change()
        finished = False
        try:
            for partial in steps:
                change = partial  # the same Change, complete after the last step
                if not self.store.is_current(token):
                    return  # the profile was switched meanwhile: drop the rest
                await asyncio.sleep(0)
            finished = True
        except Exception as exc:  # a failed merge is a failed poll (the loop goes on)
            self.post_message(QueueFailed(exc, token))
            return
        finally:
            if not finished and dropped is not None:
                dropped()
        done(change, now)
