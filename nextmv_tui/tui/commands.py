"""Command palette provider: every monitor action, by name, next to Textual's system commands.

Each command runs the app action of the same name, so the palette, the keys and the help
screen stay one list of behaviours. An action the app currently refuses (``check_action``,
e.g. cancel on a finished run or in read-only mode) is still listed, and says so when chosen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    action: str
    help: str


COMMANDS: tuple[PaletteCommand, ...] = (
    PaletteCommand("Submit a run", "submit", "s · send an input file or directory as a new run"),
    PaletteCommand("Cancel run", "cancel_run", "c · cancel the selected queued or running run"),
    PaletteCommand("Refresh now", "refresh", "r · fetch the queue right away"),
    PaletteCommand("Pause / resume refresh", "toggle_pause", "p · stop or restart polling"),
    PaletteCommand("Refresh faster", "faster", "+ · shorten the refresh interval"),
    PaletteCommand("Refresh slower", "slower", "- · lengthen the refresh interval"),
    PaletteCommand("Filter runs", "filter", "/ · show only runs matching a text"),
    PaletteCommand("Sort runs", "sort", "o · sort the queue by another column"),
    PaletteCommand("Copy run ID", "copy_run_id", "y · copy the selected run's ID"),
    PaletteCommand("Save output", "save_output", "w · write the selected run's output to a file"),
    PaletteCommand("Mark run", "mark", "m · notify when the selected run finishes"),
    PaletteCommand("Jump to run ID", "jump", "g · select or open a run by its ID"),
    PaletteCommand("Help: keys", "help", "? · show every key"),
    PaletteCommand("Quit", "quit", "q · leave the monitor"),
)
"""Palette entries in display order; ``action`` is the app action name."""


class NextmvCommands(Provider):
    """Palette commands for the monitor's actions (themes come from the system commands)."""

    async def discover(self) -> Hits:
        for command in COMMANDS:
            yield DiscoveryHit(
                command.title, self._runner(command), text=command.title, help=command.help
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in COMMANDS:
            score = max(matcher.match(command.title), matcher.match(command.action) * 0.9)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.title),
                    self._runner(command),
                    text=command.title,
                    help=command.help,
                )

    def _runner(self, command: PaletteCommand) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if self.app.check_action(command.action, ()):
                await self.app.run_action(command.action)
            else:
                self.app.notify(
                    f"{command.title} is not available now.", severity="warning", timeout=3
                )

        return run
