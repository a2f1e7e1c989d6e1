#!/usr/bin/env bash
# Install the project, with the extras given as the first argument (e.g. "test,bench"), into
# .venv; used by test.sh and demo.sh. uv (a dependency of the project anyway) installs in
# seconds what pip takes a minute for; pip is the fallback if uv cannot be had or cannot reach
# the index. The venv is made without pip (ensurepip costs about 6 s of CPU) and uv is put in it
# by the host's pip. Bytecode is compiled at install (uv does not by default, pip does), and our
# own sources after it: with PYTHONDONTWRITEBYTECODE set, as on this machine, every process the
# tests start (services, monitors, CLIs) would otherwise compile Textual, pydantic and the rest
# from source again (about 250 s of CPU per test run).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
target=".${1:+[$1]}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv --without-pip .venv
if { [ -x .venv/bin/uv ] || "$PYTHON" -m pip --python .venv/bin/python install --quiet uv; } \
    && .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python -e "$target"
then :
else
  echo "uv failed: installing with pip"
  .venv/bin/python -m pip --version > /dev/null 2>&1 || .venv/bin/python -m ensurepip --upgrade
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e "$target"
fi
.venv/bin/python -m compileall -q nextmv_tui tests benchmarks scripts > /dev/null
