"""What the monitor imports before its first frame (issue 14, launch): modules the first rows
do not need are imported later, on first use. Checked in a fresh interpreter by importing
what ``nextmv-tui`` imports up to ``app.run()``; no timing."""

from __future__ import annotations

import sys

from tests.conftest import fresh_python

LAUNCH = (
    "nextmv_tui.cli", "nextmv_tui.cli.monitor", "nextmv_tui.cli.lifecycle",
    "nextmv_tui.cloud.config", "nextmv_tui.tui.prefetch", "nextmv_tui.tui.settings",
    "nextmv_tui.tui.keymap", "nextmv_tui.tui.driver", "nextmv_tui.tui.app",
)
LATER = (
    "httpx",  # the client: the first queue comes from the stdlib prefetch
    "pydantic",  # the first queue is shown from a msgspec preview, validated after
    "pydantic_core",
    "nextmv_tui.cloud.models",
    "nextmv_tui.cloud.catalog",  # the submit dialog's choices
    "nextmv_tui.tui.statistics",  # a fetched run's statistics table and plot series
    "yaml",
    "plotext",  # the objective plot: when a run with a series is selected
    "nextmv_tui.cloud.client",
    "nextmv_tui.cloud.history_fetch",  # the run history: after the first rows
    "nextmv_tui.tui.forms",  # the submit dialog
    "nextmv_tui.tui.screens.submit",
    "nextmv_tui.tui.screens.confirm_cancel",
    "email.utils",  # Retry-After as an HTTP date
)


def test_the_first_frame_imports_nothing_it_does_not_draw():
    code = (
        "import importlib, sys\n"
        f"for name in {LAUNCH!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(','.join(m for m in {LATER!r} if m in sys.modules))\n"
    )
    out = fresh_python(code)
    assert out == "", f"imported before the first frame: {out}"


def test_the_first_frame_creates_no_dataclass_of_ours():
    """Creating a dataclass costs about 0.8 ms (its methods are generated and compiled), so
    the 47 the launch path once held cost about 40 ms of a 450 ms launch. Value classes on
    that path are ``msgspec.Struct`` (0.02 ms) and messages are plain classes."""
    code = (
        "import dataclasses, importlib, sys\n"
        f"for name in {LAUNCH!r}:\n"
        "    importlib.import_module(name)\n"
        "def classes(scope, name):\n"  # a module's classes and the classes nested in them
        "    for value in list(vars(scope).values()):\n"
        "        if isinstance(value, type) and value.__module__ == name:\n"
        "            yield value\n"
        "            yield from classes(value, name)\n"
        "found = {c.__qualname__ for name, module in list(sys.modules.items())\n"
        "         if name.startswith('nextmv_tui') and module is not None\n"
        "         for c in classes(module, name) if dataclasses.is_dataclass(c)}\n"
        "print(','.join(sorted(found)))\n"
    )
    out = fresh_python(code)
    assert out == "", f"dataclasses before the first frame: {out}"


def test_no_keymap_file_imports_no_yaml(tmp_path):
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from nextmv_tui.tui.keymap import load_keymap\n"
        f"assert load_keymap(Path({str(tmp_path / 'keymap.yaml')!r})) == {{}}\n"
        "print('yaml' in sys.modules)\n"
    )
    out = fresh_python(code)
    assert out == "False"


def test_the_client_is_first_imported_off_the_event_loop(tmp_path, monkeypatch):
    """``import_off_loop`` (used before the client's first use, by the queue poll and the
    detail pane) imports on a worker thread, so the loop is not blocked for pydantic and
    httpx; once loaded, it costs no thread."""
    import asyncio
    import threading

    from nextmv_tui.tui import lazy

    (tmp_path / "offloop_probe.py").write_text(
        "import threading\nTHREAD = threading.current_thread().name\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "offloop_probe", raising=False)

    async def main() -> str:
        await lazy.import_off_loop("offloop_probe")
        return threading.current_thread().name

    loop_thread = asyncio.run(main())
    assert loop_thread != sys.modules["offloop_probe"].THREAD

    def no_thread(*args, **kwargs):
        raise AssertionError("a loaded module was imported again on a thread")

    monkeypatch.setattr(lazy.asyncio, "to_thread", no_thread)
    asyncio.run(lazy.import_off_loop("offloop_probe"))
