"""The three-layer rule of ARCHITECTURE.md: import-linter contracts in pyproject.toml, checked
on every test run, plus one import-time check that the core really loads without Textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_hold():
    """``[tool.importlinter]``: layers cli > tui | service > cloud; cloud and service import
    no Textual; the TUI reaches the service only through ``service.launcher``."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_cloud_loads_without_textual_tui_or_service():
    """Import every cloud module in a fresh interpreter and look at sys.modules."""
    modules = [
        "nextmv_tui.cloud." + p.stem
        for p in sorted((ROOT / "nextmv_tui" / "cloud").glob("*.py"))
        if p.stem != "__init__"
    ]
    assert "nextmv_tui.cloud.client" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')\n"
        "             or m.startswith('nextmv_tui.tui') or m.startswith('nextmv_tui.service'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"cloud pulled in: {result.stdout.strip()}"
