"""``nextmv-tui serve``: the local Nextmv-compatible run service in the foreground."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from nextmv_tui.cli.keys import add_key_arguments, key_from_args
from nextmv_tui.service.settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_DURATION,
    DEFAULT_MAX_LOG_BYTES,
    DEFAULT_PORT,
    EXIT_PORT_UNAVAILABLE,
    ExecutionClass,
    ServiceSettings,
    default_data_dir,
)

KEY_VARIABLE = "NEXTMV_TUI_API_KEY"
"""The service's key from the environment. Not ``NEXTMV_API_KEY``: that one usually holds the
user's Nextmv Cloud key, which a local service must not silently adopt."""
MIB = 1024 * 1024


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the local Nextmv-compatible run service",
        description="Run the local Nextmv-compatible run service in the foreground. It prints "
        "its endpoint and where its API key is kept (never the key itself).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="runs, uploads, API key and TLS files (default: the user data dir)",
    )
    add_key_arguments(parser, KEY_VARIABLE)
    _add_execution_arguments(parser)
    parser.set_defaults(handler=run)
    return parser


def _add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    """How runs are executed: apps, their environment, limits, classes, TLS."""
    parser.add_argument(
        "--max-log-mb", type=float, default=DEFAULT_MAX_LOG_BYTES / MIB, metavar="MIB",
        help="most log stored per run; past it the log ends with a note and the run goes on "
        f"(default {DEFAULT_MAX_LOG_BYTES // MIB}; 0 means no limit)",
    )
    parser.add_argument(
        "--app-env", action="append", default=[], metavar="NAME[=VALUE]",
        help="give apps this variable (the service's own value, or VALUE) on top of the "
        "allowlist: PATH, HOME, LANG, LANGUAGE, LC_*, TZ, TMPDIR (repeatable)",
    )
    parser.add_argument(
        "--app", dest="apps", type=Path, action="append", default=[], metavar="DIR",
        help="register an app folder containing app.yaml (repeatable)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=DEFAULT_CONCURRENCY,
        help=f"runs executed at once (default {DEFAULT_CONCURRENCY}; 0 keeps every run queued)",
    )
    parser.add_argument(
        "--max-duration", type=float, default=DEFAULT_MAX_DURATION, metavar="SECONDS",
        help="longest a run may execute before it is stopped and failed "
        f"(default {DEFAULT_MAX_DURATION:g}; 0 means no limit)",
    )
    parser.add_argument(
        "--execution-class", dest="classes", action="append", default=[],
        metavar="NAME=N[:SECONDS]",
        help="add an execution class running N runs at once, each for at most SECONDS "
        "(default: --max-duration); runs pick it with configuration.execution_class "
        "(repeatable; the default class is 'local')",
    )
    parser.add_argument(
        "--execution-class-map", dest="class_map", action="append", default=[],
        metavar="PATTERN=CLASS",
        help="run requested execution classes matching the glob PATTERN (e.g. '8c*') on the "
        "execution class CLASS (repeatable, first match wins). Other Cloud-style names "
        "(6c9gb, 8c16gb12h, ...) run on 'local'; any other name is refused",
    )
    parser.add_argument(
        "--no-app-envs", dest="app_envs", action="store_false",
        help="do not build a virtualenv from an app's python.pip-requirements: run Python "
        "apps with this interpreter (offline use; install their requirements here yourself)",
    )
    parser.add_argument(
        "--tls", action="store_true",
        help="serve HTTPS with a self-signed certificate (needed by the official nextmv CLI)",
    )


def parse_class(text: str, default_max: float | None) -> ExecutionClass:
    """``NAME=N[:SECONDS]`` -> ExecutionClass; ValueError naming the bad part."""
    name, sep, rest = text.partition("=")
    if not sep or not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(
            f"{text!r}: expected NAME=N[:SECONDS], NAME of letters, digits, '-' or '_'"
        )
    limit_text, _, seconds_text = rest.partition(":")
    try:
        limit = int(limit_text)
        seconds = float(seconds_text) if seconds_text else default_max
    except ValueError:
        raise ValueError(f"{text!r}: N must be an integer and SECONDS a number") from None
    if limit < 0 or (seconds is not None and seconds < 0):
        raise ValueError(f"{text!r}: N and SECONDS must not be negative")
    return ExecutionClass(name, limit, seconds or None)


def parse_class_map(text: str) -> tuple[str, str]:
    """``PATTERN=CLASS`` -> (pattern, class); ValueError naming the bad part."""
    pattern, sep, pool = text.partition("=")
    if not sep or not pattern.strip() or not pool.strip():
        raise ValueError(f"{text!r}: expected PATTERN=CLASS, e.g. '8c*=big'")
    return pattern.strip(), pool.strip()


