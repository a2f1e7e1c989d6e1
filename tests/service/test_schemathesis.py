"""Schemathesis against the real service: no request gives a 5xx, and every answer matches
``/openapi.json`` (status, content type and body schema). Bounded: ``--max-time`` seconds of
generated requests (coverage, fuzzing and stateful phases), a fixed seed.

``benchmarks/service_fuzz.py`` runs the same for longer and prints the counts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LocalService

CONFIG = Path(__file__).resolve().parent / "schemathesis" / "schemathesis.toml"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)
MAX_TIME = 15
"""Seconds of generated requests: about 1,000 cases over all 37 operations on a quiet 2-core
machine, a few hundred under load; the assertions ask for > 100 over >= 14. 10 s was tried:
beside a CPU hog it generated 91 cases and failed the bound.
`benchmarks/service_fuzz.py` runs the long fuzz."""


def schemathesis_command(service: LocalService, report: Path, max_time: int, seed: int,
                         max_examples: int = 10) -> list[str]:
    """``st run`` against ``service``, writing its JSON report to ``report``."""
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    if st is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
    command = [
        st, "--config-file", str(CONFIG), "run", f"{service.endpoint}/openapi.json",
        "-H", f"Authorization: Bearer {service.api_key}",
        "--checks", CHECKS, "--max-examples", str(max_examples), "--max-time", str(max_time),
        "--workers", "1", "--seed", str(seed), "--request-timeout", "30",
        "--report", "json", "--report-json-path", str(report),
    ]
    return command


@pytest.mark.slow(seconds=20)
def test_no_5xx_and_every_answer_matches_the_schema(
    local_service: LocalService, tmp_path: Path
) -> None:
    report = tmp_path / "schemathesis.json"
    done = subprocess.run(
        schemathesis_command(local_service, report, MAX_TIME, seed=20261128),
        cwd=tmp_path, capture_output=True, text=True, timeout=MAX_TIME + 240, check=False,
    )
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(report.read_text())
    assert result["test_cases"]["generated"] > 100, result["test_cases"]
    assert result["operations"]["tested"] >= 14, result["operations"]
    assert result["failures"] == [] and done.returncode == 0, done.stdout[-6000:]
