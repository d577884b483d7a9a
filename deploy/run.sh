#!/usr/bin/env bash
# run.sh: what `make run` does. Starts the embedded PostgreSQL under var/, applies
# migrations, starts every service, restarts a service that dies (with backoff),
# and stops everything on Ctrl-C. Logs (one JSON object a line) go to var/log/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export COAL_VAR=${COAL_VAR:-$ROOT/var}
BIN=${COAL_BIN_DIR:-$ROOT/build/release/bin}
DB=${COAL_DB_NAME:-coalition}
LOGS=$COAL_VAR/log
mkdir -p "$LOGS"

deploy/pg.sh start
deploy/pg.sh migrate "$DB"

export COAL_LEDGER_BIND=${COAL_LEDGER_BIND:-tcp://127.0.0.1:7101}
export COAL_LEDGER_PUBLISH=${COAL_LEDGER_PUBLISH:-tcp://127.0.0.1:7102}
export COAL_MEMBERS_BIND=${COAL_MEMBERS_BIND:-tcp://127.0.0.1:7111}
export COAL_SETTLEMENT_BIND=${COAL_SETTLEMENT_BIND:-tcp://127.0.0.1:7121}
export COAL_DONATION_BIND=${COAL_DONATION_BIND:-tcp://127.0.0.1:7131}
# Clients connect where the servers bind.
export COAL_LEDGER_CONNECT=$COAL_LEDGER_BIND
export COAL_MEMBERS_CONNECT=$COAL_MEMBERS_BIND
export COAL_SETTLEMENT_CONNECT=$COAL_SETTLEMENT_BIND
export COAL_DONATION_CONNECT=$COAL_DONATION_BIND
export COAL_GATEWAY_HOST=${COAL_GATEWAY_HOST:-127.0.0.1}
export COAL_GATEWAY_PORT=${COAL_GATEWAY_PORT:-8080}
export COAL_GATEWAY_SECRETS_DIR=${COAL_GATEWAY_SECRETS_DIR:-$COAL_VAR/secrets}
export COAL_DONATION_SECRETS_DIR=${COAL_DONATION_SECRETS_DIR:-$COAL_VAR/secrets}
# The bus: each service's CURVE key pair lives here (made on its first start, mode
# 0600); the *.pub files are the keys the bus admits. CURVE is used on endpoints
# that leave the machine, or on all of them with COAL_BUS_CURVE=all.
export COAL_BUS_KEYS_DIR=${COAL_BUS_KEYS_DIR:-$COAL_VAR/secrets/bus}
export COAL_BUS_CURVE=${COAL_BUS_CURVE:-auto}

# Services in start order; each line: name, then the command that runs it.
declare -A CMD=(
    [ledger]="env COAL_LEDGER_DB='$(deploy/pg.sh conninfo coal_ledger "$DB")' $BIN/ledger"
    [members]="env COAL_MEMBERS_DB='$(deploy/pg.sh conninfo coal_members "$DB")' $BIN/members"
    [settlement]="env COAL_SETTLEMENT_DB='$(deploy/pg.sh conninfo coal_settlement "$DB")' $BIN/settlement"
    [donation]="env COAL_DONATION_DB='$(deploy/pg.sh conninfo coal_donation "$DB")' $BIN/donation"
    [gateway]="env COAL_GATEWAY_DB='$(deploy/pg.sh conninfo coal_gateway "$DB")' $BIN/gateway"
)
ORDER=(ledger members settlement donation gateway)
declare -A PID STARTED BACKOFF

start() {
    local name=$1
    bash -c "exec ${CMD[$name]}" 2>>"$LOGS/$name.log" &
    PID[$name]=$!
    STARTED[$name]=$SECONDS
}

stop_all() {
    trap - INT TERM
    echo
    echo "run: stopping services"
    for name in "${ORDER[@]}"; do kill "${PID[$name]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
    deploy/pg.sh stop
    exit 0
}
trap stop_all INT TERM

# Every service's bus key pair exists before any starts: a CURVE client needs its
# server's public key to connect, whatever the start order.
for name in "${ORDER[@]}"; do
    bash -c "exec ${CMD[$name]} --bus-keys" >/dev/null 2>>"$LOGS/$name.log" ||
        { echo "run: $name cannot make its bus keys (log: $LOGS/$name.log)" >&2; exit 1; }
done

for name in "${ORDER[@]}"; do
    BACKOFF[$name]=1
    start "$name"
done

# The gateway writes the bootstrap admin key on its first start.
for _ in $(seq 50); do
    [ -s "$COAL_GATEWAY_SECRETS_DIR/admin.key" ] && break
    sleep 0.1
done

cat <<EOF2

  Coalition backend is running (Ctrl-C stops everything).
  HTTP API (gateway)       http://$COAL_GATEWAY_HOST:$COAL_GATEWAY_PORT   (API: proto/openapi.yaml)
  admin key                $COAL_GATEWAY_SECRETS_DIR/admin.key
  ledger     requests      $COAL_LEDGER_BIND
             journal PUB   $COAL_LEDGER_PUBLISH
  members                  $COAL_MEMBERS_BIND
  settlement               $COAL_SETTLEMENT_BIND
  donation                 $COAL_DONATION_BIND   (receipt keys in $COAL_DONATION_SECRETS_DIR)
  bus keys (CURVE: $COAL_BUS_CURVE)  $COAL_BUS_KEYS_DIR
  PostgreSQL socket        $COAL_VAR/pg/run (port ${COAL_PG_PORT:-55432}), database $DB
  logs                     $LOGS/<service>.log

  Try:  curl -s http://$COAL_GATEWAY_HOST:$COAL_GATEWAY_PORT/healthz
        (the README walks through the partner journey with curl)

EOF2

# Supervise: a service that exits is restarted; one that keeps dying within 10 s
# of its start waits longer each time (up to 30 s) so a broken setup does not spin.
while true; do
    sleep 1
    for name in "${ORDER[@]}"; do
        if ! kill -0 "${PID[$name]}" 2>/dev/null; then
            wait "${PID[$name]}" 2>/dev/null && rc=0 || rc=$?
            if (( SECONDS - STARTED[$name] < 10 )); then
                BACKOFF[$name]=$(( BACKOFF[$name] * 2 > 30 ? 30 : BACKOFF[$name] * 2 ))
            else
                BACKOFF[$name]=1
            fi
            echo "run: $name exited (status $rc); restarting in ${BACKOFF[$name]} s (log: $LOGS/$name.log)"
            sleep "${BACKOFF[$name]}"
            start "$name"
        fi
    done
done
