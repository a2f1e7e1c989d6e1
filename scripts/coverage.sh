#!/usr/bin/env bash
# The suite under coverage, measured across the process boundary (pyproject's
# [tool.coverage.run]: patch = subprocess, parallel): the services the tests start with
# `nextmv-tui serve`, the monitors on ptys and xdist's workers count too. Prints a summary per
# package, then per file. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_CACHE_DIR="${UV_CACHE_DIR:-$PWD/.uv-cache}"
# Services are exec'd, not forked from a warm interpreter (tests/service_forks.py): coverage's
# subprocess patch follows an exec.
export NEXTMV_TUI_TEST_EXEC=1
rm -f .coverage .coverage.*
.venv/bin/coverage run -m pytest -q -n "${PYTEST_WORKERS:-2}" --dist loadgroup "$@" || status=$?
.venv/bin/coverage combine -q
.venv/bin/python scripts/coverage_packages.py
.venv/bin/coverage report
exit "${status:-0}"
