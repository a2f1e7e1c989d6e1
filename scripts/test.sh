#!/usr/bin/env bash
# Install the project with its test extra into .venv and run the whole suite (lint, types, tests).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test,bench]'
echo "== ruff"; .venv/bin/ruff check nextmv_tui tests benchmarks scripts
echo "== mypy"; .venv/bin/mypy nextmv_tui
echo "== pytest"; .venv/bin/python -m pytest "$@"
