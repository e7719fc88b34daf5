#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh CMD [ARGS...]
#
# Starts a throwaway PostgreSQL 15 cluster in a temporary directory, creates
# the roles and database the service expects, runs CMD against it and then
# stops the server and deletes the directory -- always, also on failure or
# Ctrl-C. Exits with CMD's exit code.
#
# CMD gets these environment variables:
#   DATABASE_URL                   postgres://privacy_owner:privacy_owner@127.0.0.1:PORT/privacy
#   DATABASE_APP_ROLE              privacy_app
#   SOTU_DATABASE_URL              postgres://privacy_sotu:privacy_sotu@127.0.0.1:PORT/privacy (schema sotu)
#   POSTGRES_TEST_PORT             PORT
#   POSTGRES_SUPERUSER_SOCKET_DIR  unix socket dir (superuser "postgres", trust auth)
#
# Roles:
#   privacy_owner  LOGIN CREATEDB; owns the schema, runs migrations, creates
#                  the test databases; member of privacy_app so tests can
#                  SET ROLE to it.
#   privacy_app    LOGIN; the runtime role.
#   privacy_sotu   LOGIN CREATEDB; owns schema "sotu", the identity-code store
#                  (and its own test database). The other roles get nothing there.
#
# Optional knobs: PG_BINDIR (PostgreSQL binaries), WITH_POSTGRES_PORT (first
# port to try, default 54329).
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

