"""Command line entry point: the monitor by default, plus ``serve`` and headless commands.

Each subcommand lives in its own module exposing ``add_parser(subparsers)`` that registers
an ``argparse`` parser whose ``handler`` default takes the parsed namespace and returns an
exit code. Heavy imports (Textual, FastAPI) happen inside handlers so ``nextmv-tui queue``
stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from nextmv_tui import __version__

SUBCOMMANDS = ("serve", "queue", "submit", "cancel", "runs", "logs", "output")


def _monitor_parser() -> argparse.ArgumentParser:
    import nextmv_tui.cli.monitor as monitor

    parser = argparse.ArgumentParser(
        prog="nextmv-tui",
        description="Terminal monitor for Nextmv runs. Subcommands: " + ", ".join(SUBCOMMANDS)
        + " (see 'nextmv-tui COMMAND --help').",
    )
    parser.add_argument("--version", action="version", version=f"nextmv-tui {__version__}")
    monitor.add_arguments(parser)
    parser.set_defaults(handler=monitor.run)
    return parser


def _subcommand_parser() -> argparse.ArgumentParser:
    import nextmv_tui.cli.headless as headless
    import nextmv_tui.cli.run_commands as run_commands
    import nextmv_tui.cli.serve as serve

    parser = argparse.ArgumentParser(prog="nextmv-tui")
    sub = parser.add_subparsers(dest="command", required=True)
    serve.add_parser(sub)
    headless.add_parsers(sub)
    run_commands.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in SUBCOMMANDS:
        parser = _subcommand_parser()
    else:
        parser = _monitor_parser()
    args = parser.parse_args(args_list)
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `nextmv-tui output RUN | head`: the reader left
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout
        return 141
    return code


if __name__ == "__main__":
    sys.exit(main())
