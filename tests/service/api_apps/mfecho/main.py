"""Multi-file test app: summarise inputs/ into outputs/solutions/ and outputs/statistics.json."""

import json
import sys
from pathlib import Path

inputs = Path("inputs")
files = sorted(p for p in inputs.rglob("*") if p.is_file())
if not files:
    print("no input files in inputs/", file=sys.stderr)
    sys.exit(1)
solutions = Path("outputs/solutions")
solutions.mkdir(parents=True, exist_ok=True)
summary = {}
for path in files:
    data = path.read_bytes()
    name = path.relative_to(inputs).as_posix()
    summary[name] = {"bytes": len(data), "lines": data.count(b"\n")}
    print(f"read {name}: {len(data)} bytes", file=sys.stderr)
(solutions / "summary.json").write_text(json.dumps(summary, sort_keys=True))
(solutions / "upper.txt").write_text("".join(p.read_text().upper() for p in files))
stats = {"run": {"duration": 0.0}, "result": {"value": len(files)}}
Path("outputs/statistics.json").write_text(json.dumps({"statistics": stats}))
print("done", file=sys.stderr)