log() { echo "with-postgres: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- PostgreSQL binaries ---------------------------------------------------
# Debian puts the server binaries outside PATH; /usr/bin/psql etc. are
# version-picking wrappers. Prefer the real PostgreSQL 15 tools.
if [ -z "${PG_BINDIR:-}" ]; then
    if [ -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
        PG_BINDIR=/usr/lib/postgresql/15/bin
    elif command -v pg_ctl >/dev/null 2>&1; then
        PG_BINDIR=$(dirname "$(command -v pg_ctl)")
    else
        die "PostgreSQL server binaries not found (install postgresql-15 or set PG_BINDIR)"
    fi
fi
for tool in initdb pg_ctl pg_isready psql; do
    [ -x "$PG_BINDIR/$tool" ] || die "$PG_BINDIR/$tool not found (set PG_BINDIR)"
done

# --- Who runs the server -----------------------------------------------------
# PostgreSQL refuses to run as root, so as root we run the server-side tools
# as the "postgres" system user; otherwise as ourselves. Commands run from
# inside the temp dir so the postgres user never needs access to our cwd.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' system user"
    if command -v runuser >/dev/null 2>&1; then
        as_pg() { (cd "$TMP_DIR" && runuser -u postgres -- "$@"); }
    else
        as_pg() { (cd "$TMP_DIR" && su postgres -s /bin/bash -c "$(printf '%q ' "$@")"); }
    fi
else
    as_pg() { (cd "$TMP_DIR" && "$@"); }
fi

# --- Temp dir and cleanup ----------------------------------------------------
TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/with-postgres.XXXXXX")
DATA_DIR=$TMP_DIR/data
SOCKET_DIR=$TMP_DIR/socket
LOG_FILE=$TMP_DIR/server.log
SERVER_STARTED=0

show_log_tail() {
    if [ -s "$LOG_FILE" ]; then
        log "last 30 lines of the server log ($LOG_FILE):"
        tail -n 30 "$LOG_FILE" >&2 || true
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [ "$SERVER_STARTED" -eq 1 ]; then
        # Fast shutdown; fall back to immediate if it hangs (throwaway data).
        as_pg "$PG_BINDIR/pg_ctl" stop -D "$DATA_DIR" -m fast -t 30 >/dev/null 2>&1 ||
            as_pg "$PG_BINDIR/pg_ctl" stop -D "$DATA_DIR" -m immediate -t 30 >/dev/null 2>&1 ||
            log "WARNING: could not stop the server (data dir $DATA_DIR)"
    fi
    rm -rf "$TMP_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$TMP_DIR"
    as_pg test -w "$TMP_DIR" ||
        die "the postgres user cannot write to $TMP_DIR (set TMPDIR to a directory it can reach)"
fi
as_pg mkdir -m 700 "$SOCKET_DIR"

# --- initdb ------------------------------------------------------------------
# C.UTF-8 gives proper Unicode upper()/lower() (e.g. for ä/ö) with stable
# byte-order sorting; plain C is the fallback if the locale is missing.
LOCALE=C
if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
    LOCALE=C.UTF-8
fi
as_pg "$PG_BINDIR/initdb" -D "$DATA_DIR" --username=postgres \
    --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale="$LOCALE" --no-sync >"$TMP_DIR/initdb.log" 2>&1 ||
    { cat "$TMP_DIR/initdb.log" >&2; die "initdb failed"; }

# Durability is pointless for a throwaway cluster: turn it off for speed.
as_pg tee -a "$DATA_DIR/postgresql.conf" >/dev/null <<EOF

# --- with-postgres.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKET_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

# --- Start on a free port -----------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

PORT=${WITH_POSTGRES_PORT:-54329}
LAST_PORT=$((PORT + 100))
while :; do
    while port_in_use "$PORT"; do
        PORT=$((PORT + 1))
        [ "$PORT" -le "$LAST_PORT" ] || die "no free port found up to $LAST_PORT"
    done
    if as_pg "$PG_BINDIR/pg_ctl" start -D "$DATA_DIR" -l "$LOG_FILE" -w -t 30 \
        -o "-p $PORT" >/dev/null 2>&1; then
        SERVER_STARTED=1
        break
    fi
    # Someone else may have grabbed the port between the probe and the
    # start (parallel runs); try the next one. Anything else is fatal.
    if grep -q 'could not bind\|Address already in use' "$LOG_FILE" 2>/dev/null &&
        [ "$PORT" -lt "$LAST_PORT" ]; then
        PORT=$((PORT + 1))
        continue
    fi
    # pg_ctl may have timed out with the server still coming up: stop it.
    [ -f "$DATA_DIR/postmaster.pid" ] && SERVER_STARTED=1
    show_log_tail
    die "PostgreSQL did not start"
done

# pg_ctl -w already waited; confirm it really accepts TCP connections.
ready=0
for _ in $(seq 1 60); do
    if "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres; then
        ready=1
        break
    fi
    sleep 0.5
done
if [ "$ready" -ne 1 ]; then
    show_log_tail
    die "PostgreSQL is not accepting connections on 127.0.0.1:$PORT after 30 s"
fi

# --- Roles and database -----------------------------------------------------------
as_pg "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PORT" \
    -U postgres -d postgres >/dev/null <<'SQL' || { show_log_tail; die "creating roles failed"; }
CREATE ROLE privacy_owner LOGIN CREATEDB PASSWORD 'privacy_owner';
CREATE ROLE privacy_app LOGIN PASSWORD 'privacy_app';
CREATE ROLE privacy_sotu LOGIN CREATEDB PASSWORD 'privacy_sotu';
GRANT privacy_app TO privacy_owner;
CREATE DATABASE privacy OWNER privacy_owner;
\connect privacy
CREATE SCHEMA sotu AUTHORIZATION privacy_sotu;
SQL

export DATABASE_URL="postgres://privacy_owner:privacy_owner@127.0.0.1:$PORT/privacy"
export DATABASE_APP_ROLE=privacy_app
export SOTU_DATABASE_URL="postgres://privacy_sotu:privacy_sotu@127.0.0.1:$PORT/privacy"
export POSTGRES_TEST_PORT=$PORT
export POSTGRES_SUPERUSER_SOCKET_DIR=$SOCKET_DIR

log "PostgreSQL $("$PG_BINDIR/postgres" -V | awk '{print $3}') on 127.0.0.1:$PORT" \
    "(socket $SOCKET_DIR, data $DATA_DIR), running: $*"

# --- Run CMD ---------------------------------------------------------------------
set +e
"$@"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    log "command exited with status $rc"
    show_log_tail
fi
exit "$rc"
