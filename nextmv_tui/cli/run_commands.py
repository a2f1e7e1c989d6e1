"""Headless commands that read runs: ``runs``, ``logs`` and ``output``.

Same contract as the other headless commands (``headless.py``): results on stdout, notes and
errors on stderr, every failure one line and exit 1. Everything a run or a server sends is
untrusted: text for a terminal goes through ``cloud.text.sanitize`` (``logs --raw`` writes the
bytes untouched, and only when stdout is not a terminal); JSON goes through ``safe_json``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from nextmv_tui.cli.headless import _add_connection, _clip, _run
from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.errors import NextmvError
from nextmv_tui.cloud.history import parse_age
from nextmv_tui.cloud.models import MAX_INLINE_BYTES, RunList, RunSummary
from nextmv_tui.cloud.polling import live_log_delay
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.cloud.text import safe_json, sanitize

STDOUT_OUTPUT_LIMIT = MAX_INLINE_BYTES
"""Largest JSON output ``output`` prints (it comes inline); larger ones need ``-o FILE``."""
STATUS_WORDS = tuple(s.value for s in RunStatus if s != RunStatus.UNKNOWN)


def add_parsers(subparsers: Any) -> None:
    runs = subparsers.add_parser(
        "runs", help="list recent runs of every application (or of --app)",
        description="List runs newest first, across applications, within an age bound.",
    )
    runs.add_argument("--app", action="append", metavar="APP",
                      help="only this application (repeatable)")
    runs.add_argument("--status", type=_statuses, metavar="S[,S...]",
                      help="only runs in these states: " + ", ".join(STATUS_WORDS))
    runs.add_argument("--since", type=_age, default=24 * 3600.0, metavar="AGE",
                      help="only runs created within AGE, e.g. 90m, 24h, 7d (default 24h)")
    runs.add_argument("--limit", type=_limit, default=100, metavar="N",
                      help="at most N runs (default 100)")
    runs.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_connection(runs)
    runs.set_defaults(handler=run_runs)

    logs = subparsers.add_parser("logs", help="print a run's log",
                                 description="Print a run's log (stderr of the app).")
    logs.add_argument("run_id", metavar="RUN_ID")
    logs.add_argument("--app-id", required=True, help="application ID")
    logs.add_argument("--follow", "-f", action="store_true",
                      help="keep printing new lines until the run ends")
    logs.add_argument("--raw", action="store_true",
                      help="write the log untouched (only when stdout is not a terminal)")
    _add_connection(logs)
    logs.set_defaults(handler=run_logs)

    output = subparsers.add_parser(
        "output", help="print or save a run's output",
        description="Print a run's JSON output, or save any output to a file with -o.",
    )
    output.add_argument("run_id", metavar="RUN_ID")
    output.add_argument("--app-id", required=True, help="application ID")
    output.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="save to FILE (or into a directory), streamed to disk")
    _add_connection(output)
    output.set_defaults(handler=run_output)


def _age(text: str) -> float:
    try:
        return parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _limit(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise argparse.ArgumentTypeError(f"must be an integer from 1 to 100000, got {text!r}")
    return int(text)


def _statuses(text: str) -> frozenset[RunStatus]:
    words = [word.strip() for word in text.split(",")]
    bad = [word for word in words if word not in STATUS_WORDS]
    if bad or not words:
        raise argparse.ArgumentTypeError(
            f"unknown status {bad[0] if bad else text!r}: use {', '.join(STATUS_WORDS)}"
        )
    return frozenset(RunStatus(word) for word in words)


# --- runs ---------------------------------------------------------------------------------


def run_runs(args: argparse.Namespace) -> int:
    async def body(client: NextmvClient) -> int:
        now = datetime.now(timezone.utc)
        since = now - timedelta(seconds=args.since)
        app_ids = args.app or [app.id for app in await client.list_applications()]
        found: list[RunSummary] = []
        for app_id in dict.fromkeys(app_ids):
            found += await _matching(client, app_id, since, args.status, args.limit)
        found.sort(key=lambda run: run.created_at, reverse=True)
        found = found[: args.limit]
        if args.json:
            print(safe_json(RunList(runs=found).to_wire()))
        else:
            print(format_runs(found, now) if found else _nothing(args))
        return 0

    return _run(args, body)


async def _matching(
    client: NextmvClient,
    app_id: str,
    since: datetime,
    statuses: frozenset[RunStatus] | None,
    limit: int,
) -> list[RunSummary]:
    """Up to ``limit`` runs of one application in ``statuses``, newest first."""
    kept: list[RunSummary] = []
    # Without a status filter the count bound can be applied while listing.
    pages = client.recent_runs(app_id, created_after=since, max_runs=None if statuses else limit)
    async for page in pages:
        kept += [run for run in page if statuses is None or run.status_v2 in statuses]
        if len(kept) >= limit:
            break
    return kept[:limit]


def _nothing(args: argparse.Namespace) -> str:
    what = "runs" if not args.status else "/".join(sorted(s.value for s in args.status)) + " runs"
    return f"no {what} created in the last {_age_text(args.since)}"


def _age_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def human_ms(ms: float | None) -> str:
    """``850ms``, ``12.3s``, ``4m05s``, ``2h03m``; ``-`` when unknown."""
    if ms is None:
        return "-"
    seconds = ms / 1000.0
    if seconds < 1:
        return f"{ms:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_runs(runs: Sequence[RunSummary], now: datetime) -> str:
    """An aligned table: status, id, name, app, created (UTC), duration, objective."""
    header = ("STATUS", "ID", "NAME", "APP", "CREATED", "DURATION", "OBJECTIVE")
    rows = [header]
    for run in runs:
        objective = run.objective
        rows.append((
            run.status_v2.value,
            sanitize(run.id, keep_newlines=False),
            _clip(sanitize(run.name, keep_newlines=False) or "-", 40),
            sanitize(run.application_id, keep_newlines=False) or "-",
            run.created_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ"),
            human_ms(run.duration),
            "-" if objective is None else f"{objective:g}",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


# --- logs ---------------------------------------------------------------------------------


def run_logs(args: argparse.Namespace) -> int:
    raw = args.raw and not sys.stdout.isatty()
    if args.raw and not raw:
        print("nextmv-tui: --raw ignored: stdout is a terminal", file=sys.stderr)

    def clean(text: str) -> str:
        return text if raw else sanitize(text)

    async def body(client: NextmvClient) -> int:
        if args.follow:
            return await follow_logs(client, args.app_id, args.run_id, clean)
        text = await client.logs(args.app_id, args.run_id)
        if text:
            sys.stdout.write(clean(text) + ("" if text.endswith("\n") else "\n"))
        return 0

    return _run(args, body)


async def follow_logs(
    client: NextmvClient, app_id: str, run_id: str, clean: Any = sanitize
) -> int:
    """Live logs until the run is final, paced by the server's ``next_available_in_seconds``."""
    since: str | None = None
    while True:
        page = await client.live_logs(app_id, run_id, since)
        for item in page.items:
            sys.stdout.write(clean(item.log) + "\n")
        sys.stdout.flush()
        since = page.next_page_token or since
        if page.status_v2.is_final:
            print(f"{run_id}: {page.status_v2.value}", file=sys.stderr)
            return 0
        await asyncio.sleep(live_log_delay(page.next_available_in_seconds))


# --- output -------------------------------------------------------------------------------


def run_output(args: argparse.Namespace) -> int:
    async def body(client: NextmvClient) -> int:
        if args.output is not None:
            path = await client.save_output(args.app_id, args.run_id, args.output)
            print(f"saved the output of {args.run_id} to {path}", file=sys.stderr)
            return 0
        print(safe_json(await json_output(client, args.app_id, args.run_id)))
        return 0

    return _run(args, body)


async def json_output(client: NextmvClient, app_id: str, run_id: str) -> Any:
    """The run's JSON output, if it is small enough for a terminal; else a clear error."""
    info = await client.run_information(app_id, run_id)
    if info.status != RunStatus.SUCCEEDED:
        raise NextmvError(f"run {run_id} has no output: its status is {info.status.value}")
    kind = info.metadata.format.output.type
    size = int(info.metadata.output_size)
    if kind != "json" or size > STDOUT_OUTPUT_LIMIT:
        raise NextmvError(
            f"the output of run {run_id} is {kind}, {size} bytes: save it with -o FILE"
        )
    result = await client.run_result(app_id, run_id)
    if result.output is None:
        raise NextmvError(f"run {run_id} returned no output")
    return result.output
