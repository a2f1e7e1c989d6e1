"""The opt-in event-loop lag probe the benchmarks read (``NEXTMV_TUI_LOOP_PROBE``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from nextmv_tui.tui import loop_probe


@pytest.fixture(autouse=True)
def no_probe_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop_probe, "_task", None)


def records(path: Path) -> tuple[list[tuple[float, float]], float]:
    found: list[tuple[float, float]] = []
    complete = 0.0
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("# "):
                complete = float(line[2:])
            elif line:
                due, late = line.split()
                found.append((float(due), float(late)))
    return found, complete


async def test_off_by_default_starts_nothing(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(loop_probe.ENV_VAR, raising=False)
    loop_probe.start_if_enabled()
    assert loop_probe._task is None


async def test_a_blocked_loop_is_recorded_with_its_length(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "probe.txt"
    monkeypatch.setenv(loop_probe.ENV_VAR, str(path))
    loop_probe.start_if_enabled()
    task = loop_probe._task
    assert task is not None
    try:
        await asyncio.sleep(0.02)
        blocked_at = time.monotonic()
        time.sleep(0.2)  # the block under test: nothing else can run on the loop meanwhile
        unblocked_at = time.monotonic()
        deadline = time.monotonic() + 10
        while records(path)[1] < unblocked_at and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # polling for the next flush, with a deadline
        found, complete = records(path)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert complete >= unblocked_at
    inside = [late for due, late in found if blocked_at - 0.01 <= due <= unblocked_at]
    assert inside and max(inside) >= 0.15  # ~0.2 s late (more if the machine is busy)


def test_the_trace_names_what_held_the_loop(tmp_path: Path):
    """``NEXTMV_TUI_LOOP_TRACE`` (with the probe): a callback that blocks is written with
    its task and length, next to the probe's block. In a fresh interpreter: the trace
    patches asyncio for the whole process."""
    import subprocess
    import sys

    script = (
        "import asyncio, os, time\n"
        "from nextmv_tui.tui import loop_probe, loop_trace\n"
        "async def hog():\n"
        "    time.sleep(0.1)\n"
        "async def main():\n"
        "    loop_probe.start_if_enabled()\n"
        "    await asyncio.sleep(0.02)\n"
        "    await asyncio.create_task(hog(), name='hog')\n"
        "    deadline = time.monotonic() + 30\n"
        "    path = os.environ['NEXTMV_TUI_LOOP_TRACE'] + f'.{os.getpid()}'\n"
        "    while time.monotonic() < deadline:\n"
        "        text = open(path).read() if os.path.exists(path) else ''\n"
        "        if 'block ' in text and 'hog' in text:\n"
        "            print(text)\n"
        "            return\n"
        "        await asyncio.sleep(0.05)\n"
        "asyncio.run(main())\n"
    )
    env = {**__import__("os").environ, loop_probe.ENV_VAR: str(tmp_path / "probe.txt"),
           "NEXTMV_TUI_LOOP_TRACE": str(tmp_path / "trace")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    hog = [line.split() for line in lines if line.startswith("cb ") and "hog" in line]
    assert hog and float(hog[0][2]) >= 0.09, result.stdout
    blocks = [line.split() for line in lines if line.startswith("block ")]
    assert any(float(b[2]) >= 0.05 for b in blocks), result.stdout
