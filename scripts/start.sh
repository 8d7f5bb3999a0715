#!/usr/bin/env bash
# Install Promptyard into .venv and start the workbench on its embedded defaults:
# SQLite, the offline simulator models, and a workspace with the example prompts and datasets;
# the trace collector listens beside it on port $PROMPTYARD_COLLECTOR_PORT (4318).
#
#   bash scripts/start.sh [--no-browser]
#
# pip runs only when the install is missing or pyproject.toml changed since the last one
# (a hash of it is kept in .venv/.promptyard-install); the package is installed editable,
# so code changes need no reinstall. The workbench opens in a browser when one is available
# (a desktop session, or macOS), unless --no-browser or PROMPTYARD_NO_BROWSER=1.
set -euo pipefail
cd "$(dirname "$0")/.."

OPEN_BROWSER=1
for arg in "$@"; do
    case "$arg" in
        --no-browser) OPEN_BROWSER=0 ;;
        -h | --help)
            sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "start.sh: unknown option '$arg' (expected --no-browser)" >&2
            exit 2
            ;;
    esac
done
if [ "${PROMPTYARD_NO_BROWSER:-0}" = "1" ]; then
    OPEN_BROWSER=0
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
STAMP=.venv/.promptyard-install
WANTED="$(.venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read() + sys.version.encode()).hexdigest())')"
if [ -x .venv/bin/promptyard ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANTED" ] \
    && .venv/bin/python -c 'import importlib.metadata as m; m.version("promptyard")' 2>/dev/null; then
    echo "Promptyard is installed and current: skipping pip install"
else
    echo "Installing Promptyard into .venv (pip install -e .)"
    rm -f "$STAMP"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e .
    echo "$WANTED" > "$STAMP"
fi

WORKSPACE="${PROMPTYARD_HOME:-$HOME/promptyard-workspace}"
HOST="${PROMPTYARD_HOST:-127.0.0.1}"
PORT="${PROMPTYARD_PORT:-8501}"
SHOWN_HOST="$HOST"
if [ "$HOST" = "0.0.0.0" ]; then
    SHOWN_HOST=127.0.0.1
fi
URL="http://$SHOWN_HOST:$PORT"
.venv/bin/promptyard init "$WORKSPACE"
# The trace collector (OpenTelemetry OTLP/HTTP) runs beside the workbench, so an app can send
# traces at once. --watch-pid $$: `exec` below hands this shell's pid to the workbench, and
# the collector stops when that process ends, however it ends.
.venv/bin/promptyard collect --workspace "$WORKSPACE" --port "${PROMPTYARD_COLLECTOR_PORT:-4318}" \
    --host "$HOST" --watch-pid $$ &

has_browser() {
    [ "$(uname -s)" = "Darwin" ] || [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]
}
if [ "$OPEN_BROWSER" = "1" ] && has_browser; then
    # Once the server answers its health check, open the page (the default browser).
    (
        .venv/bin/python - "$URL" <<'PY'
import sys, time, urllib.request, webbrowser

url = sys.argv[1]
for _ in range(600):
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
            break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(0)
webbrowser.open(url, new=2)
PY
    ) &
fi
echo "Promptyard workbench: $URL"
# Beyond 127.0.0.1 the workbench wants sign-in (docs/team.md); PROMPTYARD_ALLOW_ANONYMOUS=1
# serves it without, on a network you trust.
exec .venv/bin/promptyard ui --workspace "$WORKSPACE" --port "$PORT" --host "$HOST" \
    ${PROMPTYARD_ALLOW_ANONYMOUS:+--allow-anonymous}
