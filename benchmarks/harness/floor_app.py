"""The floor: a bare Textual app with a stock DataTable showing the same runs as the monitor.

    python benchmarks/harness/floor_app.py --rows-file QUEUE.json          # launch: paint, stay
    python benchmarks/harness/floor_app.py --endpoint URL [--refresh 2]    # poll and update
                                           [--slow-ms N]                   # deliberately slowed

What the framework costs, and no more: the same ten columns, rows added once, then each
refresh (a chained one-shot timer, like the monitor) fetches only the changed entries from
the synthetic API's ``/bench/delta`` on a thread (stdlib HTTP and json), and updates their
cells by row key inside ``batch_update()``, plus one cell that changes every tick (the
"refreshed" counter, so an idle floor repaints like an idle monitor). The first load
fetches the whole queue the same way. ``--slow-ms`` blocks the event loop that long in every
refresh handler: a known delay, used to check that the harness measures key latency and
loop blocks correctly. With ``NEXTMV_TUI_LOOP_PROBE`` set it carries the monitor's probe.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import time
from typing import Any
from urllib.parse import urlsplit

from textual.app import App, ComposeResult
from textual.widgets import DataTable

COLUMNS = ("status", "id", "name", "app", "instance", "version", "class", "user", "created",
           "in_state")
TITLES = ("Status", "Run ID", "Name", "Application", "Instance", "Version", "Class", "User",
          "Created", "In state")


def cells(entry: dict[str, Any]) -> tuple[str, ...]:
    return (entry.get("status_v2", ""), entry["id"], entry.get("name", ""),
            entry.get("application_id", ""), entry.get("application_instance_id", ""),
            entry.get("application_version_id", ""), entry.get("execution_class", ""),
            entry.get("user_email", ""), entry.get("created_at", "")[:19].replace("T", " "),
            entry.get("status_changed_at", "")[11:19])


def fetch(endpoint: str, path: str) -> list[dict[str, Any]]:
    """Blocking GET + parse (called on a thread)."""
    parts = urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        runs: list[dict[str, Any]] = json.loads(response.read())["runs"]
        return runs
    finally:
        connection.close()


class Floor(App[None]):
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__()
        self.args = args
        self.ticks = 0
        self.keys: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        if os.environ.get("NEXTMV_TUI_LOOP_PROBE"):
            from nextmv_tui.tui import loop_probe

            loop_probe.start_if_enabled()
        table = self.query_one(DataTable)
        for key, title in zip(COLUMNS, TITLES, strict=True):
            table.add_column(title, key=key)
        table.focus()
        if self.args.rows_file:
            with open(self.args.rows_file, encoding="utf-8") as handle:
                self.add_all(json.load(handle)["runs"])
        else:
            self.run_worker(self.first_load(), exit_on_error=False)

    def add_all(self, runs: list[dict[str, Any]]) -> None:
        table = self.query_one(DataTable)
        with self.batch_update():
            keys = table.add_rows(cells(run) for run in runs)
        self.keys = {run["id"]: key for run, key in zip(runs, keys, strict=True)}

    async def first_load(self) -> None:
        runs = await asyncio.to_thread(fetch, self.args.endpoint, "/v1/account/queue")
        self.add_all(runs)
        self.set_timer(self.args.refresh, self.refresh_tick)

    async def refresh_tick(self) -> None:
        changed = await asyncio.to_thread(fetch, self.args.endpoint, "/bench/delta")
        if self.args.slow_ms:
            time.sleep(self.args.slow_ms / 1000)  # deliberate: the harness must see this
        table = self.query_one(DataTable)
        self.ticks += 1
        with self.batch_update():
            for run in changed:
                key = self.keys.get(run["id"])
                if key is not None:
                    row = cells(run)
                    table.update_cell(key, "status", row[0])
                    table.update_cell(key, "in_state", row[9])
            if table.row_count:
                table.update_cell_at((0, 2), f"refreshed {self.ticks}")
        self.set_timer(self.args.refresh, self.refresh_tick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows-file")
    parser.add_argument("--endpoint")
    parser.add_argument("--refresh", type=float, default=2.0)
    parser.add_argument("--slow-ms", type=float, default=0.0)
    args = parser.parse_args()
    Floor(args).run()


if __name__ == "__main__":
    main()