class UsageError(Exception):
    """A bad ``serve`` argument: the message is printed after ``nextmv-tui serve:``."""


def _check(args: argparse.Namespace) -> None:
    """Refuse bad numbers and ``--app`` folders with ``UsageError``."""
    if args.concurrency < 0:
        raise UsageError("--concurrency must be 0 or more")
    if args.max_duration < 0:
        raise UsageError("--max-duration must be 0 (no limit) or more")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    if args.max_log_mb < 0:
        raise UsageError("--max-log-mb must be 0 (no limit) or more")
    for app_dir in args.apps:
        problem = "" if app_dir.is_dir() else "no such directory"
        if not problem and not (app_dir / "app.yaml").is_file():
            problem = "no app.yaml in that folder"
        if problem:
            raise UsageError(f"--app {app_dir}: {problem}")


def _key(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(the key given, where it came from): ``--api-key``, ``--api-key-file`` or
    ``NEXTMV_TUI_API_KEY``; (None, None) means the data dir's key file."""
    from nextmv_tui.cloud.errors import NextmvError

    try:
        api_key = key_from_args(args, KEY_VARIABLE, "nextmv-tui serve")
    except NextmvError as exc:
        raise UsageError(str(exc)) from None
    if args.api_key_file is not None:
        return api_key, str(args.api_key_file)
    if api_key is not None:
        return api_key, "--api-key"
    value = os.environ.get(KEY_VARIABLE, "").strip()
    return (value, KEY_VARIABLE) if value else (None, None)


def _settings(args: argparse.Namespace) -> tuple[ServiceSettings, str | None]:
    """The service's settings from the arguments, and where its key came from."""
    from nextmv_tui.service.environment import parse_app_env

    _check(args)
    try:
        extra = tuple(parse_class(text, args.max_duration or None) for text in args.classes)
    except ValueError as exc:
        raise UsageError(f"--execution-class {exc}") from None
    try:
        app_env = parse_app_env(args.app_env)
    except ValueError as exc:
        raise UsageError(f"--app-env {exc}") from None
    try:
        class_map = tuple(parse_class_map(text) for text in args.class_map)
    except ValueError as exc:
        raise UsageError(f"--execution-class-map {exc}") from None
    api_key, key_source = _key(args)
    try:
        settings = _make_settings(args, api_key, app_env, extra, class_map)
    except ValueError as exc:  # a --execution-class-map naming no execution class
        raise UsageError(f"--execution-class-map {exc}") from None
    return settings, key_source


def _make_settings(
    args: argparse.Namespace, api_key: str | None, app_env: dict[str, str],
    extra: tuple[ExecutionClass, ...], class_map: tuple[tuple[str, str], ...],
) -> ServiceSettings:
    return ServiceSettings(
        data_dir=args.data_dir or default_data_dir(),
        host=args.host,
        port=args.port,
        api_key=api_key,
        api_key_file=args.api_key_file,
        max_log_bytes=int(args.max_log_mb * MIB) or None,
        app_env=app_env,
        app_dirs=tuple(args.apps),
        concurrency=args.concurrency,
        max_duration=args.max_duration or None,
        extra_classes=extra,
        class_map=class_map,
        app_envs=args.app_envs,
        tls=args.tls,
    )


def run(args: argparse.Namespace) -> int:
    from nextmv_tui.service.server import PortUnavailableError, ServiceStartError, serve

    try:
        settings, key_source = _settings(args)
    except UsageError as exc:
        print(f"nextmv-tui serve: {exc}", file=sys.stderr)
        return 2

    def announce(endpoint: str, apps: list[str]) -> None:
        if args.api_key_file is not None:
            key_where = f"in {args.api_key_file}"
        elif key_source is not None:
            key_where = f"given with {key_source}"
        else:
            key_where = f"in {settings.api_key_path}"
        print(f"nextmv-tui local service at {endpoint}", flush=True)
        print(f"API key: {key_where}", flush=True)
        if settings.tls:
            print(f"TLS certificate: {settings.tls_dir / 'cert.pem'}", flush=True)
        print(f"apps: {', '.join(apps) or 'none'}", flush=True)
        print(f"data dir: {settings.data_dir}  (Ctrl+C to stop)", flush=True)

    try:
        serve(settings, announce)
    except ServiceStartError as exc:
        print(f"nextmv-tui serve: {exc}", file=sys.stderr)
        return EXIT_PORT_UNAVAILABLE if isinstance(exc, PortUnavailableError) else 1
    return 0
