#!/usr/bin/env bash
# Install the project with its test extra into .venv and run the whole suite (lint, types, tests).
# pytest runs on PYTEST_WORKERS processes unless -n is given: 3 by default on the 2-core
# machine, since about a third of a worker's time is spent waiting (on services, apps, timers)
# and two workers left the cores idle that long. Tests that share a module fixture carry an
# xdist_group (--dist loadgroup).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# uv (a dependency of the project anyway) installs in seconds what pip takes a minute for; pip
# is the fallback if uv cannot be had or cannot reach the index. Bytecode is compiled at install
# (uv does not by default, pip does), and our own sources after it: with PYTHONDONTWRITEBYTECODE
# set, as on this machine, every process the tests start (services, monitors, CLIs) would
# otherwise compile Textual, pydantic and the rest from source again (about 250 s of CPU per run).
if .venv/bin/python -m pip install --quiet uv \
    && .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python \
       -e '.[test,bench]'; then :
else
  echo "uv failed: installing with pip"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[test,bench]'
fi
.venv/bin/python -m compileall -q nextmv_tui tests benchmarks scripts > /dev/null
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
