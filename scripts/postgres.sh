#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests; print its SQLAlchemy URL.
# Usage: scripts/postgres.sh start DIR PORT | stop DIR | restart DIR PORT
set -euo pipefail
action="$1"; dir="$2"; port="${3:-54329}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$bin" ] || { echo "PostgreSQL is not installed" >&2; exit 1; }
run_as() {
    if [ "$(id -u)" = "0" ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}
case "$action" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = "0" ] && chown postgres "$dir"
    run_as "'$bin/initdb' -D '$dir/data' -U postgres -A trust --no-sync -E UTF8 >'$dir/initdb.log' 2>&1"
    run_as "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null"
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    run_as "'$bin/pg_ctl' -D '$dir/data' -m fast stop >/dev/null" || true
    ;;
restart)  # start a stopped server again on its existing data (an outage ends)
    run_as "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null"
    ;;
esac
