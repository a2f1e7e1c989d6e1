#!/usr/bin/env bash
# Install the project with its test extra into .venv and run the whole suite (lint, types, tests).
# pytest runs on PYTEST_WORKERS processes unless -n is given: 3 by default on the 2-core
# machine, since about a third of a worker's time is spent waiting (on services, apps, timers)
# and two workers left the cores idle that long. Tests that share a module fixture carry an
# xdist_group (--dist loadgroup).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test,bench
# uv's download cache for the app environments the tests build (one small wheel from PyPI):
# kept in the checkout, shared by the workers and by later runs.
export UV_CACHE_DIR="${UV_CACHE_DIR:-$PWD/.uv-cache}"
echo "== ruff"; .venv/bin/ruff check nextmv_tui tests benchmarks scripts
# mypy (about 10 s of one core) runs beside pytest, whose workers leave a core idle at times;
# its report comes after pytest's, and either failing fails the command.
mypy_log="$(mktemp)"; trap 'rm -f "$mypy_log"' EXIT
.venv/bin/mypy nextmv_tui > "$mypy_log" 2>&1 & mypy_pid=$!
args=("$@")
case " $* " in
  *" -n "*|*" -n="*|*" --numprocesses"*|*" -p no:xdist "*) ;;
  *) args=(-n "${PYTEST_WORKERS:-3}" --dist loadgroup "${args[@]}") ;;
esac
echo "== pytest"; status=0; .venv/bin/python -m pytest "${args[@]}" || status=$?
echo "== mypy"; mypy_status=0; wait "$mypy_pid" || mypy_status=$?; cat "$mypy_log"
exit $(( status ? status : mypy_status ))
