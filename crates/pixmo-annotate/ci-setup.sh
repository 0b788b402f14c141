#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for pixmo-annotate's tests and prints the line that
# points the tests at it:
#
#   eval "$(crates/pixmo-annotate/ci-setup.sh)"   # exports PIXMO_TEST_POSTGRES_URL
#
# Installs Debian's `postgresql` when missing (needs root, apt), creates a cluster owned by
# the `postgres` user in a temporary folder, listening on loopback only, with a user that
# may create databases (each test makes its own). Progress goes to stderr; stdout carries
# only the export line. Re-running starts a fresh cluster.
set -euo pipefail

PORT="${PIXMO_TEST_POSTGRES_PORT:-55432}"
# A port something already listens on (an earlier run's server) is skipped.
for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then PORT=$((PORT + 1)); else break; fi
done
USER_NAME=pixmo_test
PASSWORD=pixmo_test
DB_NAME=pixmo_test

log() { echo "ci-setup: $*" >&2; }

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    log "installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
fi
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"

as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

DATA="$(mktemp -d "${TMPDIR:-/tmp}/pixmo-pg.XXXXXX")"
chown postgres:postgres "$DATA"
chmod 700 "$DATA"
log "initdb in $DATA"
as_postgres "$BIN/initdb" -D "$DATA/data" -U postgres -A trust -E UTF8 --no-sync >&2
as_postgres "$BIN/pg_ctl" -D "$DATA/data" -l "$DATA/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DATA -c fsync=off" start >&2

psql_admin() { as_postgres psql -v ON_ERROR_STOP=1 -q -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }
psql_admin -c "CREATE ROLE $USER_NAME LOGIN CREATEDB PASSWORD '$PASSWORD'" >&2
psql_admin -c "CREATE DATABASE $DB_NAME OWNER $USER_NAME" >&2
log "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (data $DATA; stop: runuser -u postgres -- $BIN/pg_ctl -D $DATA/data stop)"

echo "export PIXMO_TEST_POSTGRES_URL=postgres://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB_NAME"
