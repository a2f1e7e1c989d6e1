"""``nextmv-tui`` (no subcommand): start the Textual monitor.

Everything that can be wrong with the configuration is found here, before Textual takes the
terminal, and reported as one line on stderr with exit code 1. With ``--local`` the local
service of the data dir is used, started if needed; a service this command started is
stopped when the monitor exits (its queued runs persist and resume on its next start), one
that was already running is left alone.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from nextmv_tui.cloud.errors import NextmvError

if TYPE_CHECKING:
    from nextmv_tui.cloud.config import ClientConfig
    from nextmv_tui.tui.prefetch import QueuePrefetch

PROG = "nextmv-tui"


def _refresh(text: str) -> float:
    from nextmv_tui.tui.settings import MAX_REFRESH, MIN_REFRESH

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not math.isfinite(value) or not MIN_REFRESH <= value <= MAX_REFRESH:
        raise argparse.ArgumentTypeError(
            f"must be between {MIN_REFRESH:g} and {MAX_REFRESH:g} seconds, got {text}"
        )
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The monitor's options (the parser is the top-level ``nextmv-tui`` one)."""
    parser.add_argument("--profile", help="profile of ~/.nextmv/config.yaml to use")
    parser.add_argument("--endpoint", help="API endpoint, e.g. https://api.cloud.nextmv.io")
    parser.add_argument("--api-key", dest="api_key", help="API key (default: config/env)")
    parser.add_argument("--app-id", dest="app_id", help="application pre-filled when submitting")
    parser.add_argument(
        "--refresh", type=_refresh, default=2.0, metavar="SECONDS",
        help="queue refresh interval (default 2; + and - change it live)",
    )
    parser.add_argument("--read-only", dest="read_only", action="store_true",
                        help="no submit or cancel")
    parser.add_argument("--bell", action="store_true",
                        help="ring the terminal bell when a marked or submitted run finishes")
    parser.add_argument(
        "--local", action="store_true",
        help="use the local service of the data dir, starting it if it is not running",
    )
    parser.add_argument("--demo", action="store_true",
                        help="with --local: keep submitting a mix of demo runs")
    parser.add_argument("--data-dir", dest="data_dir", type=Path,
                        help="data dir of the local service (with --local)")
    parser.add_argument("--screenshot-dir", dest="screenshot_dir", type=Path,
                        help="folder for screenshots (palette: Screenshot; default: here)")


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return 1


def run(namespace: argparse.Namespace) -> int:
    """Resolve the configuration, run the monitor, stop a service we started."""
    from nextmv_tui.cloud.config import ClientConfig, resolve_config

    args = namespace
    if args.demo and not args.local:
        return _fail("--demo needs --local (it submits runs to the local service)")
    if args.data_dir is not None and not args.local:
        return _fail("--data-dir needs --local")
    handle = None
    if args.local:
        if args.endpoint or args.api_key or args.profile:
            return _fail("--local picks the endpoint and key itself; drop "
                         "--endpoint/--api-key/--profile")
        from nextmv_tui.service.launcher import LauncherError, ensure_running

        try:
            handle = ensure_running(data_dir=args.data_dir)
        except (LauncherError, OSError) as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            message = lines[0].rstrip(":") if lines else exc.__class__.__name__
            if len(lines) > 1:  # the launcher appends the service log's tail: keep its last line
                message += f" — {lines[-1]}"
            return _fail(f"local service: {message}")
        config = ClientConfig(
            endpoint=handle.endpoint,
            api_key=handle.api_key,
            profile="local",
            source=f"local service ({handle.data_dir})",
            verify=handle.verify,
        )
    else:
        try:
            config = resolve_config(
                api_key=args.api_key, endpoint=args.endpoint, profile=args.profile
            )
        except NextmvError as exc:
            return _fail(str(exc))
    from nextmv_tui.tui.prefetch import QueuePrefetch

    # Sent now, answered while Textual and the HTTP stack import (launch time).
    prefetch = QueuePrefetch.start(config.endpoint, config.api_key, config.verify)
    try:
        return _run_app(args, config, prefetch)
    finally:
        if handle is not None and handle.started:
            handle.stop()


def _run_app(args: argparse.Namespace, config: ClientConfig, prefetch: QueuePrefetch | None) -> int:
    from nextmv_tui.tui.app import make_app
    from nextmv_tui.tui.keymap import default_keymap_path
    from nextmv_tui.tui.settings import Settings

    settings = Settings(
        prefetch=prefetch,
        config=config,
        app_id=args.app_id,
        refresh=args.refresh,
        read_only=args.read_only,
        bell=args.bell,
        local=args.local,
        demo=args.demo,
        handle_signals=True,
        keymap_path=default_keymap_path(),
        screenshot_dir=args.screenshot_dir,
    )
    app = make_app(settings)
    app.run()
    return app.return_code or 0
