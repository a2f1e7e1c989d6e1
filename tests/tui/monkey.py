"""The monkey: seeded random use of the monitor, with the invariants checked as it goes.

What it presses is discovered, not hand-listed: every key of every action in the one action
table (``tui/actions.py``), every command of the command palette as the app offers it
(``App.get_system_commands``: Textual's, themes included, and every action), terminal sizes
between 80x24 and 200x60, and whatever screen an action opens (help, submit, cancel
confirmation, jump, save output, the palette, ...), which it pokes at and then closes with
``escape``. A new action or screen is covered without touching this file.

Invariants (``Monkey.check``): the app runs; no unhandled exception reached Textual
(``App._handle_exception``) and no worker ended in error; the queue's poller is never stuck
(not paused means a poll is armed, due or in flight, and an armed one is not long overdue);
successful queue polls keep arriving at the set interval; the selected run is the one under
the table's cursor and the detail pane shows it. A failure names the seed and the last steps,
so ``--monkey-seed SEED`` (or ``MONKEY_SEED``) replays the same sequence.

Used by ``tests/tui/test_monkey.py`` (bounded, in CI) and ``benchmarks/tui_monkey.py``.
"""

from __future__ import annotations

import asyncio
import random
import time
import traceback
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from textual import events
from textual.command import CommandInput, CommandPalette
from textual.keys import _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

from nextmv_tui.tui import actions
from nextmv_tui.tui.app import NextmvTuiApp
from nextmv_tui.tui.poller import Poller
from tests.tui.conftest import palette_hit

SIZES = ((80, 24), (200, 60))
"""The smallest and largest terminal the monkey uses; sizes in between are drawn at random."""
NEVER = frozenset({"quit"})
"""Action IDs the monkey does not press: quitting ends the session under test."""
NEVER_COMMANDS = frozenset({"Quit", "Screenshot"})
"""Palette commands left out: Quit ends the app, Screenshot writes a file to the cwd."""
NAV_KEYS = ("up", "down", "pageup", "pagedown", "home", "end", "tab", "shift+tab", "enter")
MODAL_KEYS = ("tab", "shift+tab", "up", "down", "enter", "space", "y", "n", "backspace", "a",
              "1", "/", ".")
ESCAPES_TO_CLOSE = 4
"""A screen must close after at most this many ``escape`` presses."""
POLL_SLACK = 12.0
"""Room, on top of the interval, for a queue answer on a loaded 2-core machine (seconds)."""
STUCK_AFTER = 10.0
"""An armed poll more overdue than this (seconds) means its timer died."""


class MonkeyFailure(AssertionError):
    pass


@dataclass
class Findings:
    exceptions: list[BaseException] = field(default_factory=list)
    worker_errors: list[str] = field(default_factory=list)
    polls: list[float] = field(default_factory=list)
    """Monotonic times of successful queue polls."""
    intervals: list[float] = field(default_factory=list)
    """The queue's effective interval as each of those polls ended."""
    exits: list[str] = field(default_factory=list)
    """Where ``app.exit`` was called from (the monkey never asks to quit)."""


def watch(app: NextmvTuiApp, findings: Findings) -> Callable[[], None]:
    """Record unhandled exceptions, failed workers and successful polls; returns an undo."""
    original_handle = app._handle_exception

    def handle(error: Exception) -> None:
        findings.exceptions.append(error)
        original_handle(error)

    app._handle_exception = handle  # type: ignore[method-assign]
    original_exit = app.exit

    def exit_(*args: Any, **kwargs: Any) -> None:
        findings.exits.append("".join(traceback.format_stack(limit=12)))
        original_exit(*args, **kwargs)

    app.exit = exit_  # type: ignore[method-assign]
    # Patched on the class, not on ``app.queue``: a profile switch replaces the app's poller,
    # and the successes of the new one must count (patching the first instance made the
    # monkey report "no successful queue poll" for a monitor polling fine after a switch).
    original_success = Poller.poll_succeeded

    def succeeded(self: Poller, next_in: float | None = None) -> Any:
        if self is app.queue:
            findings.polls.append(time.monotonic())
            findings.intervals.append(self.effective_interval())
        return original_success(self, next_in)

    Poller.poll_succeeded = succeeded  # type: ignore[method-assign]
    original_run = Worker._run

    async def run(self: Worker[Any], app_: Any) -> None:
        await original_run(self, app_)
        if self.state == WorkerState.ERROR and self._node.app is app:
            findings.worker_errors.append(f"{self.name}: {self.error!r}")

    Worker._run = run  # type: ignore[method-assign]

    def undo() -> None:
        Worker._run = original_run  # type: ignore[method-assign]
        Poller.poll_succeeded = original_success  # type: ignore[method-assign]

    return undo


