"""``nextmv-tui`` argument and configuration errors: one clear line, exit 1, before Textual
takes the terminal (run as a real subprocess so nothing of the test runner interferes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTMV_")}
    env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "nextmv_tui", *args],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "API key"),
        (["--profile", "staging"], "staging"),
        (["--endpoint", "ftp://x", "--api-key", "k"], "http:// or https://"),
        (["--demo"], "--demo needs --local"),
        (["--data-dir", "/tmp/x"], "--data-dir needs --local"),
        (["--local", "--endpoint", "http://x"], "--local picks the endpoint"),
    ],
)
def test_config_errors_print_one_line_and_exit_1(tmp_path, args, expected):
    result = run_cli(args, tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert expected in result.stderr
    assert lines[0].startswith("nextmv-tui: ")
    assert result.stdout == "", "Textual never started"
    assert "\x1b[" not in result.stderr


@pytest.mark.parametrize("value", ["0.1", "abc", "1000", "nan"])
def test_refresh_out_of_range_is_refused(tmp_path, value):
    result = run_cli(["--refresh", value, "--api-key", "k"], tmp_path)
    assert result.returncode == 2
    assert "--refresh" in result.stderr


def test_monitor_module_parses_all_flags():
    import argparse

    from nextmv_tui.cli import monitor

    parser = argparse.ArgumentParser()
    monitor.add_arguments(parser)
    ns = parser.parse_args(
        ["--profile", "p", "--endpoint", "http://h:1", "--api-key", "k", "--app-id", "a",
         "--refresh", "5", "--read-only", "--bell", "--local", "--demo", "--data-dir", "/d"]
    )
    assert (ns.profile, ns.endpoint, ns.api_key, ns.app_id) == ("p", "http://h:1", "k", "a")
    assert ns.refresh == 5.0 and ns.read_only and ns.bell and ns.local and ns.demo
    assert ns.data_dir == Path("/d")
