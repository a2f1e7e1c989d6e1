"""The API key on the command line: ``--api-key-file`` (preferred) and ``--api-key`` (warned).

A key given as ``--api-key KEY`` is in the process's argv, which every local user can read
with ``ps``; the warning says so and names the safe ways, without ever printing the key.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nextmv_tui.cloud.config import read_key_file
from nextmv_tui.cloud.errors import ConfigError


def add_key_arguments(group: Any, env_var: str) -> None:
    """``--api-key`` and ``--api-key-file`` on a parser or argument group."""
    group.add_argument(
        "--api-key", dest="api_key", metavar="KEY",
        help=f"API key (visible to other users in ps: prefer --api-key-file or {env_var})",
    )
    group.add_argument(
        "--api-key-file", dest="api_key_file", type=Path, metavar="FILE",
        help="read the API key from FILE (the key alone on one line)",
    )


def key_from_args(args: argparse.Namespace, env_var: str, prog: str) -> str | None:
    """The key given on the command line, if any (``ConfigError`` for a bad key file).

    ``--api-key`` prints a warning to stderr; giving both options is refused.
    """
    given = getattr(args, "api_key", None)
    path = getattr(args, "api_key_file", None)
    if given and path is not None:
        raise ConfigError("give --api-key or --api-key-file, not both")
    if given:
        print(
            f"{prog}: warning: --api-key puts the key on the command line, where any local "
            f"user can read it with ps; use --api-key-file FILE or {env_var} instead",
            file=sys.stderr,
        )
        return str(given)
    if path is not None:
        return read_key_file(path)
    return None