def action_keys() -> list[tuple[str, str]]:
    """(action id, key) for every key of every action the monkey may press."""
    return [(action.id, key) for action in actions.ACTIONS if action.id not in NEVER
            for key in actions.keys_of(action, {})]


def palette_titles(app: NextmvTuiApp) -> list[str]:
    """Every palette command the app offers on the current screen (minus NEVER_COMMANDS)."""
    return [command.title for command in app.get_system_commands(app.screen)
            if command.title not in NEVER_COMMANDS]


def plain(renderable: Any, width: int = 200) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    console.file.close()
    return console.export_text()


class Monkey:
    """Drives ``app`` through ``pilot`` with a ``random.Random(seed)``."""

    def __init__(self, app: NextmvTuiApp, pilot: Pilot[Any], seed: int,
                 findings: Findings) -> None:
        self.app = app
        self.pilot = pilot
        self.seed = seed
        self.rng = random.Random(seed)
        self.findings = findings
        self.steps: deque[str] = deque(maxlen=40)
        self.counts: dict[str, int] = {}
        self._keys = action_keys()

    # --- failing with the seed --------------------------------------------------------------

    def fail(self, what: str) -> None:
        recent = "\n  ".join(self.steps)
        raise MonkeyFailure(
            f"monkey seed {self.seed}: {what}\n"
            f"replay: pytest tests/tui/test_monkey.py --monkey-seed {self.seed}\n"
            f"last steps:\n  {recent}"
        )

    def _note(self, kind: str, detail: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.steps.append(f"{kind} {detail} [{type(self.app.screen).__name__}]")

    # --- the steps --------------------------------------------------------------------------

    async def step(self) -> None:
        if self.app.screen is not self.app.main:
            await self._in_screen()
            return
        roll = self.rng.random()
        if roll < 0.30:
            action, key = self.rng.choice(self._keys)
            self._note("key", f"{key} ({action})")
            await self.pilot.press(key)
        elif roll < 0.45:
            await self._burst()
        elif roll < 0.60:
            key = self.rng.choice(NAV_KEYS)
            self._note("nav", key)
            await self.pilot.press(key)
        elif roll < 0.80:
            await self._palette()
        elif roll < 0.85:
            blurred = self.app.queue.blurred
            self._note("focus", "regained" if blurred else "lost")
            self.app.post_message(events.AppFocus() if blurred else events.AppBlur())
        else:
            await self._resize()

    async def _burst(self) -> None:
        """Keys as a fast typist or a terminal sends them: all at once, the app handling
        them as they come (screens opened by one key get the next before they settle)."""
        keys: list[str] = []
        for _ in range(self.rng.randint(2, 6)):
            roll = self.rng.random()
            if roll < 0.5:
                keys.append(self.rng.choice(self._keys)[1])
            elif roll < 0.7:
                keys.append(self.rng.choice((*NAV_KEYS, "escape")))
            else:
                keys += ["ctrl+p", *self.rng.choice(palette_titles(self.app)).lower(), "enter"]
        self._note("burst", " ".join(keys))
        send_burst(self.app, keys)
        await self.pilot.pause()

    async def _resize(self) -> None:
        (w0, h0), (w1, h1) = SIZES
        width, height = self.rng.randint(w0, w1), self.rng.randint(h0, h1)
        if self.rng.random() < 0.3:
            width, height = self.rng.choice(SIZES)
        self._note("resize", f"{width}x{height}")
        await self.pilot.resize_terminal(width, height)

    async def _palette(self) -> None:
        title = self.rng.choice(palette_titles(self.app))
        self._note("palette", title)
        await self.pilot.press("ctrl+p")
        await self._until(lambda: isinstance(self.app.screen, CommandPalette), "the palette")
        self._search(title)
        await self._until(lambda: self._palette_hit_is(title), f"hit {title!r}", quiet=True)
        await self.pilot.press("enter")
        if title == "Theme":
            await self._until(lambda: isinstance(self.app.screen, CommandPalette),
                              "the theme picker", quiet=True)
            theme = self.rng.choice(sorted(self.app.available_themes))
            self._note("theme", theme)
            self._search(theme)
            await self._until(lambda: self._palette_hit_is(theme), f"theme {theme!r}",
                              quiet=True)
            await self.pilot.press("enter")

    def _search(self, text: str) -> None:
        """Type ``text`` into the palette's search field at once (a key per character costs
        the palette a search each, about a second apiece on a loaded machine)."""
        screen = self.app.screen
        if isinstance(screen, CommandPalette):
            screen.query_one(CommandInput).value = text

    def _palette_hit_is(self, text: str) -> bool:
        if not isinstance(self.app.screen, CommandPalette):
            return True  # already closed (or never opened): nothing to wait for
        return palette_hit(self.app) == text

    async def _in_screen(self) -> None:
        """Inside a screen an action opened: poke at it, sometimes close it."""
        roll = self.rng.random()
        if roll < 0.35:
            await self.close_screen()
        elif roll < 0.55:
            text = self._text()
            self._note("type", repr(text))
            await self._type(text)
        elif roll < 0.65:
            await self._resize()
        else:
            key = self.rng.choice(MODAL_KEYS)
            self._note("modal-key", key)
            await self.pilot.press(key)

    def _text(self) -> str:
        """A run ID as listed (sometimes with its application), or some garbage."""
        rows = list(self.app.store.rows.values())
        roll = self.rng.random()
        if rows and roll < 0.4:
            row = self.rng.choice(rows)
            return row.run_id if self.rng.random() < 0.5 else f"{row.app_id}/{row.run_id}"
        return self.rng.choice(["latest", "input.json", "zz", "knap", "ab/cd", "[bold]x", "42"])

    async def _type(self, text: str) -> None:
        """Type ``text`` key by key. Outside a text field a key of a NEVER action is left out:
        in the help screen ``q`` closes it, and the rest of the text reached the main screen,
        where ``q`` quits (seed 163383716)."""
        if not isinstance(self.app.focused, (Input, TextArea)):
            never = {key for action in actions.ACTIONS if action.id in NEVER
                     for key in actions.keys_of(action, {})}
            text = "".join(ch for ch in text if ch not in never)
        await self.pilot.press(*[KEY_NAMES.get(ch, ch) for ch in text])

    async def close_screen(self) -> None:
        """``escape`` until the main screen is back; a screen that will not close fails."""
        start = type(self.app.screen).__name__
        for _ in range(ESCAPES_TO_CLOSE):
            if self.app.screen is self.app.main:
                return
            self._note("escape", "")
            await self.pilot.press("escape")
            await self._settle()
        if self.app.screen is not self.app.main:
            self.fail(f"{start} did not close after {ESCAPES_TO_CLOSE} escapes "
                      f"(now on {type(self.app.screen).__name__})")

    async def _settle(self) -> None:
        await self.pilot.pause()

    async def _until(self, predicate: Callable[[], bool], what: str, timeout: float = 10.0,
                     *, quiet: bool = False) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                if quiet:
                    return
                self.fail(f"timed out waiting for {what}")
            await self.pilot.pause(0.02)

    # --- invariants -------------------------------------------------------------------------

    def check_alive(self) -> None:
        app = self.app
        if self.findings.exceptions:
            self.fail(f"unhandled exception: {self.findings.exceptions[0]!r}")
        if self.findings.worker_errors:
            self.fail(f"worker failed: {self.findings.worker_errors[0]}")
        if not app.is_running:
            called = self.findings.exits[0] if self.findings.exits else "never called"
            self.fail(f"the app is not running (return code {app.return_code!r}, "
                      f"exception {getattr(app, '_exception', None)!r}; app.exit: {called})")

    def check_poller(self) -> None:
        queue = self.app.queue
        now = time.monotonic()
        if queue.paused or queue.stopped:
            return
        if queue.phase == "idle":
            self.fail("queue poller idle while not paused: polling stopped for good")
        if queue.phase == "waiting" and queue.due_at is not None \
                and now - queue.due_at > STUCK_AFTER:
            self.fail(f"queue poll overdue by {now - queue.due_at:.1f} s: its timer died")
        if queue.phase == "waiting" and self.app._queue_timer._timer is None:
            self.fail("queue poller waiting with no timer armed")

    def check_polls_arrive(self, since: float) -> None:
        """While healthy and not paused, the last successful poll is at most an interval
        (plus slack) old."""
        queue = self.app.queue
        if queue.paused or not queue.healthy or queue.phase in ("in_flight", "due"):
            return
        last = max([since, *self.findings.polls])
        gap = time.monotonic() - last
        # A shorter interval set since the last poll re-arms from that poll's end: either
        # interval may be the one in force.
        before = self.findings.intervals[-1] if self.findings.intervals else 0.0
        allowed = max(queue.effective_interval(), before) + POLL_SLACK
        if gap > allowed:
            self.fail(f"no successful queue poll for {gap:.1f} s (interval "
                      f"{queue.effective_interval():g} s, phase {queue.phase})")

    async def check_selection(self) -> None:
        """On the main screen: the selected run is under the cursor and in the detail pane."""
        main = self.app.main
        if self.app.screen is not main:
            return

        def consistent() -> bool:
            selected = main.store.selected
            return selected == main.table.key_at_cursor() and main.detail.run_id == selected

        await self._until(consistent, "selection, cursor and detail pane to agree", quiet=True)
        selected = main.store.selected
        if selected != main.table.key_at_cursor():
            self.fail(f"selected {selected} but the cursor is on {main.table.key_at_cursor()}")
        if main.detail.run_id != selected:
            self.fail(f"selected {selected} but the detail pane follows {main.detail.run_id}")
        if selected is not None and selected not in plain(main.detail.render_info()):
            self.fail(f"the detail pane does not show the selected run {selected}")


def send_burst(app: NextmvTuiApp, keys: Iterable[str]) -> None:
    """Queue key events the way the terminal driver does, without waiting in between
    (``Pilot.press`` waits for the app to go idle after every key)."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        try:
            char: str | None = unicodedata.lookup(_get_unicode_name_from_key(name))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(name, char)
        event.set_sender(app)
        driver.send_message(event)


KEY_NAMES = {
    " ": "space", "/": "slash", ".": "full_stop", "-": "minus", "_": "underscore",
    "[": "left_square_bracket", "]": "right_square_bracket", ":": "colon", "+": "plus",
    "?": "question_mark", ",": "comma", "'": "apostrophe", '"': "quotation_mark",
}
"""Characters that ``Pilot.press`` needs by their Textual key name."""


async def run_monkey(app: NextmvTuiApp, pilot: Pilot[Any], seed: int, seconds: float,
                     findings: Findings, *, on_step: Iterable[Callable[[], None]] = ()) -> Monkey:
    """Random steps for ``seconds``, invariants after each; then close any open screen,
    resume polling and require polls to arrive again."""
    monkey = Monkey(app, pilot, seed, findings)
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        await monkey.step()
        await pilot.pause()
        monkey.check_alive()
        monkey.check_poller()
        monkey.check_polls_arrive(began)
        await monkey.check_selection()
        for hook in on_step:
            hook()
    await monkey.close_screen()
    if app.queue.blurred:
        app.post_message(events.AppFocus())
    if app.queue.paused:
        # The action, not its key: the last step may have left the focus in the filter's
        # input, where ``p`` is typed as text (as it should be) and resumes nothing.
        app.action_toggle_pause()
    before = len(findings.polls)
    deadline = time.monotonic() + 2 * app.queue.effective_interval() + POLL_SLACK
    while len(findings.polls) < before + 2:
        if time.monotonic() > deadline:
            monkey.fail("queue polls did not resume after the monkey stopped")
        await asyncio.sleep(0.05)
        await pilot.pause()
    monkey.check_alive()
    await monkey.check_selection()
    return monkey
