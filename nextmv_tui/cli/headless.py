"""Headless commands over the same core the TUI uses: ``queue``, ``submit``, ``cancel``.

Results go to stdout, progress and errors to stderr; every failure is one line and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from nextmv_tui.cli.keys import add_key_arguments, key_from_args
from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.config import ClientConfig, resolve_config
from nextmv_tui.cloud.errors import NextmvError
from nextmv_tui.cloud.models import (
    MAX_INLINE_BYTES,
    CreateRunRequest,
    QueuedRun,
    QueueResponse,
    Queuing,
    RunConfiguration,
    RunInformation,
)
from nextmv_tui.cloud.packaging import package_input
from nextmv_tui.cloud.polling import PROMPT_FIRST, PollingOptions, poll_until_final, prompt_delay
from nextmv_tui.cloud.status import RunStatus
from nextmv_tui.cloud.text import safe_json, sanitize
from nextmv_tui.cloud.units import utc_stamp

ClientFactory = Callable[[ClientConfig], NextmvClient]


def _default_factory(config: ClientConfig) -> NextmvClient:
    return NextmvClient(config)


client_factory: ClientFactory = _default_factory
"""How handlers build their client; tests swap in one with a fault-injecting transport."""


def add_parsers(subparsers: Any) -> None:
    """Register ``queue``, ``submit`` and ``cancel`` on an argparse subparsers object."""
    queue = subparsers.add_parser(
        "queue", help="print the account queue and exit", description="Print the account queue."
    )
    queue.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_connection(queue)
    queue.set_defaults(handler=run_queue)

    submit = subparsers.add_parser(
        "submit",
        help="submit a run and print its ID",
        description="Submit PATH (JSON file, text file, directory or .tar.gz) as a new run.",
    )
    submit.add_argument("path", type=Path, metavar="PATH", help="input file or directory")
    submit.add_argument("--app-id", required=True, help="application ID")
    submit.add_argument("--instance-id", help="instance ID (default: the app's default)")
    submit.add_argument("--name", help="run name")
    submit.add_argument("--description", help="run description")
    submit.add_argument(
        "--option", action="append", type=_option, default=[], metavar="KEY=VALUE",
        help="run option (repeatable)",
    )
    submit.add_argument("--execution-class", help="execution class")
    submit.add_argument(
        "--priority", type=_priority, metavar="1-9", help="queuing priority (1 is highest)"
    )
    submit.add_argument("--no-queuing", action="store_true", help="disable queuing for the run")
    submit.add_argument("--batch-experiment-id", help="batch experiment to attach the run to")
    submit.add_argument(
        "--wait", action="store_true",
        help="follow the run until it ends, print its status, duration, objective and output; "
        "exit 0 only on success",
    )
    submit.add_argument(
        "-o", "--output", type=Path, metavar="PATH",
        help="with --wait: save the output to PATH (a file, or a directory to save into)",
    )
    submit.add_argument(
        "--timeout", type=float, default=-1.0, metavar="S",
        help="with --wait: give up after S seconds (default: no limit)",
    )
    _add_connection(submit)
    submit.set_defaults(handler=run_submit)

    cancel = subparsers.add_parser(
        "cancel", help="cancel a queued or running run", description="Cancel a run."
    )
    cancel.add_argument("run_id", metavar="RUN_ID")
    cancel.add_argument("--app-id", required=True, help="application ID")
    _add_connection(cancel)
    cancel.set_defaults(handler=run_cancel)


def _add_connection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument("--profile", help="profile in ~/.nextmv/config.yaml")
    group.add_argument("--endpoint", help="API endpoint, e.g. https://api.cloud.nextmv.io")
    add_key_arguments(group, "NEXTMV_API_KEY")


def _option(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def _priority(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 9:
        raise argparse.ArgumentTypeError(f"must be an integer from 1 to 9, got {text!r}")
    return value


# --- handlers ------------------------------------------------------------------------------------


def run_queue(args: argparse.Namespace) -> int:
    async def body(client: NextmvClient) -> int:
        runs = await client.account_queue()
        if args.json:
            print(json.dumps(QueueResponse(runs=runs).to_wire(), indent=2))
        else:
            print(format_queue(runs))
        return 0

    return _run(args, body)


def run_submit(args: argparse.Namespace) -> int:
    if args.output is not None and not args.wait:
        return _fail(NextmvError("--output needs --wait (the output exists once the run ends)"))
    try:
        package = package_input(args.path)
    except NextmvError as exc:
        return _fail(exc)
    try:
        for note in package.skipped:
            print(f"skipped {note}", file=sys.stderr)
        request = _create_request(args)

        async def body(client: NextmvClient) -> int:
            progress = _Progress(sys.stderr) if package.needs_upload else None
            run_id = await client.submit(
                args.app_id, package, request, instance_id=args.instance_id, progress=progress
            )
            if progress is not None:
                progress.finish()
            print(run_id, flush=True)
            if not args.wait:
                return 0
            return await _wait(client, args.app_id, run_id, args.timeout, args.output)

        return _run(args, body)
    finally:
        package.cleanup()


def run_cancel(args: argparse.Namespace) -> int:
    async def body(client: NextmvClient) -> int:
        await client.cancel_run(args.app_id, args.run_id)
        print(f"canceled {args.run_id}", file=sys.stderr)
        return 0

    return _run(args, body)


# --- helpers -------------------------------------------------------------------------------


def _run(args: argparse.Namespace, body: Callable[[NextmvClient], Any]) -> int:
    """Resolve the configuration, run ``body`` with a client, turn errors into one line."""
    try:
        key = key_from_args(args, "NEXTMV_API_KEY", "nextmv-tui")
        config = resolve_config(api_key=key, endpoint=args.endpoint, profile=args.profile)
    except NextmvError as exc:
        return _fail(exc)

    async def main() -> int:
        async with client_factory(config) as client:
            code: int = await body(client)
            return code

    try:
        return asyncio.run(main())
    except NextmvError as exc:
        return _fail(exc)


def _fail(exc: BaseException) -> int:
    print(f"nextmv-tui: error: {' '.join(str(exc).split())}", file=sys.stderr)
    return 1


def _create_request(args: argparse.Namespace) -> CreateRunRequest:
    queuing = None
    if args.priority is not None or args.no_queuing:
        queuing = Queuing(priority=args.priority, disabled=True if args.no_queuing else None)
    return CreateRunRequest(
        name=args.name,
        description=args.description,
        options=dict(args.option) or None,
        configuration=RunConfiguration(execution_class=args.execution_class, queuing=queuing),
        batch_experiment_id=args.batch_experiment_id,
    )


async def _wait(
    client: NextmvClient, app_id: str, run_id: str, timeout: float, output: Path | None
) -> int:
    """Follow the run on a prompt schedule (returns within ~1 s of its end), then report it
    and deliver its output: ``output`` if given, stdout for JSON up to 5 MiB, else a file
    named after the run in the current directory."""
    last: list[RunStatus] = []

    def show(info: RunInformation) -> None:
        if not last or last[-1] != info.status:
            last.append(info.status)
            print(f"{run_id}: {info.status.value}", file=sys.stderr, flush=True)

    final = await poll_until_final(
        lambda: client.run_information(app_id, run_id),
        PollingOptions(initial_delay=PROMPT_FIRST, max_duration=timeout),
        on_update=show,
        delay=prompt_delay,
    )
    if final is None:  # pragma: no cover - no stop condition is given
        return 1
    summary = describe_final(final)
    if final.status != RunStatus.SUCCEEDED:
        error = " ".join(final.metadata.error.split())
        reason = f": {sanitize(error)}" if error else ""
        return _fail(NextmvError(f"run {run_id} {summary}{reason}"))
    print(f"{run_id}: {summary}", file=sys.stderr, flush=True)
    if output is None and final.metadata.format.output.type == "json" and (
        final.metadata.output_size <= MAX_INLINE_BYTES
    ):
        result = await client.run_result(app_id, run_id)
        if result.output is not None:
            print(safe_json(result.output), flush=True)
            return 0
    path = await client.save_output(app_id, run_id, output or Path.cwd())
    print(f"{run_id}: output saved to {path}", file=sys.stderr)
    return 0


def describe_final(info: RunInformation) -> str:
    """``succeeded in 10.3 s (ran 10.1 s), objective 90``."""
    meta = info.metadata
    text = f"{info.status.value} in {meta.duration / 1000:.1f} s"
    if meta.execution_duration:
        text += f" (ran {meta.execution_duration / 1000:.1f} s)"
    if meta.objective is not None:
        text += f", objective {meta.objective:g}"
    return text


class _Progress:
    """Upload progress on stderr: redrawn in place on a terminal, a final line otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._last = (0, 0)

    def __call__(self, sent: int, total: int) -> None:
        self._last = (sent, total)
        if self._tty:
            pct = 100 * sent // total if total else 100
            self._stream.write(f"\ruploading {pct:3d}% ({sent}/{total} bytes)")
            self._stream.flush()

    def finish(self) -> None:
        sent, _total = self._last
        prefix = "\r" if self._tty else ""
        self._stream.write(f"{prefix}uploaded {sent} bytes\n")
        self._stream.flush()


def format_queue(runs: Sequence[QueuedRun], now: datetime | None = None) -> str:
    """An aligned table: status, id, name, app, class, created (UTC)."""
    if not runs:
        return "queue is empty"
    header = ("STATUS", "ID", "NAME", "APP", "CLASS", "CREATED")
    rows = [header] + [
        (
            run.status_v2.value,
            sanitize(run.id, keep_newlines=False),
            _clip(sanitize(run.name, keep_newlines=False) or "-", 40),
            sanitize(run.application_id, keep_newlines=False) or "-",
            sanitize(run.execution_class, keep_newlines=False) or "-",
            utc_stamp(run.created_at),
        )
        for run in runs
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
