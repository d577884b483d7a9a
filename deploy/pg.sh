#!/usr/bin/env bash
# pg.sh: the embedded local PostgreSQL cluster under var/ (or $COAL_VAR).
#
#   pg.sh init                create the cluster if it does not exist (idempotent)
#   pg.sh start | stop        start / stop it (idempotent; start runs init first)
#   pg.sh status              exit 0 when running
#   pg.sh migrate DB          create DB if missing and apply every service's migrations
#   pg.sh conninfo ROLE [DB]  print the libpq conninfo a service uses
#   pg.sh psql [ARGS]         psql as the cluster superuser (coal_admin)
#
# The server listens on a unix socket in $COAL_VAR/pg/run and on 127.0.0.1:$COAL_PG_PORT
# (default 55432, away from a system cluster's 5432). Durability settings are fixed:
# fsync=on, synchronous_commit=on, full_page_writes=on; the services refuse to start
# otherwise. As root the server runs as the unprivileged user "postgres" (created by
# Debian's postgresql package) because PostgreSQL refuses to run as root.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VAR=${COAL_VAR:-$ROOT/var}
PORT=${COAL_PG_PORT:-55432}
PGBASE=$VAR/pg
DATA=$PGBASE/data
RUN=$PGBASE/run
LOG=$PGBASE/server.log
SUPERUSER=coal_admin
MIGRATIONS=$ROOT/deploy/migrations
# Services in the order their migrations apply; later issues append to this list.
SERVICES=(ledger members settlement donation gateway)

die() { echo "pg.sh: $*" >&2; exit 1; }

bindir() {
    local d
    if command -v pg_config >/dev/null && d=$(pg_config --bindir) && [ -x "$d/initdb" ]; then
        echo "$d"; return
    fi
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] && [ -x "$d/initdb" ] || die "PostgreSQL server binaries not found (run deploy/bootstrap.sh)"
    echo "$d"
}
BIN=$(bindir)

# as_pg CMD...: runs CMD as the server's user (postgres when we are root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

cmd_init() {
    [ -f "$DATA/PG_VERSION" ] && return 0
    mkdir -p "$PGBASE" "$RUN"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "user postgres missing (install the postgresql package)"
        # The server user must reach the cluster through every parent directory.
        local d=$PGBASE
        while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
        chown postgres: "$PGBASE" "$RUN"
    fi
    chmod 700 "$RUN"
    as_pg "$BIN/initdb" -D "$DATA" -U "$SUPERUSER" --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$PGBASE/initdb.log" 2>&1 ||
        { cat "$PGBASE/initdb.log" >&2; die "initdb failed"; }
    as_pg tee "$DATA/coal.conf" >/dev/null <<EOF
# Written by deploy/pg.sh. Durability is not negotiable: the services check these.
fsync = on
synchronous_commit = on
full_page_writes = on
wal_sync_method = fdatasync
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN'
max_connections = 200
shared_buffers = 512MB
wal_buffers = 16MB
max_wal_size = 4GB
checkpoint_timeout = 15min
log_min_messages = warning
log_line_prefix = '%m [%p] %u@%d '
EOF
    echo "include 'coal.conf'" | as_pg tee -a "$DATA/postgresql.conf" >/dev/null
    echo "pg.sh: cluster created in $DATA" >&2
}

running() { as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

cmd_start() {
    cmd_init
    running && return 0
    # -p: the port asked for now wins over the one coal.conf was written with, so
    # a caller that retries on another port (tests/run.sh) gets it.
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PORT" -w -t 60 start >/dev/null ||
        { tail -20 "$LOG" >&2; die "server did not start (log: $LOG)"; }
    echo "pg.sh: PostgreSQL listening on $RUN (port $PORT)" >&2
}

cmd_stop() {
    [ -f "$DATA/PG_VERSION" ] || return 0
    running || return 0
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
    echo "pg.sh: stopped" >&2
}

psql_admin() { PGOPTIONS="-c client_min_messages=warning" "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$PORT" -U "$SUPERUSER" "$@"; }

# migrate DB: every file deploy/migrations/<service>/NNN_*.sql is applied once, in
# order, each in its own transaction, and recorded in public.coal_migrations.
cmd_migrate() {
    local db=${1:-coalition}
    [[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad database name: $db"
    if ! psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        psql_admin -d postgres -c "CREATE DATABASE $db"
    fi
    psql_admin -d "$db" -c "CREATE TABLE IF NOT EXISTS public.coal_migrations (
        service text NOT NULL, version text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, version))"
    local svc f v
    for svc in "${SERVICES[@]}"; do
        for f in "$MIGRATIONS/$svc"/*.sql; do
            [ -e "$f" ] || continue
            v=$(basename "$f" .sql)
            if psql_admin -d "$db" -tAc "SELECT 1 FROM public.coal_migrations
                    WHERE service = '$svc' AND version = '$v'" | grep -q 1; then
                continue
            fi
            { cat "$f"; echo "INSERT INTO public.coal_migrations (service, version) VALUES ('$svc', '$v');"; } |
                psql_admin -d "$db" -1 -f - >/dev/null || die "migration $svc/$v failed"
        done
    done
}

cmd_conninfo() {
    local role=${1:?role} db=${2:-coalition}
    echo "host=$RUN port=$PORT dbname=$db user=$role application_name=$role"
}

case "${1:-}" in
    init) cmd_init ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) running ;;
    migrate) shift; cmd_migrate "$@" ;;
    conninfo) shift; cmd_conninfo "$@" ;;
    psql) shift; psql_admin "$@" ;;
    -h|--help|help|"")
        sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
        ;;
    *) die "unknown command: $1 (see pg.sh --help)" ;;
esac
