#!/usr/bin/env bash
# Install everything the tests need (Python packages in .venv, Debian's chromium) and run
# the whole suite: lint, types, unit, page and real-browser tests. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fc-list 2>/dev/null | grep -qi "emoji" || need+=(fonts-noto-color-emoji)
if [ ${#need[@]} -gt 0 ]; then
    echo "Installing Debian packages: ${need[*]}"
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# No `pip install --upgrade pip`: slow, and the venv's own pip installs all of this.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# mypy (a minute on a cold cache) runs beside the tests, which leave a core idle while
# they wait on browsers and processes; its report follows pytest's, and either failing
# fails the script.
MYPY_LOG="$(mktemp /tmp/promptyard-mypy.XXXXXX)"
.venv/bin/mypy >"$MYPY_LOG" 2>&1 &
MYPY_PID=$!
echo "== PostgreSQL (a throwaway server for the tests that run on it)"
PGDIR="$(mktemp -d /tmp/promptyard-pg.XXXXXX)"
PGPORT="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
trap 'kill "$MYPY_PID" 2>/dev/null || true; bash scripts/postgres.sh stop "$PGDIR"; rm -rf "$PGDIR" "$MYPY_LOG"' EXIT
PROMPTYARD_TEST_POSTGRES_URL="$(bash scripts/postgres.sh start "$PGDIR" "$PGPORT")"
export PROMPTYARD_TEST_POSTGRES_URL

echo "== pytest"
pytest_status=0
.venv/bin/pytest "$@" || pytest_status=$?
echo "== mypy"
mypy_status=0
wait "$MYPY_PID" || mypy_status=$?
cat "$MYPY_LOG"
if [ "$pytest_status" != 0 ] || [ "$mypy_status" != 0 ]; then
    echo "FAILED: pytest exit $pytest_status, mypy exit $mypy_status" >&2
    exit 1
fi
