#!/usr/bin/env bash
# Install Promptyard into .venv and start the workbench on its embedded defaults:
# SQLite, the offline simulator models, and a workspace with the example prompts and datasets.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .

WORKSPACE="${PROMPTYARD_HOME:-$HOME/promptyard-workspace}"
.venv/bin/promptyard init "$WORKSPACE"
exec .venv/bin/promptyard ui --workspace "$WORKSPACE" --port "${PROMPTYARD_PORT:-8501}" --host "${PROMPTYARD_HOST:-127.0.0.1}"
