"""The three-layer rule of ARCHITECTURE.md, checked at import time and statically."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "nextmv_tui"


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return _imports_of(path.read_text(encoding="utf-8"), ".".join(parts), is_package)


def _imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    tree = ast.parse(source)
    parts = module.split(".")
    package = parts if is_package else parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def _modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def _offenders(layer: str, forbidden: str, allowed: tuple[str, ...] = ()) -> list[str]:
    bad = []
    for path in _modules(layer):
        for name in _imports(path):
            hit = name == forbidden or name.startswith(forbidden + ".")
            if hit and not any(name == a or name.startswith(a + ".") for a in allowed):
                bad.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return bad


def test_cloud_imports_no_textual_tui_or_service():
    """Import every cloud module in a fresh interpreter and look at sys.modules."""
    modules = [
        "nextmv_tui.cloud." + p.stem for p in _modules("cloud") if p.stem != "__init__"
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


def test_cloud_statically_imports_nothing_of_ours_above_it():
    bad = []
    for layer in ("nextmv_tui.tui", "nextmv_tui.service", "nextmv_tui.cli", "textual"):
        bad += _offenders("cloud", layer)
    assert bad == []


def test_service_never_imports_tui():
    assert _modules("service"), "no service modules found"
    assert _offenders("service", "nextmv_tui.tui") == []
    assert _offenders("service", "textual") == []


def test_tui_imports_service_only_through_the_launcher():
    assert _offenders("tui", "nextmv_tui.service", allowed=("nextmv_tui.service.launcher",)) == []


def test_import_scanner_sees_relative_and_nested_imports():
    """The checker itself must catch ``from ..tui import x`` and imports inside functions."""
    source = "from ..tui import app\nfrom . import store\ndef f():\n    import textual.app\n"
    names = _imports_of(source, "nextmv_tui.service.probe")
    assert {"nextmv_tui.tui", "nextmv_tui.tui.app", "nextmv_tui.service.store"} <= names
    assert "textual.app" in names
    assert "nextmv_tui.cloud.x" in _imports_of("from .cloud import x", "nextmv_tui", True)
