#!/usr/bin/env bash
# Install the project into .venv and start the monitor on the embedded local service, with demo runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/nextmv-tui --local --demo "$@"
