"""The environment an app runs with: an allowlist, never the service's own environment.

The service may be started with secrets in its environment (``NEXTMV_API_KEY``, cloud
credentials, tokens); an app is untrusted code whose logs and output any client can read, so
it gets only what a program needs to run (``PATH``, ``HOME``, locale, time zone, temp dir),
the variables of its run, and what ``serve --app-env`` passes on purpose (e.g. a solver's
license file). ``RUN_ID_VARIABLE`` also marks every process of the run, so one that left the
run's process group is still found (``processes.kill_marked``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

ALLOWED = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR")
"""Variables passed on from the service's environment when set (plus every ``LC_*``)."""

RUN_ID_VARIABLE = "NEXTMV_TUI_RUN_ID"
"""Set to the run's ID in every app process (the kill marker, see ``processes``)."""

RUN_VARIABLES = {"PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
"""Set for every run: Python apps log line by line and write UTF-8 whatever the locale."""

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


def app_environment(
    run_id: str, extra: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of run ``run_id``'s app: the allowlist from ``environ`` (default: the
    service's), the run's variables, then ``extra`` (``serve --app-env``)."""
    source = os.environ if environ is None else environ
    env = {
        name: value
        for name, value in source.items()
        if name in ALLOWED or name.startswith("LC_")
    }
    env.setdefault("PATH", DEFAULT_PATH)
    env.update(RUN_VARIABLES)
    env[RUN_ID_VARIABLE] = run_id
    env.update(extra or {})
    env[RUN_ID_VARIABLE] = run_id  # the marker cannot be overridden
    return env


def parse_app_env(items: list[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``serve --app-env NAME`` (the service's value, if set) or ``NAME=VALUE``.

    Raises ``ValueError`` naming a bad item.
    """
    source = os.environ if environ is None else environ
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not name or not (name[0].isalpha() or name[0] == "_") or not all(
            c.isalnum() or c == "_" for c in name
        ) or not name.isascii():
            raise ValueError(f"{item!r}: expected NAME or NAME=VALUE (NAME of letters, digits, _)")
        if name == RUN_ID_VARIABLE:
            raise ValueError(f"{item!r}: {RUN_ID_VARIABLE} is set by the service for each run")
        if sep:
            out[name] = value
        elif name in source:
            out[name] = source[name]
    return out
