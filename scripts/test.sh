#!/usr/bin/env bash
# Install the project with its test extra into .venv and run the whole suite (lint, types, tests).
# pytest runs on PYTEST_WORKERS processes (default 2, the machine's cores) unless -n is given;
# tests that share a module fixture carry an xdist_group (--dist loadgroup).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test,bench]'
# uv's download cache for the app environments the tests build (one small wheel from PyPI):
# kept in the checkout, shared by the workers and by later runs.
export UV_CACHE_DIR="${UV_CACHE_DIR:-$PWD/.uv-cache}"
echo "== ruff"; .venv/bin/ruff check nextmv_tui tests benchmarks scripts
echo "== mypy"; .venv/bin/mypy nextmv_tui
args=("$@")
case " $* " in
  *" -n "*|*" -n="*|*" --numprocesses"*|*" -p no:xdist "*) ;;
  *) args=(-n "${PYTEST_WORKERS:-2}" --dist loadgroup "${args[@]}") ;;
esac
echo "== pytest"; .venv/bin/python -m pytest "${args[@]}"
