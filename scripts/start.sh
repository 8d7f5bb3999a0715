#!/usr/bin/env bash
# Install Promptyard into .venv and start the workbench on its embedded defaults:
# SQLite, the offline simulator models, and a workspace with the example prompts and datasets;
# the trace collector listens beside it on port $PROMPTYARD_COLLECTOR_PORT (4318).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .

WORKSPACE="${PROMPTYARD_HOME:-$HOME/promptyard-workspace}"
.venv/bin/promptyard init "$WORKSPACE"
# The trace collector (OpenTelemetry OTLP/HTTP) runs beside the workbench, so an app can send
# traces at once. --watch-pid $$: `exec` below hands this shell's pid to the workbench, and
# the collector stops when that process ends, however it ends.
.venv/bin/promptyard collect --workspace "$WORKSPACE" --port "${PROMPTYARD_COLLECTOR_PORT:-4318}" \
    --host "${PROMPTYARD_HOST:-127.0.0.1}" --watch-pid $$ &
# Beyond 127.0.0.1 the workbench wants sign-in (docs/team.md); PROMPTYARD_ALLOW_ANONYMOUS=1
# serves it without, on a network you trust.
exec .venv/bin/promptyard ui --workspace "$WORKSPACE" --port "${PROMPTYARD_PORT:-8501}" \
    --host "${PROMPTYARD_HOST:-127.0.0.1}" ${PROMPTYARD_ALLOW_ANONYMOUS:+--allow-anonymous}
