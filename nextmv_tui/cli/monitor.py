"""``nextmv-tui`` (no subcommand): start the Textual monitor.

Everything that can be wrong with the configuration is found here, before Textual takes the
terminal, and reported as one line on stderr with exit code 1. With ``--local`` the local
service of the data dir is used, started if needed, under a lease (``local_session``): the
last ``--local`` monitor out stops a service a monitor started (its queued runs persist and
resume on its next start); one that was already running is left alone.

How it ends (``lifecycle``): ``q``; SIGTERM (exit code 143); SIGHUP or a lost terminal
(129). A signal or a lost terminal ends the process within ``lifecycle.GRACE`` seconds even
if the clean shutdown cannot finish.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from nextmv_tui.cli.keys import add_key_arguments
from nextmv_tui.cloud.errors import NextmvError

if TYPE_CHECKING:
    from nextmv_tui.cli.lifecycle import Lifecycle
    from nextmv_tui.cli.local_session import LocalSession
    from nextmv_tui.cloud.config import ClientConfig
    from nextmv_tui.cloud.history import HistoryOptions
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


def _history(text: str) -> HistoryOptions:
    from nextmv_tui.cloud.history import parse_history

    try:
        return parse_history(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The monitor's options (the parser is the top-level ``nextmv-tui`` one)."""
    parser.add_argument("--profile", help="profile of ~/.nextmv/config.yaml to use")
    parser.add_argument("--endpoint", help="API endpoint, e.g. https://api.cloud.nextmv.io")
    add_key_arguments(parser, "NEXTMV_API_KEY")
    parser.add_argument("--app-id", dest="app_id", help="application pre-filled when submitting")
    parser.add_argument(
        "--refresh", type=_refresh, default=2.0, metavar="SECONDS",
        help="queue refresh interval (default 2; + and - change it live)",
    )
    parser.add_argument(
        "--history", type=_history, default=None, metavar="AGE[:COUNT]",
        help="recent runs of every application, listed at launch and kept fresh: those "
        "created within AGE (default 24h), at most COUNT per application (default 100); "
        "'off' lists none",
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
    """Check the options, then run the monitor under the process lifecycle."""
    from nextmv_tui.tui import collector

    collector.hold_for_launch()  # no collector passes over the imports (tui/collector.py)
    from nextmv_tui.tui.gil import favour_the_loop

    favour_the_loop()  # the loop's turn at the GIL while threads parse (tui/gil.py)
    from nextmv_tui.cli.lifecycle import Lifecycle

    args = namespace
    if args.demo and not args.local:
        return _fail("--demo needs --local (it submits runs to the local service)")
    if args.data_dir is not None and not args.local:
        return _fail("--data-dir needs --local")
    if args.local and (args.endpoint or args.api_key or args.api_key_file or args.profile):
        return _fail("--local picks the endpoint and key itself; drop "
                     "--endpoint/--api-key/--api-key-file/--profile")
    lifecycle = Lifecycle().install()
    try:
        code = _run_monitor(args, lifecycle)
    except BaseException:
        lifecycle.record("error")
        raise
    else:
        lifecycle.record("clean")
    finally:
        lifecycle.uninstall()  # the watchdog, if armed, keeps guarding the exit
    lifecycle.finish(code)  # on a signal or a lost terminal: end now, skip the teardown
    return code


def _run_monitor(args: argparse.Namespace, lifecycle: Lifecycle) -> int:
    """Resolve the configuration, run the monitor, release the local service."""
    from nextmv_tui.cli.keys import key_from_args
    from nextmv_tui.cloud.config import ClientConfig, resolve_config

    session: LocalSession | None = None
    if args.local:
        from nextmv_tui.cli.local_session import LocalSession
        from nextmv_tui.service.launcher import LauncherError
        from nextmv_tui.service.settings import default_data_dir

        session = LocalSession(args.data_dir or default_data_dir())
        try:
            handle = session.open(cancel=lifecycle.exit_requested)
        except (LauncherError, OSError) as exc:
            if lifecycle.exit_requested.is_set():
                return lifecycle.exit_code or 1
            return _fail(f"local service: {_one_line(exc)}")
        lifecycle.add_emergency(session.emergency_release)
        session.supervise()
        config = ClientConfig(
            endpoint=handle.endpoint,
            api_key=handle.api_key,
            profile="local",
            source=f"local service ({handle.data_dir})",
            verify=handle.verify,
        )
    else:
        try:
            key = key_from_args(args, "NEXTMV_API_KEY", PROG)
            config = resolve_config(api_key=key, endpoint=args.endpoint, profile=args.profile)
        except NextmvError as exc:
            return _fail(str(exc))
    from nextmv_tui.tui.prefetch import QueuePrefetch

    # Sent now, answered while Textual and the HTTP stack import (launch time).
    prefetch = QueuePrefetch.start(config.endpoint, config.api_key, config.verify)
    try:
        code = _run_app(args, config, prefetch, lifecycle)
    finally:
        if session is not None:
            session.close(budget=_close_budget(lifecycle))
    if lifecycle.exit_requested.is_set():
        return lifecycle.exit_code or 1
    return code


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    message = lines[0].rstrip(":") if lines else exc.__class__.__name__
    if len(lines) > 1:  # the launcher appends the service log's tail: keep its last line
        message += f" — {lines[-1]}"
    return message


def _close_budget(lifecycle: Lifecycle) -> float | None:
    """None after a normal quit (wait for the service); else what the watchdog leaves."""
    remaining = lifecycle.remaining()
    return None if remaining is None else max(0.0, remaining - 0.3)


def _run_app(
    args: argparse.Namespace,
    config: ClientConfig,
    prefetch: QueuePrefetch | None,
    lifecycle: Lifecycle,
) -> int:
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
        keymap_path=default_keymap_path(),
        screenshot_dir=args.screenshot_dir,
    )
    if args.history is not None:
        settings.history = args.history
    _trust_the_terminal_size()  # before the app's console is made
    app = make_app(settings)
    _use_safe_driver(app, lifecycle)
    if lifecycle.exit_requested.is_set():
        return lifecycle.exit_code or 1
    try:
        app.run()
    except Exception:
        if lifecycle.lost_terminal.is_set():  # nowhere to show it; the exit code says why
            return lifecycle.exit_code or 1
        raise
    finally:
        lifecycle.detach()
    return app.return_code or 0


def _trust_the_terminal_size() -> None:
    """Rich (under Textual) takes COLUMNS/LINES over the terminal's real size, and Textual
    only corrects it on the next SIGWINCH: an exported ``COLUMNS=80`` (some shells,
    scripts, pytest-xdist) drew an 80-column monitor in a wider terminal. On a terminal,
    the terminal is right."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        if os.isatty(sys.__stdout__.fileno()):  # type: ignore[union-attr]
            os.environ.pop("COLUMNS", None)
            os.environ.pop("LINES", None)


def _use_safe_driver(app: object, lifecycle: Lifecycle) -> None:
    """Swap Textual's Linux driver for ours (``tui/driver.py``), unless TEXTUAL_DRIVER
    chose another one."""
    from textual.drivers.linux_driver import LinuxDriver

    from nextmv_tui.tui.driver import driver_class

    if getattr(app, "driver_class", None) is LinuxDriver:
        app.driver_class = driver_class(lifecycle)  # type: ignore[attr-defined]
