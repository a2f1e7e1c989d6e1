"""Schemathesis against the service for longer than CI does: cases run, failures, 5xx found.

    .venv/bin/python benchmarks/service_fuzz.py [--max-time 300] [--rounds 2]

The same command as ``tests/service/test_schemathesis.py`` (same checks, same config, the
same operations left out until their rewrite lands), with a larger time budget and one seed
per round. The anchor is the first round's seed run again: two runs of one seed show how
much the counts move with the machine's load alone. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from hostile_service import REPO

from tests.conftest import LocalService
from tests.service.test_schemathesis import schemathesis_command

SERVER_ERROR = "ST101"
"""Schemathesis's failure code for a 5xx answer (check ``not_a_server_error``)."""


def one_round(max_time: int, seed: int, max_examples: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="nextmv-tui-fuzz-") as tmp:
        root = Path(tmp)
        service = LocalService(root / "data", root / "service.log").start()
        try:
            report = root / "report.json"
            subprocess.run(schemathesis_command(service, report, max_time, seed, max_examples),
                           cwd=root, capture_output=True, text=True, check=False)
            result = json.loads(report.read_text())
        finally:
            service.stop()
    failures = result["failures"]
    server_errors = sum(int(f["count"]) for f in failures if f["code"] == SERVER_ERROR)
    return {
        "seed": seed,
        "cases": result["test_cases"]["generated"],
        "operations": result["operations"]["tested"],
        "failures": sum(int(f["count"]) for f in failures),
        "5xx": server_errors,
        "errors": len(result["errors"]),
        "seconds": round(result["running_time"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-time", type=int, default=300)
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    seeds = [1000 + i for i in range(args.rounds)] + [1000]  # the last: anchor (seed again)
    for index, seed in enumerate(seeds):
        row = one_round(args.max_time, seed, args.max_examples)
        label = "anchor (first seed again)" if index == len(seeds) - 1 else f"round {index + 1}"
        print(f"{label}: {json.dumps(row)}", flush=True)
    print(f"(service from {REPO})")


if __name__ == "__main__":
    main()
