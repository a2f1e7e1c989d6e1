"""Reads every file under data/in, writes an upper-cased copy of each under data/out."""

import importlib
import json
import sys
from pathlib import Path

shout = importlib.import_module("lib.helper").shout  # lib/ is copied through a glob

source, target = Path("data/in"), Path("data/out")
count = 0
for path in sorted(p for p in source.rglob("*") if p.is_file()):
    out = target / path.relative_to(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(shout(path.read_text()))
    count += 1
    print(f"converted {path.relative_to(source).as_posix()}")
print(f"multifile: {count} files", file=sys.stderr)
Path("outputs").mkdir(exist_ok=True)
Path("outputs/statistics.json").write_text(json.dumps({"statistics": {"result": {"value": count}}}))
